# The page cache's proxied path: a personalized page proxied with a strong ETag and a length is
# copied on its second sighting, and from then on compared byte for byte as it arrives and
# replayed from the copy, unscanned. Whatever the upstream does, the client gets exactly the
# page the streaming rewriter gives the same bytes: the reference below is the same upstream
# with its ETag hidden, which always streams.


import pytest

from http_client import Dechunker, build_request, parse_head, raw_exchange
from metrics_text import metric
from raw_backend import RawBackend
import scenario
from scenario import PAGE, cookie_header
from visitor import new_vid

ETAG = '"5f1e-d416"'


def page_http(redis, keys, backend, page_cache=""):
    return """
    tailor_redis %s connect_timeout=100ms;
    tailor_keys %s;
    %s
    proxy_cache_path cache keys_zone=pages:1m;

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor_timeout 1s;

        location /plain/ {
            alias html/;
            tailor off;
        }
        location /plain-tailored/ {
            alias html/;
            tailor on;
        }
        # nginx's own static file upstream: a strong ETag and a length
        location /proxied/ {
            tailor on;
            proxy_pass http://127.0.0.1:{{PORT}}/plain/;
        }
        location /proxied-unbuffered/ {
            tailor on;
            proxy_buffering off;
            proxy_pass http://127.0.0.1:{{PORT}}/plain/;
        }
        # stored in the cache but never served from it: every body comes
        # from the upstream through proxy_cache's temp file
        location /bypass/ {
            tailor on;
            proxy_cache pages;
            proxy_cache_bypass 1;
            proxy_cache_valid 200 1h;
            proxy_pass http://127.0.0.1:{{PORT}}/plain/;
        }
        # the test's own upstream
        location /up/ {
            tailor on;
            proxy_pass http://%s/;
        }
        # the references: the same upstreams without their ETag always stream
        location /streamed/ {
            tailor on;
            proxy_hide_header ETag;
            proxy_pass http://127.0.0.1:{{PORT}}/plain/;
        }
        location /up-streamed/ {
            tailor on;
            proxy_hide_header ETag;
            proxy_pass http://%s/;
        }
        location = /tailor-status { tailor_status; }
    }

""" % (redis.address, keys.path, page_cache, backend, backend)


def start(nginx, redis, keys, backend="127.0.0.1:9", page_cache=""):
    nginx.write_file("html/index.html", PAGE)
    nginx.write(page_http(redis, keys, backend, page_cache))
    nginx.start()


def counters(nginx):
    """(replays, reads, mismatches, bytes scanned)"""
    m = scenario.status_metrics(nginx)
    return tuple(int(metric(m, name)) for name in (
        "tailor_page_replays_total", "tailor_page_reads_total", "tailor_page_mismatches_total",
        "tailor_bytes_scanned_total"))


def visitor(redis, sign, fills):
    vid = new_vid()
    scenario.seed(redis, vid, fills)
    return cookie_header("tailor_vid", sign(vid))


def response(body, etag=ETAG, length=None):
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: %s\r\n"
            b"Content-Length: %d\r\n\r\n" % (etag.encode(), len(body) if length is None else length))
    return head + body


@pytest.mark.parametrize("path", ["/proxied/", "/proxied-unbuffered/"])
def test_a_proxied_page_is_replayed_from_its_second_sighting_on(nginx, redis, keys, sign, path):
    start(nginx, redis, keys)
    fills = [{"hero": "Ann %d" % i, "promo": "<b>%d%% off</b>" % i} for i in range(5)]
    fills.append({"promo": "only the promo"})
    for i, f in enumerate(fills):
        cookie = visitor(redis, sign, f)
        got = nginx.get(path + "index.html", headers=cookie)
        want = nginx.get("/streamed/index.html", headers=cookie)
        assert got.status == want.status == 200
        assert got.body == want.body, "request %d: the streaming path's page, byte for byte" % i
        assert b"Ann" in got.body or b"only the promo" in got.body
        assert not got.has("ETag") and not got.has("Content-Length")
        assert "private" in got.header("Cache-Control", "")
    replays, reads, mismatches, scanned = counters(nginx)
    assert reads == 1, "copied once, on the second sighting"
    assert replays == len(fills) - 2, "every later page replayed"
    assert mismatches == 0
    assert scanned == (2 + len(fills)) * len(PAGE), "the first two and the references scanned"


@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
def test_the_replay_does_not_depend_on_how_the_body_arrives(nginx, redis, keys, sign, backend,
                                                            chunk_size):
    b = backend(body=PAGE, chunk_size=chunk_size, chunked=False, headers=[("ETag", ETAG)])
    start(nginx, redis, keys, b.address)
    cookie = visitor(redis, sign, {"hero": "Hi Ann"})
    want = nginx.get("/up-streamed/index.html", headers=cookie).body
    for _ in range(3):
        assert nginx.get("/up/index.html", headers=cookie).body == want
    assert counters(nginx)[:3] == (1, 1, 0)


@pytest.mark.parametrize("etag", ['W/"5f1e-d416"', None, "5f1e-d416"],
                         ids=["weak", "none", "unquoted"])
def test_a_page_without_a_strong_etag_always_streams(nginx, redis, keys, sign, backend, etag):
    b = backend(body=PAGE, chunk_size=4096, chunked=False,
                headers=[("ETag", etag)] if etag else [])
    start(nginx, redis, keys, b.address)
    cookie = visitor(redis, sign, {"hero": "Hi Ann"})
    for _ in range(4):
        assert b"Hi Ann" in nginx.get("/up/index.html", headers=cookie).body
    assert counters(nginx) == (0, 0, 0, 4 * len(PAGE))


def test_a_chunked_page_without_a_length_always_streams(nginx, redis, keys, sign, backend):
    b = backend(body=PAGE, chunk_size=4096, chunked=True, headers=[("ETag", ETAG)])
    start(nginx, redis, keys, b.address)
    cookie = visitor(redis, sign, {"hero": "Hi Ann"})
    for _ in range(4):
        assert b"Hi Ann" in nginx.get("/up/index.html", headers=cookie).body
    assert counters(nginx)[:3] == (0, 0, 0)


def changed(where):
    """PAGE with one byte changed, at its start, in its hero slot, or at its very end."""
    at = {"start": 0, "slot": PAGE.index(scenario.DEFAULT_HERO) + len(b"<tailor-slot"),
          "end": len(PAGE) - 1}[where]
    flipped = bytes([PAGE[at] ^ 0x20])
    page = PAGE[:at] + flipped + PAGE[at + 1:]
    assert len(page) == len(PAGE) and page != PAGE
    return page


@pytest.mark.parametrize("where", ["start", "slot", "end"])
@pytest.mark.parametrize("chunk_size", [7, 4096])
def test_bytes_changed_under_the_same_etag_give_the_new_page(nginx, redis, keys, sign, backend,
                                                             where, chunk_size):
    b = backend(body=PAGE, chunk_size=chunk_size, chunked=False, headers=[("ETag", ETAG)])
    start(nginx, redis, keys, b.address)
    cookie = visitor(redis, sign, {"hero": "Hi Ann"})
    for _ in range(2):
        nginx.get("/up/index.html", headers=cookie)
    assert counters(nginx)[1] == 1, "copied"

    b.defaults["body"] = changed(where)  # same length, same ETag: the upstream lied
    want = nginx.get("/up-streamed/index.html", headers=cookie).body
    got = nginx.get("/up/index.html", headers=cookie)
    assert got.status == 200 and got.body == want, "the new bytes, as the streaming path gives them"
    assert counters(nginx)[2] == 1, "one mismatch counted"
    assert "differs from its cached copy" in nginx.read_log()

    # the stale copy was dropped: the new bytes are copied, then replayed
    for _ in range(2):
        assert nginx.get("/up/index.html", headers=cookie).body == want
    replays, reads, mismatches, _ = counters(nginx)
    assert (replays, reads, mismatches) == (1, 2, 1)


def test_a_body_cut_short_is_not_made_complete(nginx, redis, keys, sign):
    raw = RawBackend(response(PAGE)).start()
    try:
        start(nginx, redis, keys, raw.address)
        cookie = visitor(redis, sign, {"hero": "Hi Ann"})
        want = nginx.get("/up-streamed/index.html", headers=cookie).body
        for _ in range(2):
            assert nginx.get("/up/index.html", headers=cookie).body == want
        assert counters(nginx)[1] == 1, "copied"

        raw.response = response(PAGE[:-100], length=len(PAGE))  # promises the whole page
        raw.close_after = True
        got = raw_exchange(nginx.port, build_request("GET", "/up/index.html", cookie))
        # Nothing of the page was sent (its bytes wait for the last one), so
        # nginx may close before even its header left: either way, no page
        # that looks complete.
        if got:
            _, _, _, rest = parse_head(got)
            d = Dechunker()
            d.feed(rest)
            assert not d.done, "no terminator: the client can tell the page is incomplete"
            assert want.startswith(d.body)
        assert counters(nginx)[0] == 0, "nothing replayed"
    finally:
        raw.stop()


@pytest.mark.parametrize("path", ["/proxied/", "/proxied-unbuffered/"])
def test_a_replayed_page_ends_once_and_keepalive_continues(nginx, redis, keys, sign, path):
    start(nginx, redis, keys)
    cookie = visitor(redis, sign, {"hero": "Hi Ann"})
    want = nginx.get("/streamed/index.html", headers=cookie).body
    for _ in range(2):
        nginx.get(path + "index.html", headers=cookie)

    raw = raw_exchange(nginx.port,
                       build_request("GET", path + "index.html",
                                     dict(cookie, Connection="keep-alive")),
                       build_request("GET", "/plain/index.html"))
    status, _, _, rest = parse_head(raw)
    assert status == 200
    d = Dechunker()
    d.feed(rest)
    assert d.done and d.body == want and d.chunks.count(0) == 1, "one page, one terminator"
    status, _, _, second = parse_head(d.pending)
    assert status == 200 and second == PAGE, "the next response on the connection is intact"
    assert counters(nginx)[0] == 1, "the first one was a replay"


def test_a_head_request_leaves_the_copy_alone(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    cookie = visitor(redis, sign, {"hero": "Hi Ann"})
    for _ in range(2):
        nginx.get("/proxied/index.html", headers=cookie)
    head = nginx.get("/proxied/index.html", method="HEAD", headers=cookie)
    assert head.status == 200 and head.body == b""
    got = nginx.get("/proxied/index.html", headers=cookie)
    assert b"Hi Ann" in got.body
    replays, reads, mismatches, _ = counters(nginx)
    assert (replays, reads, mismatches) == (1, 1, 0), "the HEAD neither dropped nor used the copy"


def test_a_body_in_the_upstreams_temp_file_is_copied_and_matched(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    cookie = visitor(redis, sign, {"hero": "Hi Ann"})
    want = nginx.get("/streamed/index.html", headers=cookie).body
    for _ in range(3):
        assert nginx.get("/bypass/index.html", headers=cookie).body == want
    replays, reads, mismatches, _ = counters(nginx)
    assert (replays, reads, mismatches) == (1, 1, 0), "copied from the temp file, then matched"


def test_proxied_off_keeps_proxied_pages_streaming(nginx, redis, keys, sign):
    start(nginx, redis, keys, page_cache="tailor_page_cache proxied=off;")
    cookie = visitor(redis, sign, {"hero": "Hi Ann"})
    want = nginx.get("/streamed/index.html", headers=cookie).body
    for _ in range(4):
        assert nginx.get("/proxied/index.html", headers=cookie).body == want
    assert counters(nginx) == (0, 0, 0, 5 * len(PAGE))
    assert b"Hi Ann" in nginx.get("/plain-tailored/index.html", headers=cookie).body
    assert counters(nginx)[0] == 1, "a file is still replayed"


def test_a_bad_proxied_value_fails_nginx_t(nginx, redis, keys):
    nginx.write_file("html/index.html", PAGE)
    nginx.write(page_http(redis, keys, "127.0.0.1:9", "tailor_page_cache proxied=maybe;"))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "tailor_page_cache" in out and "proxied=on|off" in out and "nginx.conf:" in out
