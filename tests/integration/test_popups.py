# Pop-ups end to end, without a browser: the page carries the directives and the
# runtime's tag; the module serves the runtime with cache headers fit for a
# versioned URL; the beacon writes the visitor's caps in Redis (the script runs in
# the real redis-server), so the next request, on any device, no longer renders
# a capped pop-up; and the beacon refuses everything that is not a well-formed,
# same-origin report from a signed visitor with consent, within its rate.
# The pop-up token the beacon requires has its own file, test_popup_tokens.py;
# here beacons carry one minted with the test's key file, as the page would.
# The browser half is test_browser_popups.py.

import base64
import gzip
import hashlib
import hmac
import os
import re
import time

from env import IO_TIMEOUT, VALGRIND, wait_for
from msgpack_codec import msgpack_pack, msgpack_unpack
from nginx_runner import CLOCK_LAG
from tailorctl import encode_profile
from visitor import new_vid, profile_key
import scenario
from scenario import cookie_header

PACK = """\
local t = require "tailor"
t.popup "cart-rescue" {
  trigger = t.exit_intent(), intent = "cart",
  when = t.cart_has_items(),
  html = [[<h2>Still there, {{first_name}}?</h2><a href="/cart" data-tailor-convert>Cart</a>]],
  caps = { per_visit = 1, per_day = 3, cooldown_hours = 12, stop_after_conversion = true },
}
t.popup "browse-help" {
  trigger = t.linger(20), intent = "browse",
  html = [[<p>Need a hand?</p>]],
  caps = { per_visit = false, per_day = false, cooldown_hours = false,
           stop_after_conversion = false },
}
"""

POPUP_LOCATIONS = """
        location = /tailor/popups.js { tailor_popup_runtime; }
        location = /tailor/beacon { tailor_popup_beacon %s; }
"""

PAGE = b"<!doctype html><html><body><main>shop</main></body></html>\n"
DIRECTIVES = re.compile(rb'<script type="application/json" id="tailor-directives">(.*?)</script>')
RUNTIME_TAG = re.compile(rb'<script src="([^"]+)" defer></script></body>')


def shop_http(redis, keys, beacon="rate=30r/m", http_extra=""):
    http = scenario.tailor_http(redis=redis.address, keys=keys.path, timeout="1s",
                                http_extra=http_extra)
    # the module's endpoints sit beside the shop's pages, in the same server
    return http.replace("        location /plain/ {",
                        POPUP_LOCATIONS % beacon + "\n        location /plain/ {", 1)


def start(nginx, redis, keys, beacon="rate=30r/m", http_extra="", events=False, pack=PACK):
    # what these tests check is what gets recorded, not how fast: a loaded
    # machine, a sanitizer or valgrind must not turn a beacon into a 503
    beacon += " timeout=%s" % ("30s" if VALGRIND else "5s")
    nginx.write_file("rules.lua", pack.encode())
    extra = "tailor_rules %s;\n    %s" % (nginx.path("rules.lua"), http_extra)
    if events:
        extra += ("\n    tailor_events on;\n    tailor_events_stream tailor:events;"
                  "\n    tailor_events_flush_interval 5ms;")
    nginx.write_file("html/index.html", PAGE)
    nginx.write(shop_http(redis, keys, beacon, extra))
    nginx.start()
    return nginx


def seed_cart(redis, vid, name="Lena"):
    redis.set(profile_key(vid), encode_profile(
        {"v": 1, "first_name": name, "cart": [{"sku": "DRIPPER-V60", "qty": 1, "price": 2400}]}))


def page(nginx, cookie, **headers):
    headers.update(cookie_header("tailor_vid", cookie))
    r = nginx.get("/index.html", headers=headers)
    assert r.status == 200, r
    return r


def popup_ids(r):
    m = DIRECTIVES.search(r.body)
    return re.findall(rb'"id":"([^"]+)"', m.group(1)) if m else []


def beacon(nginx, cookie, query, origin=True, method="POST", headers=None):
    h = dict(headers or {})
    if cookie is not None:
        h.update(cookie_header("tailor_vid", cookie))
    if origin is True:
        h["Sec-Fetch-Site"] = "same-origin"
    elif origin:
        h["Origin"] = origin
    return nginx.get("/tailor/beacon?" + query, method=method, headers=h)


def popup_token(keys, cookie, popup, issued_at=None, kid=None, nonce=None):
    """The token a page would give `popup` for the visitor of `cookie` (a
    cookie value or a bare vid), minted as docs/popups.md "The token" says,
    with the test's key file (its first key unless `kid`)."""
    vid = cookie.split(".")[0]
    secrets_by_kid = dict(keys.keys)
    kid = kid or keys.keys[0][0]
    if issued_at is None:
        issued_at = int(time.time())
    stamp = "%08x" % issued_at + base64.urlsafe_b64encode(
        nonce or os.urandom(8)).rstrip(b"=").decode()
    msg = "tailor-popup-token\n%s\n%s\n%s.%s" % (vid, popup, kid, stamp)
    mac = hmac.new(bytes.fromhex(secrets_by_kid[kid]), msg.encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (kid, stamp, base64.urlsafe_b64encode(mac[:16]).rstrip(b"=").decode())


def offered(keys, cookie, query, **kw):
    """`query` with `&t=`, a fresh token of its pop-up (`p=`) for the cookie's visitor."""
    popup = re.search(r"(?:^|&)p=([^&]*)", query).group(1)
    return query + "&t=" + popup_token(keys, cookie, popup, **kw)


def page_token(r, popup):
    """The token the page's directives gave `popup`, or None."""
    m = DIRECTIVES.search(r.body)
    if not m:
        return None
    t = re.search(rb'\{"token":"([A-Za-z0-9_.-]+)","id":"%s"' % re.escape(popup.encode()),
                  m.group(1))
    return t.group(1).decode() if t else None


def caps(redis, vid):
    raw = redis.get("tailor:{%s}:caps" % vid)
    return msgpack_unpack(raw) if raw is not None else None


def counter(nginx, name):
    return scenario.status_metrics(nginx).get((name, ()), 0.0)


# ---------------------------------------------------------------------------
# the runtime

def test_the_page_loads_the_runtime_the_module_serves(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)

    r = page(nginx, sign(vid))
    assert popup_ids(r) == [b"cart-rescue"]
    tag = RUNTIME_TAG.search(r.body)
    assert tag, r.body[-400:]
    src = tag.group(1).decode()
    assert re.fullmatch(r"/tailor/popups\.js\?v=[0-9a-f]{12}", src), src
    version = src.split("=", 1)[1]

    js = nginx.get(src)
    assert js.status == 200
    assert js.header("Content-Type") == "application/javascript; charset=utf-8"
    assert js.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert js.header("ETag") == '"%s"' % version
    assert js.header("X-Content-Type-Options") == "nosniff"
    assert b"tailor-directives" in js.body
    # the budget for the client: 3 KB gzipped
    assert len(gzip.compress(js.body, 9)) <= 3072, len(gzip.compress(js.body, 9))

    again = nginx.get(src, headers={"If-None-Match": '"%s"' % version})
    assert again.status == 304 and again.body == b""

    # an old page's URL (or none) still gets the script, but not for a year
    stale = nginx.get("/tailor/popups.js?v=000000000000")
    assert stale.status == 200 and stale.body == js.body
    assert stale.header("Cache-Control") == "public, max-age=300"

    assert nginx.get(src, method="HEAD").body == b""
    assert nginx.get(src, method="POST").status == 405


# PACK without browse-help, which every visitor qualifies for
CART_ONLY_PACK = """\
local t = require "tailor"
t.popup "cart-rescue" {
  trigger = t.exit_intent(), intent = "cart",
  when = t.cart_has_items(),
  html = [[<p>Your cart</p>]],
}
"""


def test_without_a_popup_the_page_carries_neither_directives_nor_runtime(nginx, redis, keys,
                                                                        sign):
    start(nginx, redis, keys, pack=CART_ONLY_PACK)
    # the pack works: a visitor with a cart gets the pop-up, its directives and the runtime
    vid = new_vid()
    seed_cart(redis, vid)
    carted = sign(vid)
    r = page(nginx, carted)
    assert popup_ids(r) == [b"cart-rescue"] and RUNTIME_TAG.search(r.body), r.body

    # no profile, so no cart: no pop-up, and the page is the shop's, byte for byte
    r = page(nginx, sign(new_vid()))
    assert not DIRECTIVES.search(r.body) and b"tailor-directives" not in r.body, r.body
    assert not RUNTIME_TAG.search(r.body) and b"popups.js" not in r.body, r.body
    assert r.body == PAGE

    # with GPC nothing is decided, so not even the visitor with a cart gets either
    r = page(nginx, carted, **{"Sec-GPC": "1"})
    assert b"tailor-directives" not in r.body and b"popups.js" not in r.body, r.body
    assert r.body == PAGE


def test_tailor_popup_urls_moves_both_paths(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, http_extra="tailor_popup_urls /assets/t.js /t/b;")
    r = page(nginx, sign(vid))
    assert b'"beacon":"/t/b"' in r.body
    assert re.search(rb'<script src="/assets/t\.js\?v=[0-9a-f]{12}" defer>', r.body)


# ---------------------------------------------------------------------------
# the beacon writes the caps, and the next page reads them

def test_an_impression_caps_the_popup_on_the_next_request_on_any_device(nginx, redis, keys,
                                                                        sign):
    vid = new_vid()
    seed_cart(redis, vid)
    # events on: the live map counts the visits the per-visit cap is about
    start(nginx, redis, keys, events=True)
    cookie = sign(vid)

    assert popup_ids(page(nginx, cookie)) == [b"cart-rescue"]
    live = wait_for(lambda: redis.get("tailor:{%s}:live" % vid), IO_TIMEOUT,
                    "the page view in the live map")
    assert msgpack_unpack(live)["visits"] == 1
    before = int(time.time() - CLOCK_LAG)
    r = beacon(nginx, cookie, offered(keys, cookie, "e=impression&p=cart-rescue"))
    assert r.status == 204, r
    assert r.header("Cache-Control") == "no-store"

    c = caps(redis, vid)
    assert c["v"] == 1
    rec = c["p"]["cart-rescue"]
    assert len(rec["imp"]) == 1 and before <= rec["imp"][0] <= int(time.time())
    assert rec["visit"] == 1 and rec["visit_imp"] == 1

    # per_visit = 1: the same visitor, even with another browser's request
    # (another device: the same signed id, nothing else in common)
    r = page(nginx, cookie, **{"User-Agent": "Mozilla/5.0 (iPhone) Mobile"})
    assert popup_ids(r) != [b"cart-rescue"]
    assert counter(nginx, "tailor_popup_beacons_recorded_total") == 1


# ---------------------------------------------------------------------------
# only a pack with pop-ups reads the caps

SLOT_ONLY_PACK = """\
local t = require "tailor"
t.slot "hero" { t.rule "hello" { html = [[Hello {{first_name}}]] } }
"""


def getrange_calls(redis):
    """The GETRANGE commands Redis has run: the visitor read sends one per value it asks for
    (store/visitor_read.h)."""
    for line in redis.command("INFO", "commandstats").decode().splitlines():
        if line.startswith("cmdstat_getrange:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def values_read_per_page(nginx, redis, cookie, pages=4):
    before = getrange_calls(redis)
    for _ in range(pages):
        page(nginx, cookie)
    assert scenario.last_outcome(nginx) == "hit"
    return (getrange_calls(redis) - before) / pages


def test_a_pack_with_popups_reads_profile_live_map_and_caps(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, pack=PACK)
    assert values_read_per_page(nginx, redis, sign(vid)) == 3


def test_a_pack_without_popups_leaves_the_caps_unread(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    redis.set("tailor:{%s}:caps" % vid, b"\xc1")  # stored, and not one byte of it asked for
    start(nginx, redis, keys, pack=SLOT_ONLY_PACK)
    assert values_read_per_page(nginx, redis, sign(vid)) == 2


def test_a_beacon_refreshes_the_workers_profile_cache(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, http_extra="tailor_cache size=100 ttl=1h;")
    cookie = sign(vid)
    assert popup_ids(page(nginx, cookie)) == [b"cart-rescue"]
    assert popup_ids(page(nginx, cookie)) == [b"cart-rescue"]
    assert scenario.last_outcome(nginx) == "cached"
    assert beacon(nginx, cookie, offered(keys, cookie, "e=close&p=cart-rescue")).status == 204
    assert popup_ids(page(nginx, cookie)) == [], "the close is seen despite the hour-long ttl"


def test_impressions_are_kept_newest_first_and_bounded(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, beacon="rate=100r/m")
    cookie = sign(vid)
    old = [1700000000 + i for i in range(16)]
    redis.set("tailor:{%s}:caps" % vid, msgpack_pack(
        {"v": 1, "p": {"browse-help": {"imp": old[::-1], "visit": 0, "visit_imp": 0},
                       "other": {"conv": 5, "future_key": "kept"}}}))
    before = int(time.time() - CLOCK_LAG)
    assert beacon(nginx, cookie, offered(keys, cookie, "e=impression&p=browse-help")).status == 204
    c = caps(redis, vid)
    imp = c["p"]["browse-help"]["imp"]
    assert len(imp) == 16 and before <= imp[0] <= int(time.time()), "the new one, now"
    assert imp[1:] == old[::-1][:15]
    assert c["p"]["other"] == {"conv": 5, "future_key": "kept"}, "other records are untouched"


def test_close_and_conversion_are_recorded_and_honoured(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    cookie = sign(vid)

    before = int(time.time() - CLOCK_LAG)
    assert beacon(nginx, cookie, offered(keys, cookie, "e=close&p=cart-rescue")).status == 204
    rec = caps(redis, vid)["p"]["cart-rescue"]
    assert before <= rec["close"] <= int(time.time()) and "imp" not in rec
    assert popup_ids(page(nginx, cookie)) != [b"cart-rescue"], "cooling down after a close"

    other = new_vid()
    seed_cart(redis, other)
    before = int(time.time() - CLOCK_LAG)
    assert beacon(nginx, sign(other),
                  offered(keys, other, "e=conversion&p=cart-rescue")).status == 204
    assert before <= caps(redis, other)["p"]["cart-rescue"]["conv"] <= int(time.time())
    assert popup_ids(page(nginx, sign(other))) != [b"cart-rescue"], "converted: never again"
    assert caps(redis, vid)["p"]["cart-rescue"].get("conv", 0) == 0, "each visitor's own caps"


def test_the_script_is_loaded_again_after_redis_forgets_it(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    assert beacon(nginx, sign(vid), offered(keys, vid, "e=close&p=cart-rescue")).status == 204
    redis.command("SCRIPT", "FLUSH")
    assert beacon(nginx, sign(vid), offered(keys, vid, "e=conversion&p=cart-rescue")).status == 204
    assert caps(redis, vid)["p"]["cart-rescue"]["conv"] > 0


def test_unreadable_caps_are_replaced_and_newer_ones_left_alone(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    key = "tailor:{%s}:caps" % vid
    redis.set(key, b"\xc1garbage")
    assert popup_ids(page(nginx, sign(vid))) == [], "unreadable caps: no pop-up"
    assert beacon(nginx, sign(vid), offered(keys, vid, "e=close&p=cart-rescue")).status == 204
    assert caps(redis, vid)["p"]["cart-rescue"]["close"] > 0

    newer = msgpack_pack({"v": 2, "p": {}})
    redis.set(key, newer)
    nginx.allow_log(r"newer schema")
    r = beacon(nginx, sign(vid), offered(keys, vid, "e=close&p=cart-rescue"))
    assert r.status == 409
    assert redis.get(key) == newer


# ---------------------------------------------------------------------------
# what the beacon refuses

def test_the_beacon_refuses_what_is_not_a_report_from_this_shop(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    cookie = sign(vid)
    ok = offered(keys, cookie, "e=impression&p=cart-rescue")

    assert beacon(nginx, cookie, ok, method="GET").status == 405
    assert beacon(nginx, cookie, ok, origin=None).status == 403, "no Origin, no Sec-Fetch-Site"
    assert beacon(nginx, cookie, ok, origin="https://evil.example").status == 403
    assert beacon(nginx, cookie, ok, origin=False,
                  headers={"Sec-Fetch-Site": "cross-site"}).status == 403
    assert beacon(nginx, cookie, ok, origin=False,
                  headers={"Sec-Fetch-Site": "same-site"}).status == 403
    assert beacon(nginx, None, ok).status == 403, "no visitor cookie"
    assert beacon(nginx, cookie[:-2] + "xx", ok).status == 403, "a forged signature"
    assert beacon(nginx, cookie, ok, headers={"Sec-GPC": "1"}).status == 403, "GPC"
    t = "&t=" + popup_token(keys, cookie, "cart-rescue")
    for bad in ("e=shown&p=cart-rescue" + t, "p=cart-rescue" + t, "e=close" + t,
                "e=close&p=a%7D:profile" + t, "e=close&p=cart-rescue&p=x" + t,
                offered(keys, cookie, "e=close&p=no-such-popup")):
        assert beacon(nginx, cookie, bad).status == 400, bad
    # a visitor can't write another's caps: the id comes from the signed cookie only
    other = new_vid()
    assert beacon(nginx, cookie, ok + "&vid=" + other).status == 204
    assert caps(redis, other) is None

    assert counter(nginx, "tailor_popup_beacons_rejected_total") == 14
    assert counter(nginx, "tailor_popup_beacons_recorded_total") == 1
    # an Origin naming the host the request went to is as good as Sec-Fetch-Site
    close = lambda: offered(keys, cookie, "e=close&p=cart-rescue")  # noqa: E731
    assert beacon(nginx, cookie, close(), origin="http://localhost").status == 204
    assert beacon(nginx, cookie, close(), origin="http://LocalHost").status == 204
    assert beacon(nginx, cookie, close(), origin="http://localhost.evil.example").status == 403
    assert beacon(nginx, cookie, close(),
                  origin="https://localhost").status == 403, "the scheme is part of the origin"


def test_the_beacon_is_rate_limited_per_visitor(nginx, redis, keys, sign):
    a, b = new_vid(), new_vid()
    start(nginx, redis, keys, beacon="rate=3r/m")
    for _ in range(3):
        assert beacon(nginx, sign(a), offered(keys, a, "e=close&p=browse-help")).status == 204
    assert beacon(nginx, sign(a), offered(keys, a, "e=close&p=browse-help")).status == 429
    assert beacon(nginx, sign(b), offered(keys, b, "e=close&p=browse-help")).status == 204, \
        "per visitor"
    assert counter(nginx, "tailor_popup_beacons_limited_total") == 1
    assert 0 < redis.command("TTL", "tailor:{%s}:beacon" % a) <= 60


def test_redis_down_answers_503_and_the_page_still_serves(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    nginx.allow_log(r"beacon not recorded|redis|Redis")
    redis.kill()
    assert beacon(nginx, sign(vid), offered(keys, vid, "e=close&p=cart-rescue")).status == 503
    assert page(nginx, sign(vid)).status == 200
    assert counter(nginx, "tailor_popup_beacons_failed_total") >= 1


def test_beacon_events_go_on_the_stream(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, events=True)
    cookie = sign(vid)
    # the real flow: the token the page gave the pop-up, for both reports
    t = "&t=" + page_token(page(nginx, cookie), "cart-rescue")
    assert beacon(nginx, cookie, "e=impression&p=cart-rescue" + t).status == 204
    assert beacon(nginx, cookie, "e=conversion&p=cart-rescue" + t).status == 204
    assert beacon(nginx, cookie, "e=shown&p=cart-rescue" + t).status == 400

    def promos():
        out = []
        for _, kv in redis.command("XRANGE", "tailor:events", "-", "+"):
            fields = {kv[i].decode(): kv[i + 1] for i in range(0, len(kv), 2)}
            e = msgpack_unpack(fields["e"])
            if e["type"].startswith("Promotion"):
                out.append(e)
        return out if len(out) >= 2 else None

    events = wait_for(promos, IO_TIMEOUT, "two promotion events")
    assert [e["type"] for e in events] == ["Promotion Viewed", "Promotion Clicked"]
    for e in events:
        assert e["vid"] == vid
        assert e["props"] == {"promotion_id": "cart-rescue", "creative": "popup"}
        assert e["exp"] == [["cart-rescue", "popup", "offered"]]


# ---------------------------------------------------------------------------
# configuration

def test_nginx_t_names_bad_beacon_parameters(nginx, redis, keys):
    for args, reason in (("rate=30", "invalid rate"), ("rate=0r/m", "invalid rate"),
                         ("caps_ttl=forever", "invalid caps_ttl"),
                         ("timeout=0", "invalid timeout"), ("burst=5", "invalid parameter"),
                         ("token_max_age=30s", "invalid token_max_age"),
                         ("token_max_age=8d", "invalid token_max_age")):
        nginx.write(shop_http(redis, keys, beacon=args))
        rc, out = nginx.test_config()
        assert rc != 0, args
        assert reason in out, out
        assert "nginx.conf:%d" % nginx.line_of("tailor_popup_beacon") in out, out


def test_nginx_t_wants_redis_and_keys_for_the_beacon(nginx):
    nginx.write("""
    server {
        listen 127.0.0.1:{{PORT}};
        location = /tailor/beacon { tailor_popup_beacon; }
    }
""")
    rc, out = nginx.test_config()
    assert rc != 0
    assert '"tailor_popup_beacon" needs "tailor_keys"' in out, out
