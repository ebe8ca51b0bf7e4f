# X-Tailor-Identify is believed only on a response the upstream produced for this very
# request: never on a proxy_cache copy (hit, stale, revalidated), never from the client,
# and never shown to a client, even where tailor is off.

from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header, set_cookies


def cached_shop(nginx, redis, keys, backend, headers):
    """/c/ is a proxy_cache location with tailor on; /up/ an uncached one."""
    b = backend(body=PAGE, chunk_size=4096, chunked=False, headers=headers)
    nginx.write_file("html/index.html", PAGE)
    cached = """location /c/ {
                proxy_pass http://%s/;
                proxy_cache shop;
                proxy_cache_valid 200 10m;
                proxy_ignore_headers Set-Cookie Cache-Control Expires;
                add_header X-Cache $upstream_cache_status always;
            }""" % b.address
    nginx.write(scenario.tailor_http(
        redis=redis.address, keys=keys.path, backend=b.address,
        http_extra="proxy_cache_path %s levels=1 keys_zone=shop:1m;" % nginx.path("cache"),
        location_extra=cached))
    nginx.start()
    return b


def test_identify_from_a_proxy_cache_hit_is_not_believed(nginx, redis, keys, sign, backend):
    customer = new_vid()
    scenario.seed(redis, customer, {"hero": "Customer's page"})
    b = cached_shop(nginx, redis, keys, backend, [("X-Tailor-Identify", customer)])

    # the customer logs in: a fresh response, believed (and now stored in the cache)
    r = nginx.get("/c/account", headers=cookie_header("tailor_vid", sign(new_vid())))
    assert r.header("X-Cache") == "MISS"
    assert set_cookies(r)[0][1].split(".")[0] == customer
    assert not r.has("X-Tailor-Identify")

    # everyone after gets the cached copy; none of them becomes the customer
    for headers in ({}, cookie_header("tailor_vid", sign(new_vid()))):
        r = nginx.get("/c/account", headers=headers)
        assert r.status == 200
        assert r.header("X-Cache") == "HIT"
        assert not r.has("X-Tailor-Identify"), "still hidden"
        for c in set_cookies(r):
            assert c[1].split(".")[0] != customer, "signed in as someone else from the cache"
        assert b"Customer's page" not in r.body
    assert len(b.requests) == 1


def test_a_client_identify_header_is_removed_before_the_upstream(nginx, redis, keys, backend):
    b = cached_shop(nginx, redis, keys, backend, [])
    victim = new_vid()
    for path in ("/up/x", "/c/y", "/plain/index.html"):
        nginx.get(path, headers={"X-Tailor-Identify": victim, "x-tailor-identify": victim})
    sent = [h for _, _, hs in b.requests for h in hs]
    assert not [v for k, v in sent if k.lower() == "x-tailor-identify"], sent


def test_identify_is_removed_where_tailor_is_off(nginx, redis, keys, backend):
    customer = new_vid()
    b = backend(body=PAGE, chunk_size=4096, headers=[("X-Tailor-Identify", customer)])
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        location_extra="location /off/ { tailor off; proxy_pass http://%s/; }"
                        % b.address)
    r = nginx.get("/off/login")
    assert r.status == 200
    assert not r.has("X-Tailor-Identify")
    assert not set_cookies(r)
