# No drive-by state (issue 14, item 3): a request without a valid cookie gets
# an id, but nothing reaches Redis until the browser returns it; crawlers,
# error pages and non-pages get no cookie, no key and no event; a real
# returning visitor is still recorded and personalized.

import time

import pytest

from env import IO_TIMEOUT, module_has, wait_for
from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header


if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0 Safari/537.36")


def start(nginx, redis, keys):
    nginx.write_file("html/product.html", PAGE)
    nginx.write_file("html/data.json", b"{}")
    scenario.start_shop(
        nginx, redis=redis.address, keys=keys.path, timeout="1s",
        http_extra="tailor_events on; tailor_events_flush_interval 5ms;",
        location_extra="""
            location = /product.html { tailor_event "Product Viewed" product_id=$arg_sku; }
        """)


def dbsize(redis):
    return redis.command("DBSIZE")


def settle(nginx):
    # events leave at the log phase and are flushed within a few ms; a
    # marker request of a real visitor proves the pipeline ran past ours
    time.sleep(0.3)


def test_cookieless_and_forged_requests_create_no_keys(nginx, redis, keys):
    start(nginx, redis, keys)
    issued = set()
    for n in range(200):
        r = nginx.get("/product.html?sku=%d" % n, headers={"User-Agent": BROWSER})
        assert r.status == 200
        issued.add(scenario.set_cookies(r)[0][1])
    assert len(issued) == 200, "each gets an id"
    for n in range(200):
        forged = "%s.k1.%s" % (new_vid(), "A" * 43)
        r = nginx.get("/index.html?n=%d" % n,
                      headers={"Cookie": "tailor_vid=" + forged, "User-Agent": BROWSER})
        assert r.status == 200
        assert scenario.set_cookies(r), "a forged cookie is a new visitor"
    settle(nginx)
    assert dbsize(redis) == 0, redis.command("KEYS", "*")[:10]

    # a real returning visitor: the issued cookie comes back
    cookie = sorted(issued)[0]
    vid = cookie.split(".")[0]
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    r = nginx.get("/product.html?sku=7", headers=dict(cookie_header("tailor_vid", cookie),
                                                       **{"User-Agent": BROWSER}))
    assert b"Hi Ann" in r.body, "personalized"
    wait_for(lambda: redis.command("EXISTS", "tailor:{%s}:live" % vid) == 1 or None, IO_TIMEOUT,
             "the returning visitor's live state")


def test_crawlers_get_no_cookie_no_keys_no_events(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    vid = new_vid()
    for headers in ({"User-Agent": GOOGLEBOT},
                    {"User-Agent": GOOGLEBOT, "Cookie": "tailor_vid=" + sign(vid)}):
        r = nginx.get("/product.html?sku=1", headers=headers)
        assert r.status == 200 and not scenario.set_cookies(r)
        assert b"Welcome, shopper" in r.body
    settle(nginx)
    assert dbsize(redis) == 0
    assert "bot" in nginx.read_log("tailor.log")


@pytest.mark.parametrize("path,method,status", [
    ("/missing.html", "GET", 404),
    ("/index.html", "POST", 405),
    ("/data.json", "GET", 200),
])
def test_errors_and_non_pages_get_no_cookie_and_no_keys(nginx, redis, keys, path, method,
                                                        status):
    start(nginx, redis, keys)
    r = nginx.get(path, method=method, headers={"User-Agent": BROWSER})
    assert r.status == status
    assert not scenario.set_cookies(r), r.header_all("Set-Cookie")
    settle(nginx)
    assert dbsize(redis) == 0


def test_a_login_redirect_still_carries_the_identified_cookie(nginx, redis, keys, sign, backend):
    known = new_vid()
    b = backend(body=b"", status=302, headers=[("X-Tailor-Identify", known),
                                              ("Location", "/index.html")])
    nginx.write_file("html/product.html", PAGE)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        http_extra="tailor_events on; tailor_events_flush_interval 5ms;")
    r = nginx.get("/up/login", headers=cookie_header("tailor_vid", sign(new_vid())))
    assert r.status == 302
    assert [c[1].split(".")[0] for c in scenario.set_cookies(r)] == [known]
