# The page filter: a static file or a proxy_cache hit, personalized, leaves with exactly the bytes
# the streaming rewriter gives the same page when it arrives proxied; the file is read once per
# version, and every later response is replayed from the worker's page cache.

import gzip
import os

import pytest

from metrics_text import metric
import scenario
from scenario import PAGE, cookie_header
from visitor import new_vid

FILLS = [
    {"hero": "Welcome back, Ann"},
    {"hero": "Hi Bob & co", "promo": "<10% off> for you"},
    {"promo": "only the promo"},
]


def page_http(redis, keys, page_cache="", extra=""):
    return """
    tailor_redis %s connect_timeout=100ms;
    tailor_keys %s;
    %s
    proxy_cache_path cache keys_zone=pages:1m;
    log_format tailor '$request_uri $status $tailor_status [$tailor_vid]';

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        access_log logs/tailor.log tailor;
        tailor_timeout 1s;
        %s

        location / {
            tailor on;
        }
        location /plain/ {
            alias html/;
            tailor off;
        }
        # the same bytes, proxied: memory buffers, so the streaming rewriter
        # (without the ETag, the page cache's proxied path never takes them)
        location /streamed/ {
            tailor on;
            proxy_hide_header ETag;
            proxy_pass http://127.0.0.1:{{PORT}}/plain/;
        }
        # the same bytes from proxy_cache: a MISS streams, a HIT is a cache file
        location /cached/ {
            tailor on;
            proxy_pass http://127.0.0.1:{{PORT}}/plain/;
            proxy_cache pages;
            proxy_cache_valid 200 1h;
            add_header X-Cache $upstream_cache_status;
        }
        location = /tailor-status { tailor_status; }
    }
""" % (redis.address, keys.path, page_cache, extra)


def start(nginx, redis, keys, page=PAGE, **kw):
    nginx.write_file("html/index.html", page)
    nginx.write(page_http(redis, keys, **kw))
    nginx.start()


def counters(nginx):
    m = scenario.status_metrics(nginx)
    return (metric(m, "tailor_page_replays_total"), metric(m, "tailor_page_reads_total"))


def scanned(nginx):
    m = scenario.status_metrics(nginx)
    return (metric(m, "tailor_bytes_scanned_total"), metric(m, "tailor_page_fallbacks_total"))


def visitor(redis, sign, fills):
    vid = new_vid()
    scenario.seed(redis, vid, fills)
    return cookie_header("tailor_vid", sign(vid))


def test_a_static_page_replays_the_streaming_rewriters_bytes(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    for fills in FILLS:
        cookie = visitor(redis, sign, fills)
        streamed = nginx.get("/streamed/index.html", headers=cookie)
        static = nginx.get("/index.html", headers=cookie)
        assert streamed.status == static.status == 200
        assert static.body == streamed.body, "byte for byte the streaming path's page"
        assert static.body != PAGE, "personalized"
        assert "private" in static.header("Cache-Control", "")
        assert not static.has("Content-Length") and not static.has("ETag")
    replays, reads = counters(nginx)
    assert replays == len(FILLS), "every static response came from the page cache"
    assert reads == 1, "the file was read once for all of them"
    bytes_scanned, fallbacks = scanned(nginx)
    assert bytes_scanned == len(FILLS) * len(PAGE), "only the proxied copies were scanned"
    assert fallbacks == 0


def test_a_page_without_slots_for_this_visitor_is_replayed_unchanged(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    cookie = visitor(redis, sign, {"nosuchslot": "x"})
    r = nginx.get("/index.html", headers=cookie)
    assert r.status == 200 and r.body == PAGE


def test_a_changed_file_is_read_again(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    cookie = visitor(redis, sign, {"hero": "Hello again"})
    first = nginx.get("/index.html", headers=cookie)
    assert b"Hello again" in first.body

    # in place, new bytes (the size changes)
    changed = PAGE.replace(b"<header>Shop</header>", b"<header>Shop v2 header</header>")
    nginx.write_file("html/index.html", changed)
    second = nginx.get("/index.html", headers=cookie)
    assert b"Shop v2 header" in second.body and b"Hello again" in second.body

    # an atomic rename, same size as before: a new inode
    renamed = changed.replace(b"Shop v2 header", b"Shop v3 header")
    nginx.write_file("html/next.html", renamed)
    os.rename(nginx.path("html", "next.html"), nginx.path("html", "index.html"))
    third = nginx.get("/index.html", headers=cookie)
    assert b"Shop v3 header" in third.body and b"Hello again" in third.body
    assert third.body == nginx.get("/streamed/index.html", headers=cookie).body

    replays, reads = counters(nginx)
    assert (replays, reads) == (3, 3), "each version read once"


def test_a_proxy_cache_hit_replays_a_miss_streams(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    ann = visitor(redis, sign, {"hero": "Ann from the cache"})
    bob = visitor(redis, sign, {"hero": "Bob from the cache"})
    miss = nginx.get("/cached/index.html", headers=ann)
    assert miss.header("X-Cache") == "MISS"
    assert counters(nginx) == (0, 0), "a miss's body is the upstream's temp file: streamed"
    hit = nginx.get("/cached/index.html", headers=bob)
    assert hit.header("X-Cache") == "HIT"
    assert b"Bob from the cache" in hit.body and b"Ann" not in hit.body
    assert hit.body == nginx.get("/streamed/index.html", headers=bob).body
    assert miss.body == nginx.get("/streamed/index.html", headers=ann).body
    assert counters(nginx) == (1, 1)


def test_gzip_for_the_client_compresses_the_replayed_page(nginx, redis, keys, sign):
    start(nginx, redis, keys, extra="gzip on; gzip_types text/html;")
    cookie = visitor(redis, sign, {"hero": "Zipped Ann"})
    expected = nginx.get("/streamed/index.html", headers=cookie).body
    headers = dict(cookie)
    headers["Accept-Encoding"] = "gzip"
    r = nginx.get("/index.html", headers=headers)
    assert r.header("Content-Encoding") == "gzip"
    assert gzip.decompress(r.body) == expected
    assert counters(nginx)[0] == 1


@pytest.mark.parametrize("page_cache", ["tailor_page_cache off;",
                                        "tailor_page_cache page_max=1k;"])
def test_without_the_page_cache_the_page_streams_the_same(nginx, redis, keys, sign, page_cache):
    start(nginx, redis, keys, page_cache=page_cache)
    cookie = visitor(redis, sign, {"hero": "Streamed Ann"})
    r = nginx.get("/index.html", headers=cookie)
    assert b"Streamed Ann" in r.body
    assert r.body == nginx.get("/streamed/index.html", headers=cookie).body
    assert counters(nginx) == (0, 0)
    bytes_scanned, fallbacks = scanned(nginx)
    assert bytes_scanned == 2 * len(PAGE), "both copies streamed through the rewriter"
    # a page over page_max is a fallback the operator can see; "off" is a choice
    assert fallbacks == (1 if "page_max" in page_cache else 0)


def test_a_bad_page_cache_directive_fails_nginx_t(nginx, redis, keys):
    nginx.write_file("html/index.html", PAGE)
    nginx.write(page_http(redis, keys, page_cache="tailor_page_cache entries=0;"))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "tailor_page_cache" in out and "nginx.conf:" in out
