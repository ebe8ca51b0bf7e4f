# The upstream tells the truth (issue 16): the shop's backend declares an event in
# X-Tailor-Event; the module emits it under the visitor's id, so an order with its
# products[] updates the very next page (the product is no longer recommended,
# promotions stop). Only a fresh upstream response counts: never a proxy_cache hit,
# never a client's header; the header never reaches the client; a malformed,
# oversized or personal header is dropped, counted by reason and logged.

import json
import os
import re
import subprocess

import pytest

from env import IO_TIMEOUT, TAILORCTL, module_has, wait_for
from metrics_text import metric
from msgpack_codec import msgpack_unpack
from visitor import new_vid
import scenario
from scenario import BROWSER, cookie_header, recommended
from test_popups import popup_ids

if not module_has("tailor_events_upstream_header"):
    pytest.skip("module built without tailor_events_upstream_header", allow_module_level=True)

STREAM = "tailor:events"


def order(sku, order_id="A-1", **extra):
    props = {"order_id": order_id, "revenue": 42.5, "currency": "EUR",
             "products": [{"product_id": sku, "name": "Blue Mug", "price": 21.25,
                           "quantity": 2}]}
    props.update(extra)
    return json.dumps({"event": "Order Completed", "properties": props},
                      separators=(",", ":"))


def start(nginx, redis, keys, backend, routes):
    b = backend(body=scenario.PAGE, chunk_size=4096, chunked=False, routes=routes)
    nginx.write_file("rules.lua", scenario.AFTER_ORDER_PACK)
    for name in ("index.html", "product.html"):
        nginx.write_file("html/" + name, scenario.PAGE)
    locations = """
            location = /product.html {
                tailor_event "Product Viewed" product_id=$arg_sku;
            }
            location /c/ {
                tailor on;
                tailor_timeout 1s;
                proxy_pass http://%(b)s/;
                proxy_cache shop;
                proxy_cache_valid 200 10m;
                proxy_ignore_headers Set-Cookie Cache-Control Expires;
                add_header X-Cache $upstream_cache_status always;
            }
            location /off/ {
                tailor off;
                proxy_pass http://%(b)s/;
            }
        location = /tailor/popups.js { tailor_popup_runtime; }
        location = /tailor/beacon { tailor_popup_beacon rate=30r/m timeout=5s; }
""" % {"b": b.address}
    extra = ("tailor_rules %s;\n    tailor_events on;\n    tailor_events_stream %s;"
             "\n    tailor_events_flush_interval 5ms;"
             "\n    proxy_cache_path %s levels=1 keys_zone=shop:1m;"
             % (nginx.path("rules.lua"), STREAM, nginx.path("cache")))
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path, backend=b.address,
                                     http_extra=extra, location_extra=locations,
                                     backend_extra="proxy_buffer_size 16k; proxy_buffers 4 16k;"))
    nginx.start()
    return b


def get(nginx, cookie, path="/index.html", headers=None):
    h = cookie_header("tailor_vid", cookie) if cookie else {}
    h["User-Agent"] = BROWSER
    h.update(headers or {})
    r = nginx.get(path, headers=h)
    assert r.status == 200, r
    assert not r.has("X-Tailor-Event"), "the header never reaches the client"
    return r


def events(redis, vid=None, kind=None):
    out = []
    for _, kv in redis.command("XRANGE", STREAM, "-", "+"):
        fields = {kv[i].decode(): kv[i + 1] for i in range(0, len(kv), 2)}
        e = msgpack_unpack(fields["e"])
        if (vid is None or e["vid"] == vid) and (kind is None or e["type"] == kind):
            out.append(e)
    return out


def wait_event(redis, vid, kind):
    return wait_for(lambda: events(redis, vid, kind), IO_TIMEOUT,
                    "%s of %s on the stream" % (kind, vid))[0]


def tailorctl_tail(redis, vid):
    """tail(fmt) -> the vid's Order Completed as tailorctl events tail prints it."""
    if not TAILORCTL or not os.path.exists(TAILORCTL):
        return None

    def tail(fmt):
        args = [TAILORCTL, "events", "tail", "--from", "0", "--count", "1", "--vid", vid,
                "--type", "Order Completed", "--redis", redis.address]
        if fmt:
            args += ["--format", fmt]
        p = subprocess.run(args, capture_output=True, timeout=IO_TIMEOUT)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.decode().splitlines()
        assert len(lines) == 1, lines
        return json.loads(lines[0])
    return tail


def test_an_upstream_declared_order_updates_the_next_page(nginx, redis, keys, sign, backend):
    b = start(nginx, redis, keys, backend,
              {"/order/done": {"headers": [("X-Tailor-Event", order("MUG-X"))]}})
    vid = new_vid()
    cookie = sign(vid)
    get(nginx, cookie, "/product.html?sku=MUG-X")
    get(nginx, cookie, "/product.html?sku=BEANS-Y")
    before = wait_for(lambda: (lambda r: r if len(recommended(r)) == 2 else None)(
        get(nginx, cookie)), IO_TIMEOUT, "both views in the live map")
    assert sorted(recommended(before)) == [b"BEANS-Y", b"MUG-X"]
    assert b">SALE NOW</tailor-slot>" in before.body
    assert popup_ids(before) == [b"browse-help"]

    # the backend confirms the order; the response itself is the shop's page, untouched
    r = get(nginx, cookie, "/up/order/done")
    assert b"</html>" in r.body
    assert len(b.requests) == 1

    after = wait_for(lambda: (lambda r: r if b"MUG-X" not in r.body else None)(
        get(nginx, cookie)), IO_TIMEOUT, "the order in the live map")
    assert recommended(after) == [b"BEANS-Y"]
    assert b">SALE NOW</tailor-slot>" not in after.body
    assert b">Free shipping over $50</tailor-slot>" in after.body
    assert popup_ids(after) == []

    e = wait_event(redis, vid, "Order Completed")
    assert e["path"] == "/up/order/done"
    assert e["props"]["order_id"] == "A-1"
    assert e["props"]["revenue"] == 42.5
    assert e["props"]["products"] == [{"product_id": "MUG-X", "name": "Blue Mug",
                                       "price": 21.25, "quantity": 2}]
    live = msgpack_unpack(redis.get("tailor:{%s}:live" % vid))
    assert [p["sku"] for p in live["purchased"]] == ["MUG-X"]
    assert live["last_order_at"] > 0
    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_events_upstream_total") == 1
    assert metric(m, "tailor_events_upstream_refused_total") == 0

    # the bridge's view: tailorctl decodes the lines, Segment and Klaviyo shapes carry them
    tail = tailorctl_tail(redis, vid)
    if tail is not None:
        assert tail(None)["props"]["products"][0]["name"] == "Blue Mug"
        assert tail("segment")["properties"]["products"] == e["props"]["products"]
        items = tail("klaviyo")["data"]["attributes"]["properties"]["Items"]
        assert items[0]["ProductID"] == "MUG-X"


def test_the_header_from_a_cache_hit_is_ignored(nginx, redis, keys, sign, backend):
    b = start(nginx, redis, keys, backend,
              {"/receipt": {"headers": [("X-Tailor-Event", order("CACHED-1", "C-1"))]}})
    first, second = new_vid(), new_vid()

    r = get(nginx, sign(first), "/c/receipt")
    assert r.header("X-Cache") == "MISS"
    wait_event(redis, first, "Order Completed")

    # the stored receipt, with the header in it, answers the next visitor
    r = get(nginx, sign(second), "/c/receipt")
    assert r.header("X-Cache") == "HIT"
    assert len(b.requests) == 1
    wait_event(redis, second, "Page Viewed")  # its events were flushed
    assert events(redis, second, "Order Completed") == []
    live = msgpack_unpack(redis.get("tailor:{%s}:live" % second))
    assert "purchased" not in live and "last_order_at" not in live
    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_events_upstream_total") == 1
    assert metric(m, "tailor_events_upstream_ignored_total") == 1


def test_a_client_header_is_never_believed_nor_passed_on(nginx, redis, keys, sign, backend):
    b = start(nginx, redis, keys, backend, {})
    vid = new_vid()
    cookie = sign(vid)
    forged = {"X-Tailor-Event": order("FORGED-1", "F-1"), "x-tailor-event": order("F-2")}
    for path in ("/up/page", "/c/page", "/index.html", "/plain/index.html"):
        get(nginx, cookie, path, forged)
    sent = [k for _, _, hs in b.requests for k, _ in hs]
    assert len(b.requests) == 2
    assert "x-tailor-event" not in [k.lower() for k in sent], sent
    assert len(wait_for(lambda: (lambda e: e if len(e) >= 3 else None)(
        events(redis, vid, "Page Viewed")), IO_TIMEOUT, "three page views")) == 3
    assert events(redis, vid, "Order Completed") == []
    assert metric(scenario.status_metrics(nginx), "tailor_events_upstream_total") == 0


def test_no_internal_header_from_a_client_reaches_a_backend_tailor_on_or_off(
        nginx, redis, keys, sign, backend):
    # one post-read pass drops every header only an upstream may send (the
    # event's and the identify header), in any case, and nothing else
    b = start(nginx, redis, keys, backend, {})
    forged = {"X-Tailor-Event": order("FORGED-1"), "x-tailor-event": order("F-2"),
              "X-TAILOR-IDENTIFY": new_vid(), "X-Kept": "yes"}
    for path in ("/up/page", "/off/page"):
        get(nginx, sign(new_vid()), path, forged)
    assert len(b.requests) == 2
    for _, _, hs in b.requests:
        names = [k.lower() for k, _ in hs]
        assert "x-tailor-event" not in names and "x-tailor-identify" not in names, names
        assert ("x-kept", "yes") in [(k.lower(), v) for k, v in hs], hs


def test_the_header_is_hidden_where_tailor_is_off(nginx, redis, keys, backend):
    start(nginx, redis, keys, backend, {"/x": {"headers": [("X-Tailor-Event", order("OFF-1"))]}})
    r = nginx.get("/off/x", headers={"User-Agent": BROWSER})
    assert r.status == 200
    assert not r.has("X-Tailor-Event")
    assert metric(scenario.status_metrics(nginx), "tailor_events_upstream_ignored_total") == 1


def test_bad_headers_are_dropped_counted_and_logged(nginx, redis, keys, sign, backend):
    bad = {
        "/bad/malformed": ('{"event":"Order Completed","properties":{"order_id":"A-1"', "malformed"),
        "/bad/large": (order("BIG-1", coupon="x" * 200, note="y" * 4000), "too_large"),
        "/bad/personal": (order("PII-1", coupon="ann@example.com"), "personal_data"),
        "/bad/name": (json.dumps({"event": "Order Completed",
                                  "properties": {"email": "nobody"}}), "personal_data"),
        "/bad/who": (json.dumps({"event": "Order Completed", "userId": "cust-1"}),
                     "not_an_event"),
        "/bad/identify": (json.dumps({"event": "Identify"}), "bad_name"),
    }
    b = start(nginx, redis, keys, backend,
              {p: {"headers": [("X-Tailor-Event", h)]} for p, (h, _) in bad.items()})
    vid = new_vid()
    cookie = sign(vid)
    for path in bad:
        r = get(nginx, cookie, "/up" + path)
        assert b"</html>" in r.body, "the page is served whole"
    assert len(b.requests) == len(bad)

    m = wait_for(lambda: (lambda m: m if metric(m, "tailor_events_upstream_refused_total")
                          == len(bad) else None)(scenario.status_metrics(nginx)),
                 IO_TIMEOUT, "every refusal counted")
    for reason, n in (("malformed", 1), ("too_large", 1), ("personal_data", 2),
                      ("not_an_event", 1), ("bad_name", 1), ("bad_property", 0)):
        assert metric(m, "tailor_events_upstream_refused_total", reason=reason) == n, reason
    assert metric(m, "tailor_events_upstream_total") == 0

    wait_for(lambda: len(events(redis, vid, "Page Viewed")) >= len(bad), IO_TIMEOUT,
             "the pages' own events")
    assert events(redis, vid, "Order Completed") == []
    assert events(redis, vid, "Identify") == []

    log = nginx.read_log()
    assert re.search(r'\[error\].*upstream\'s "X-Tailor-Event" header dropped \(\w+', log), log
    assert "ann@example.com" not in log and "cust-1" not in log, "values never reach the log"


def test_the_header_name_and_bound_are_configurable_and_off_turns_it_off(nginx, redis, keys,
                                                                         sign, backend):
    b = backend(body=scenario.PAGE, chunk_size=4096, chunked=False,
                headers=[("X-Shop-Event", order("CONF-1")), ("X-Tailor-Event", order("DEF-1"))])
    nginx.write_file("html/index.html", scenario.PAGE)
    extra = ("tailor_events on;\n    tailor_events_stream %s;\n    tailor_events_flush_interval"
             " 5ms;\n    tailor_events_upstream_header X-Shop-Event max_size=1k;" % STREAM)
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path, backend=b.address,
                                     http_extra=extra))
    nginx.start()
    vid = new_vid()
    r = nginx.get("/up/x", headers=dict(cookie_header("tailor_vid", sign(vid)),
                                        **{"User-Agent": BROWSER}))
    assert not r.has("X-Shop-Event")
    assert r.has("X-Tailor-Event"), "another name is the backend's own business"
    e = wait_event(redis, vid, "Order Completed")
    assert e["props"]["products"][0]["product_id"] == "CONF-1"


def config_error(nginx, keys, directive):
    nginx.write("""
    tailor_keys %s;
    %s
    tailor_identify_header X-Shop-Login;
    server {
        listen 127.0.0.1:{{PORT}};
        location / { }
    }
""" % (keys.path, directive))
    rc, out = nginx.test_config()
    return out if rc != 0 else None


@pytest.mark.parametrize("directive,reason", [
    ("tailor_events_upstream_header X-Ev max_size=63;", "max_size must be between 64 and 16384"),
    ("tailor_events_upstream_header X-Ev max_size=17k;", "max_size must be between 64 and 16384"),
    ("tailor_events_upstream_header X-Ev size=1k;", 'unknown parameter "size=1k"'),
    ("tailor_events_upstream_header X:Ev;", 'invalid header name "X:Ev"'),
    ("tailor_events_upstream_header off;\n    tailor_events_upstream_header X-Ev;",
     "is duplicate"),
    ("tailor_events_upstream_header x-shop-login;",
     '"tailor_events_upstream_header" and "tailor_identify_header" name the same header'),
])
def test_bad_configurations_fail_nginx_t_at_their_line(nginx, keys, directive, reason):
    out = config_error(nginx, keys, directive)
    assert out is not None, directive
    emerg = [l for l in out.splitlines() if "[emerg]" in l]
    assert emerg and reason in emerg[0], out
    last = directive.splitlines()[-1].strip()
    assert "%s:%d" % (nginx.conf_path, nginx.line_of(last)) in emerg[0], emerg[0]


def test_good_configurations_pass_nginx_t(nginx, keys):
    for directive in ("tailor_events_upstream_header off;",
                      "tailor_events_upstream_header X-Ev max_size=16k;",
                      "tailor_events_upstream_header X-Ev max_size=64;"):
        assert config_error(nginx, keys, directive) is None, directive
