# A personalized page, or one carrying the visitor cookie, must not be storable by any
# shared cache: the CDN-targeted cache fields (RFC 9213 and the vendors' own) go, and the
# response varies on Cookie, whatever the upstream said.

from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header, set_cookies

TARGETED = [("Surrogate-Control", "max-age=3600"), ("CDN-Cache-Control", "max-age=3600"),
            ("Cloudflare-CDN-Cache-Control", "max-age=3600"), ("Edge-Control", "cache-maxage=1h")]
PUBLIC = [("Cache-Control", "public, max-age=600")] + TARGETED


def shop(nginx, redis, keys, backend):
    b = backend(body=PAGE, chunk_size=4096, headers=PUBLIC)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address)
    return b


def assert_private(r):
    for name, _ in TARGETED:
        assert not r.has(name), name
    assert r.header_all("Cache-Control") == ["private"]
    vary = ",".join(r.header_all("Vary")).lower()
    assert "cookie" in [v.strip() for v in vary.split(",")], r.headers


def test_a_personalized_page_is_private_to_every_cache(nginx, redis, keys, sign, backend):
    shop(nginx, redis, keys, backend)
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert b"Hi Ann" in r.body
    assert not set_cookies(r)
    assert_private(r)


def test_a_page_carrying_the_visitor_cookie_is_private_to_every_cache(nginx, redis, keys,
                                                                      backend):
    shop(nginx, redis, keys, backend)
    r = nginx.get("/up/index.html")  # a new visitor: default page, but a cookie
    assert r.body == PAGE
    assert set_cookies(r)
    assert_private(r)


def test_an_unchanged_page_keeps_the_upstream_cache_fields(nginx, redis, keys, sign, backend):
    shop(nginx, redis, keys, backend)
    vid = new_vid()  # known visitor, nothing stored: the page is not changed
    r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.body == PAGE and not set_cookies(r)
    for name, value in PUBLIC:
        assert r.header(name) == value, name
    assert not r.has("Vary")
