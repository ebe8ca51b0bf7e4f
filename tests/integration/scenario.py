# scenario: the nginx.conf and page shapes the behaviour tests share.
#
# tailor_http() renders the http{} body for a storefront: static pages under
# html/, a proxied location to a SlowBackend, the status endpoint, and an access
# log of $tailor_status. Directives the built module does not know yet are left
# out (nginx-tests' has()), so the plain tests keep working while the module grows.

import re

from env import IO_TIMEOUT, VALGRIND, module_has, wait_for
from http_client import parse_cookie
from metrics_text import parse_metrics
from tailorctl import encode_profile
from visitor import new_vid, profile_key


PAGE = (b"<!doctype html>\n<html><head><title>shop</title></head>\n<body>\n"
        b"<header>Shop</header>\n"
        b"<tailor-slot name=\"hero\">Welcome, shopper</tailor-slot>\n"
        b"<main>" + b"Lorem ipsum dolor sit amet. " * 200 + b"</main>\n"
        b"<tailor-slot name=\"promo\">Free shipping over $50</tailor-slot>\n"
        b"</body></html>\n")

DEFAULT_HERO = b"<tailor-slot name=\"hero\">Welcome, shopper</tailor-slot>"

# curl-like User-Agents are bots: no events, no decisions
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

# What an order changes on the very next page (issue 16): the hero recommends
# the products viewed, each as <i>SKU</i> (recommended() reads them back), and
# is no promotion itself; the promo slot's sale and the browse-help pop-up are
# promotions, which a visitor who has just bought no longer gets.
AFTER_ORDER_PACK = """\
local t = require "tailor"
t.slot "hero" {
  t.recommendations { sources = { "viewed" }, limit = 5,
                      item_html = [[<i>{{sku}}</i>]], html = [[Recs:{{{items}}}]] },
  promotional = false,
}
t.slot "promo" {
  t.rule "sale" { html = [[SALE NOW]] },
}
t.popup "browse-help" {
  trigger = t.linger(20), intent = "browse",
  html = [[<p>Need a hand?</p>]],
  caps = { per_visit = false, per_day = false, cooldown_hours = false,
           stop_after_conversion = false },
}
"""


def recommended(r):
    """The SKUs AFTER_ORDER_PACK's hero recommends on the page of response r."""
    return re.findall(rb"<i>([^<]+)</i>", r.body)


def profile_for(slots=None, **attrs):
    """A profile (docs/profile.md, schema v1) whose built-in decision fills slot
    NAME with the escaped text of attribute "slot:NAME"; extra keywords become
    further free-form attributes."""
    a = {"slot:" + name: text for name, text in (slots or {}).items()}
    a.update(attrs)
    return {"v": 1, "attrs": a}


def seed(redis, vid, slots=None, **attrs):
    redis.set(profile_key(vid), encode_profile(profile_for(slots, **attrs)))


def known_visitor(redis, sign, slots=None):
    """A new visitor whose profile, seeded in `redis`, fills `slots` (by default the hero
    reads "Hi Ann"); returns the Cookie header of a browser that holds its signed cookie."""
    vid = new_vid()
    seed(redis, vid, {"hero": "Hi Ann"} if slots is None else slots)
    return cookie_header("tailor_vid", sign(vid))


def tailor_http(redis=None, keys=None, backend=None, timeout="1s", consent=None,
                cookie="tailor_vid path=/", http_extra="", location_extra="",
                backend_extra=""):
    has = module_has
    # 1s by default: a test about what the page becomes must not turn into a
    # test of how fast a loaded CI machine answers (the timeout tests set
    # their own budget)
    if VALGRIND and timeout:
        # valgrind runs nginx 20-50 times slower; a few-ms budget would turn
        # every request into a timeout and test nothing but that
        timeout = "5s"
    top = []
    if redis is not None and has("tailor_redis"):
        top.append("tailor_redis %s connect_timeout=100ms;" % redis)
    if keys is not None and has("tailor_keys"):
        top.append("tailor_keys %s;" % keys)
    if consent and has("tailor_consent"):
        top.append("tailor_consent %s;" % consent)
    loc = ["tailor on;"]
    if timeout and has("tailor_timeout"):
        loc.append("tailor_timeout %s;" % timeout)
    if cookie and has("tailor_cookie"):
        loc.append("tailor_cookie %s;" % cookie)
    log = "access_log logs/access.log;"
    if has("tailor_status"):
        top.append("log_format tailor '$request_uri $status $tailor_status [$tailor_vid]';")
        log = "access_log logs/tailor.log tailor;"
    status = ""
    if has("tailor_status"):
        status = "location = /tailor-status { tailor_status; }"
    up = ""
    if backend is not None:
        up = """
        location /up/ {
            %s
            proxy_pass http://%s/;
            proxy_buffering off;
            proxy_http_version 1.1;
            %s
        }""" % ("\n            ".join(loc), backend, backend_extra)
    return """
    %s
    %s

    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;
        root html;
        %s

        location / {
            %s
            %s
        }

        location /plain/ {
            alias html/;
            tailor off;
        }
        %s
        %s
    }
""" % ("\n    ".join(top), http_extra, log, "\n            ".join(loc), location_extra, up,
       status)


def start_shop(nginx, page=PAGE, **kw):
    nginx.write_file("html/index.html", page)
    nginx.write(tailor_http(**kw))
    nginx.start()
    return nginx


def outcomes(nginx):
    """[(uri, status, tailor_status, vid)] from logs/tailor.log, oldest first."""
    out = []
    for line in nginx.read_log("tailor.log").splitlines():
        uri, status, outcome, vid = line.split(" ", 3)
        out.append((uri, int(status), outcome, vid.strip("[]")))
    return out


def last_outcome(nginx, n=1):
    """The outcome of the n-th last logged request (waits for the log line)."""
    wait_for(lambda: len(outcomes(nginx)) >= n, IO_TIMEOUT, "access log line")
    return outcomes(nginx)[-n][2]


def status_metrics(nginx):
    r = nginx.get("/tailor-status")
    assert r.status == 200, r
    return parse_metrics(r.text)


def outcome_count(metrics, outcome):
    """The largest sample labelled outcome=<outcome>, whatever the metric's name."""
    vals = [v for (n, ls), v in metrics.items() if ("outcome", outcome) in ls]
    return max(vals) if vals else 0.0


def cookie_header(name, value):
    return {"Cookie": "%s=%s" % (name, value)}


def set_cookies(resp, name="tailor_vid"):
    return [parse_cookie(v) for v in resp.header_all("Set-Cookie")
            if v.split("=", 1)[0].strip() == name]
