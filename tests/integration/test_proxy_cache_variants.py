# Personalized pages from proxy_cache in its less common modes: a stale copy served while
# a background subrequest updates it (proxy_cache_use_stale updating,
# proxy_cache_background_update), a copy revalidated by an upstream's 304
# (proxy_cache_revalidate), HEAD requests on a miss (converted to a GET that fills
# the cache) and on a hit, proxy_cache_convert_head off, and proxy_store. Every page whole,
# personalized, and the cache's copy stays the generic page.

import os
import time

import pytest

import scenario
from scenario import PAGE, cookie_header
from visitor import new_vid

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    proxy_cache_path cache levels=1 keys_zone=pages:1m;

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 2s;

        location /bg/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_cache pages;
            proxy_cache_valid 200 1s;
            proxy_cache_use_stale updating;
            proxy_cache_background_update on;
            add_header X-Cache $upstream_cache_status always;
        }
        location /reval/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_cache pages;
            proxy_cache_valid 200 1s;
            proxy_cache_revalidate on;
            add_header X-Cache $upstream_cache_status always;
        }
        location /head/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_cache pages;
            proxy_cache_valid 200 1h;
            add_header X-Cache $upstream_cache_status always;
        }
        location /head-noconvert/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_cache pages;
            proxy_cache_valid 200 1h;
            proxy_cache_convert_head off;
            proxy_cache_key $request_method$uri;
            add_header X-Cache $upstream_cache_status always;
        }
        location /store/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_store on;
            proxy_store_access user:rw;
            root stored;
        }
    }
"""


def personalized(page):
    return page.replace(b"Welcome, shopper", b"Hi Ann")


@pytest.fixture
def shop(nginx, redis, keys, sign, backend):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, chunk_size=4096, chunked=False, headers=[("ETag", '"v1"')])
    nginx.write_file("stored/.keep", b"")
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    os.chmod(nginx.path("stored"), 0o777)  # the worker's user writes there
    nginx.start()
    return nginx, cookie_header("tailor_vid", sign(vid)), b


def get(nginx, path, cookie, method="GET"):
    r = nginx.get(path, headers=cookie, method=method)
    assert r.status == 200, r
    return r


def test_stale_while_a_background_update_runs(shop):
    nginx, cookie, b = shop
    page2 = PAGE.replace(b"<main>", b"<main>version two")
    assert get(nginx, "/bg/index.html", cookie).body == personalized(PAGE)
    assert get(nginx, "/bg/index.html", cookie).header("X-Cache") == "HIT"
    time.sleep(2.2)  # validity is counted in whole seconds
    b.defaults["body"] = page2
    b.defaults["headers"] = [("ETag", '"v2"')]
    r = get(nginx, "/bg/index.html", cookie)
    assert r.header("X-Cache") in ("STALE", "UPDATING"), r.headers
    assert r.body == personalized(PAGE)
    time.sleep(0.3)
    for _ in range(2):
        r = get(nginx, "/bg/index.html", cookie)
        assert r.header("X-Cache") == "HIT" and r.body == personalized(page2)
    # the generic page from the cache, for a cookie that changes nothing
    r = nginx.get("/bg/index.html", headers=cookie_header("tailor_vid", "x"))
    assert r.body == page2


def test_a_copy_revalidated_with_a_304_from_upstream(shop):
    nginx, cookie, b = shop
    b.routes["/index.html"] = {"headers": [("ETag", '"v1"'), ("Last-Modified",
                                                             "Mon, 01 Jan 2024 00:00:00 GMT")]}
    assert get(nginx, "/reval/index.html", cookie).body == personalized(PAGE)
    time.sleep(2.2)  # validity is counted in whole seconds
    b.routes["/index.html"].update(status=304, body=b"")
    for _ in range(2):
        r = get(nginx, "/reval/index.html", cookie)
        assert r.body == personalized(PAGE), r.headers
    assert r.header("X-Cache") in ("REVALIDATED", "HIT"), r.headers
    assert any(k.lower() == "if-none-match" for k, _ in b.requests[-1][2]), b.requests[-1]


@pytest.mark.parametrize("where", ["/head/", "/head-noconvert/"])
def test_head_on_a_miss_then_a_hit(shop, where):
    nginx, cookie, _ = shop
    r = get(nginx, where + "index.html", cookie, method="HEAD")
    assert r.body == b"" and not r.has("Content-Length") and not r.has("ETag")
    assert r.header("Cache-Control") == "private"
    for _ in range(3):
        r = get(nginx, where + "index.html", cookie)
        assert r.body == personalized(PAGE)
        h = get(nginx, where + "index.html", cookie, method="HEAD")
        assert h.body == b"" and not h.has("Content-Length")
        assert h.header("X-Cache") == "HIT"


def test_proxy_store_keeps_the_generic_page(shop):
    nginx, cookie, _ = shop
    for _ in range(2):
        assert get(nginx, "/store/index.html", cookie).body == personalized(PAGE)
    with open(nginx.path("stored", "store", "index.html"), "rb") as f:
        assert f.read() == PAGE
