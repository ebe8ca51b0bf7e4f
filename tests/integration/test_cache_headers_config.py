# The operator's own caching headers (nginx's headers module: expires, add_header) on a
# location with `tailor on`. A personalized page, or a page that hands out a new visitor's
# cookie, must never be stored by a shared cache (docs/directives.md, "What happens to
# headers"): Cache-Control is private, Expires and the CDN-targeted fields are gone. The
# headers module's filter runs after the module's in nginx's default order for a dynamic
# filter module, so what `expires` and `add_header` set used to be added back after the
# module had made the page private: "Cache-Control: public, max-age=600" beside "private",
# Expires, and a Surrogate-Control a CDN obeys. A page the module changes nothing in keeps
# the operator's headers.

import pytest

import scenario
from raw_backend import RawBackend
from scenario import PAGE, cookie_header, set_cookies
from visitor import new_vid

CONFIGS = {
    "expires": ("expires 1h;", {}),
    "add_header cache-control": ('add_header Cache-Control "public, max-age=600";',
                                 {"Cache-Control": "public, max-age=600"}),
    "add_header surrogate-control": ('add_header Surrogate-Control "max-age=3600";',
                                     {"Surrogate-Control": "max-age=3600"}),
    "add_header cdn-cache-control": ('add_header CDN-Cache-Control "max-age=3600";',
                                     {"CDN-Cache-Control": "max-age=3600"}),
}

SHARED_CACHE_FIELDS = ("Expires", "Surrogate-Control", "CDN-Cache-Control")


@pytest.fixture(params=sorted(CONFIGS))
def shop(request, nginx, redis, keys, sign, backend):
    extra, _ = CONFIGS[request.param]
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, chunk_size=4096, chunked=False)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        location_extra=extra, backend_extra=extra)
    return nginx, cookie_header("tailor_vid", sign(vid)), request.param


def assert_private(r):
    assert r.header_all("Cache-Control") == ["private"], r.headers
    for name in SHARED_CACHE_FIELDS:
        assert not r.has(name), "%s left on a private page: %r" % (name, r.header(name))


@pytest.mark.parametrize("path", ["/index.html", "/up/index.html"])
def test_a_personalized_page_stays_private(shop, path):
    nginx, cookie, _ = shop
    r = nginx.get(path, headers=cookie)
    assert r.status == 200, r
    assert r.body == PAGE.replace(b"Welcome, shopper", b"Hi Ann")
    assert_private(r)


@pytest.mark.parametrize("path", ["/index.html", "/up/index.html"])
def test_a_new_visitors_cookie_stays_private(shop, path):
    nginx, _, _ = shop
    r = nginx.get(path)
    assert r.status == 200, r
    assert r.body == PAGE
    assert set_cookies(r), "a new visitor gets a cookie"
    assert_private(r)


@pytest.mark.parametrize("path", ["/index.html", "/up/index.html"])
def test_an_unchanged_page_keeps_the_operators_headers(shop, sign, path):
    nginx, _, which = shop
    r = nginx.get(path, headers=cookie_header("tailor_vid", sign(new_vid())))  # no profile
    assert r.status == 200 and r.body == PAGE
    assert not set_cookies(r)
    if which == "expires":
        assert r.has("Expires") and r.header("Cache-Control") == "max-age=3600"
    for name, value in CONFIGS[which][1].items():
        assert r.header(name) == value


# The headers module's add_trailer goes with a personalized page's end, also when the
# page ends at its upstream's declared length (before the upstream's own last_buf).
@pytest.mark.parametrize("framing", ["length", "chunked", "length+etag"])
def test_add_trailer_follows_a_personalized_page(nginx, redis, keys, sign, backend, framing):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    headers = [("ETag", '"v1"')] if framing == "length+etag" else []
    b = backend(body=PAGE, chunk_size=4096, chunked=framing == "chunked", headers=headers)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        backend_extra="add_trailer X-Trailer yes;")
    for _ in range(3):  # with the ETag, the third is replayed from the page cache
        r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(vid)))
        assert r.status == 200 and r.body == PAGE.replace(b"Welcome, shopper", b"Hi Ann")
        assert r.raw.endswith(b"\r\n0\r\nX-Trailer: yes\r\n\r\n"), r.raw[-60:]


# What only restricts stays: a page its shop (or the operator) marked no-store or no-cache
# is made private without becoming storable in the browser (an account page stays out of
# its disk). It used to become plain "private".
@pytest.mark.parametrize("upstream,config,want", [
    ("no-store", "", "private, no-store"),
    ("private, no-cache=\"Set-Cookie, X-A\", max-age=60", "", "private, no-cache"),
    ("public, max-age=600", 'add_header Cache-Control "No-Store, no-cache";',
     "private, no-cache, no-store"),
    (None, 'add_header Cache-Control "no-cache";', "private, no-cache"),
    ('public, x-note="a, no-store, b"', "", "private"),
])
@pytest.mark.parametrize("visitor", ["known", "new"])
def test_no_store_and_no_cache_stay(nginx, redis, keys, sign, backend, upstream, config, want,
                                    visitor):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    headers = [("Cache-Control", upstream)] if upstream else []
    b = backend(body=PAGE, chunk_size=4096, chunked=False, headers=headers)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        backend_extra=config)
    cookie = cookie_header("tailor_vid", sign(vid)) if visitor == "known" else {}
    r = nginx.get("/up/index.html", headers=cookie)
    assert r.status == 200
    if visitor == "known":
        assert r.body == PAGE.replace(b"Welcome, shopper", b"Hi Ann")
    else:
        assert set_cookies(r)
    assert r.header_all("Cache-Control") == [want], r.headers


DUPLICATED = (b"Expires: Thu, 01 Jan 2037 00:00:00 GMT\r\nExpires: Thu, 01 Jan 2037 00:00:01 GMT\r\n"
              b'ETag: "a"\r\nETag: "b"\r\n'
              b"Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
              b"Last-Modified: Mon, 01 Jan 2024 00:00:01 GMT\r\n"
              b"Accept-Ranges: bytes\r\nAccept-Ranges: bytes\r\n")


# An upstream that sends a field twice: nginx points at one copy, and the other used to
# stay on a personalized page (the generic page's ETag and Last-Modified, an Expires).
@pytest.mark.parametrize("visitor", ["known", "new"])
def test_every_copy_of_a_duplicated_field_goes(nginx, redis, keys, sign, visitor):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n" % len(PAGE)
    up = RawBackend(head + DUPLICATED + b"\r\n" + PAGE).start()
    try:
        scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=up.address)
        cookie = cookie_header("tailor_vid", sign(vid)) if visitor == "known" else {}
        r = nginx.get("/up/index.html", headers=cookie)
        assert r.status == 200
        if visitor == "known":
            assert r.body == PAGE.replace(b"Welcome, shopper", b"Hi Ann")
            gone = ("Expires", "ETag", "Last-Modified", "Accept-Ranges")
        else:
            assert r.body == PAGE and set_cookies(r)
            gone = ("Expires",)  # a page it does not rewrite keeps its validators
        for name in gone:
            assert not r.has(name), "%s: %r" % (name, r.header_all(name))
        assert r.header_all("Cache-Control") == ["private"]
    finally:
        up.stop()


DIGESTS = [("Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ=="),
           ("Digest", "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="),
           ("Content-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"),
           ("Repr-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")]


# The upstream's digest of its generic bytes would call the personalized page corrupted
# (RFC 9530: a mismatch is a failed integrity check); a page left as it is keeps them.
def test_the_generic_pages_digests_leave_a_personalized_page(nginx, redis, keys, sign, backend):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, chunk_size=4096, chunked=False, headers=DIGESTS)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address)
    r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200 and r.body == PAGE.replace(b"Welcome, shopper", b"Hi Ann")
    for name, _ in DIGESTS:
        assert not r.has(name), name
    r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(new_vid())))
    assert r.status == 200 and r.body == PAGE
    for name, value in DIGESTS:
        assert r.header(name) == value, name


# $tailor_vid in add_header on a login response is the id the upstream identified, as the
# access log has it (the module settles the visitor before the headers filter runs).
def test_add_header_sees_the_identified_visitor(nginx, redis, keys, sign, backend):
    known = new_vid()
    b = backend(body=PAGE, chunk_size=4096, headers=[("X-Tailor-Identify", known)])
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        backend_extra='add_header X-Vid "$tailor_vid" always;')
    r = nginx.get("/up/login", headers=cookie_header("tailor_vid", sign(new_vid())))
    assert r.status == 200
    assert set_cookies(r)[0][1].split(".")[0] == known
    assert r.header("X-Vid") == known
