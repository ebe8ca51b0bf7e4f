# A personalized page is a different document: the file's ETag in If-None-Match,
# If-Modified-Since or a Range must not turn it into a 304 or a 206 of the
# generic file; the client gets the full personalized 200, not cacheable publicly.

import pytest

from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header



@pytest.fixture
def shop(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s")
    plain = nginx.get("/plain/index.html")
    return nginx, cookie_header("tailor_vid", sign(vid)), plain


def assert_full_personalized(r):
    assert r.status == 200, r
    assert b"Hi Ann" in r.body and b"</html>" in r.body, "the whole personalized page"
    for h in ("Content-Length", "ETag", "Last-Modified", "Accept-Ranges", "Content-Range"):
        assert not r.has(h), "%s removed" % h
    assert r.header("Cache-Control") == "private"
    assert not r.has("Expires")


def test_plain_get(shop):
    nginx, cookie, _ = shop
    assert_full_personalized(nginx.get("/index.html", headers=cookie))


@pytest.mark.parametrize("kind", ["if-none-match", "if-modified-since", "range", "if-range"])
def test_conditional_and_range_get_full_200(shop, kind):
    nginx, cookie, plain = shop
    h = dict(cookie)
    if kind == "if-none-match":
        h["If-None-Match"] = plain.header("ETag")
    elif kind == "if-modified-since":
        h["If-Modified-Since"] = plain.header("Last-Modified")
    elif kind == "range":
        h["Range"] = "bytes=0-9"
    else:
        h["Range"] = "bytes=0-9"
        h["If-Range"] = plain.header("ETag")
    assert_full_personalized(nginx.get("/index.html", headers=h))


def test_head_of_personalized_page(shop):
    nginx, cookie, _ = shop
    r = nginx.get("/index.html", method="HEAD", headers=cookie)
    assert r.status == 200 and r.body == b""
    assert not r.has("Content-Length") and not r.has("ETag")


def test_upstream_conditional_headers_are_blanked(nginx, redis, keys, sign, backend):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, chunk_size=4096)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        timeout="1s")
    h = cookie_header("tailor_vid", sign(vid))
    h.update({"If-None-Match": '"abc"', "Range": "bytes=0-9", "If-Modified-Since":
              "Mon, 01 Jan 2024 00:00:00 GMT", "If-Range": '"abc"'})
    r = nginx.get("/up/index.html", headers=h)
    assert_full_personalized(r)
    sent = {k.lower() for k, _ in b.requests[-1][2]}
    assert not sent & {"if-none-match", "range", "if-modified-since", "if-range"}, sent
