# Rendered pages: when the same fills come back for a page nginx sends with sendfile, the page
# filter writes the personalized body once to an unlinked file and sends that file, as nginx
# sends a static one. Its bytes are the streaming rewriter's, its framing holds on keep-alive
# connections (the chunked framing is in the file) and for HTTP/1.0, it never reaches a visitor
# whose fills differ, and whatever stops it (rendered=0, a filter that needs the body in
# memory, a temp directory that is gone) leaves the page replayed from memory, unchanged.

import gzip
import shutil
import socket

from http_client import build_request
from metrics_text import metric
import scenario
from scenario import PAGE
from test_pipelined_requests import read_responses


def site(redis, keys, page_cache="", extra=""):
    return """
    tailor_redis %s connect_timeout=100ms;
    tailor_keys %s;
    tailor_cache off;
    %s

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        sendfile on;
        tailor_timeout 2s;
        keepalive_requests 1000;
        %s

        location / { tailor on; }
        location /plain/ { alias html/; tailor off; }
        # the same bytes, proxied without a validator: the streaming rewriter's page
        location /streamed/ {
            tailor on;
            proxy_hide_header ETag;
            proxy_pass http://127.0.0.1:{{PORT}}/plain/;
        }
        location = /tailor-status { tailor_status; }
    }
""" % (redis.address, keys.path, page_cache, extra)


def start(nginx, redis, keys, **kw):
    nginx.write_file("html/index.html", PAGE)
    nginx.write(site(redis, keys, **kw))
    nginx.start()


def rendered(nginx):
    m = scenario.status_metrics(nginx)
    return {k: metric(m, "tailor_page_%s_total" % k)
            for k in ("rendered", "renders", "render_failures", "replays")}


def streamed(nginx, cookie):
    return nginx.get("/streamed/index.html", headers=cookie).body


def test_the_second_sight_writes_the_body_and_later_ones_send_it(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann", "promo": "<b>10%</b>"})
    want = streamed(nginx, cookie)
    assert b"Hi Ann" in want
    bodies = [nginx.get("/index.html", headers=cookie) for _ in range(4)]
    for r in bodies:
        assert r.status == 200
        assert r.body == want, "byte for byte the streaming rewriter's page"
        assert r.header("Transfer-Encoding") == "chunked" and not r.has("Content-Length")
        assert "private" in r.header("Cache-Control", "")
    c = rendered(nginx)
    assert c["replays"] == 4
    assert c["renders"] == 1, "written once, the second time"
    assert c["rendered"] == 3, "the second and every later response sent the file"
    assert c["render_failures"] == 0


def test_pipelined_responses_from_the_file_are_framed(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann"})
    want = streamed(nginx, cookie)
    s = socket.create_connection(("127.0.0.1", nginx.port), timeout=15)
    try:
        headers = dict(cookie)
        headers["Connection"] = "keep-alive"
        methods = ["GET", "GET", "HEAD", "GET", "GET"]
        s.sendall(b"".join(build_request(m, "/index.html", headers) for m in methods))
        got = read_responses(s, methods)
    finally:
        s.close()
    for (status, hdrs, body), method in zip(got, methods):
        assert status == 200
        assert body == (b"" if method == "HEAD" else want)
    assert rendered(nginx)["rendered"] >= 2


def test_an_http10_client_gets_the_body_unframed(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann"})
    want = streamed(nginx, cookie)
    request = b"GET /index.html HTTP/1.0\r\nHost: x\r\nCookie: %s\r\n\r\n" % (
        cookie["Cookie"].encode())
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", nginx.port), timeout=15)
        try:
            s.sendall(request)
            raw = b""
            while True:
                data = s.recv(65536)
                if not data:
                    break
                raw += data
        finally:
            s.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert b"chunked" not in head.lower()
        assert body == want
    assert rendered(nginx)["rendered"] == 2


def test_a_file_never_reaches_a_visitor_whose_fills_differ(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    visitors = [scenario.known_visitor(redis, sign, {"hero": "Hi %s" % name})
                for name in ("Ann", "Bob", "Cy")]
    wants = [streamed(nginx, v) for v in visitors]
    for _ in range(4):
        for v, want in zip(visitors, wants):
            assert nginx.get("/index.html", headers=v).body == want
    c = rendered(nginx)
    assert c["renders"] == 3, "one file per visitor's own fills"
    assert c["rendered"] == 3 * 3


def test_aio_threads_and_a_proxy_cache_hit_send_the_file_too(nginx, redis, keys, sign):
    start(nginx, redis, keys, page_cache="proxy_cache_path cache keys_zone=pages:1m;",
          extra="""
        location /aio/ { alias html/; tailor on; aio threads; }
        location /cached/ {
            tailor on;
            proxy_pass http://127.0.0.1:{{PORT}}/plain/;
            proxy_cache pages;
            proxy_cache_valid 200 1h;
        }""")
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann"})
    want = streamed(nginx, cookie)
    for _ in range(3):
        assert nginx.get("/aio/index.html", headers=cookie).body == want
    assert rendered(nginx)["rendered"] == 2
    for _ in range(4):  # a miss streams; the hits are the cache file's body
        assert nginx.get("/cached/index.html", headers=cookie).body == want
    c = rendered(nginx)
    assert c["renders"] == 2 and c["rendered"] == 2 + 2


def test_add_before_and_after_body_keep_the_page_in_memory(nginx, redis, keys, sign):
    # nginx's addition filter adds its bytes after the page filter, without asking for
    # memory: a file carrying its own chunked framing would leave them outside it
    nginx.write_file("html/inc.html", b"<p>included</p>")
    start(nginx, redis, keys, extra="""
        location /around/ {
            alias html/;
            tailor on;
            add_before_body /inc.html;
            add_after_body /inc.html;
        }
        location = /inc.html { tailor off; }""")
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann"})
    want = b"<p>included</p>" + streamed(nginx, cookie) + b"<p>included</p>"
    s = socket.create_connection(("127.0.0.1", nginx.port), timeout=15)
    try:
        headers = dict(cookie)
        headers["Connection"] = "keep-alive"
        s.sendall(build_request("GET", "/around/index.html", headers) * 3)
        got = read_responses(s, ["GET"] * 3)
    finally:
        s.close()
    assert [body for _, _, body in got] == [want] * 3
    assert rendered(nginx)["rendered"] == 0


def test_a_low_descriptor_limit_caps_the_files_kept(nginx, redis, keys, sign):
    # 128 descriptors: at most 128 / 16 = 8 bodies kept open
    nginx.write_file("html/index.html", PAGE)
    for i in range(12):
        nginx.write_file("html/p%d.html" % i, PAGE)
    nginx.write(site(redis, keys), main="worker_rlimit_nofile 128;")
    nginx.start()
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann"})
    want = streamed(nginx, cookie)
    for _ in range(3):
        for i in range(12):
            assert nginx.get("/p%d.html" % i, headers=cookie).body == want
    c = rendered(nginx)
    assert c["renders"] == 8 and c["render_failures"] == 0
    assert c["rendered"] == 8 * 2


def test_rendered_0_replays_every_page_from_memory(nginx, redis, keys, sign):
    start(nginx, redis, keys, page_cache="tailor_page_cache rendered=0;")
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann"})
    want = streamed(nginx, cookie)
    for _ in range(3):
        assert nginx.get("/index.html", headers=cookie).body == want
    c = rendered(nginx)
    assert (c["replays"], c["renders"], c["rendered"]) == (3, 0, 0)


def test_without_sendfile_the_page_leaves_memory(nginx, redis, keys, sign):
    start(nginx, redis, keys, extra="location /nosendfile/ { alias html/; tailor on; "
                                    "sendfile off; }")
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann"})
    want = streamed(nginx, cookie)
    for _ in range(3):
        assert nginx.get("/nosendfile/index.html", headers=cookie).body == want
    assert rendered(nginx)["rendered"] == 0


def test_gzip_reads_the_page_in_memory_so_it_is_not_rendered(nginx, redis, keys, sign):
    start(nginx, redis, keys, extra="gzip on; gzip_types text/html; gzip_min_length 1;")
    cookie = scenario.known_visitor(redis, sign, {"hero": "Zipped Ann"})
    want = streamed(nginx, cookie)
    headers = dict(cookie)
    headers["Accept-Encoding"] = "gzip"
    for _ in range(3):
        r = nginx.get("/index.html", headers=headers)
        assert r.header("Content-Encoding") == "gzip"
        assert gzip.decompress(r.body) == gzip.decompress(
            nginx.get("/streamed/index.html", headers=headers).body) == want
    assert rendered(nginx)["rendered"] == 0


def test_a_temp_directory_gone_falls_back_to_memory_and_says_so(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    shutil.rmtree(nginx.path("temp", "client_body"))
    nginx.allow_log(r"page not rendered to a file")
    cookie = scenario.known_visitor(redis, sign, {"hero": "Hi Ann"})
    want = streamed(nginx, cookie)
    for _ in range(4):
        assert nginx.get("/index.html", headers=cookie).body == want
    c = rendered(nginx)
    assert c["rendered"] == 0 and c["render_failures"] >= 1 and c["replays"] == 4
    assert "page not rendered to a file" in nginx.read_log()
    assert "No such file or directory" in nginx.read_log()


def test_a_bad_rendered_parameter_fails_nginx_t(nginx, redis, keys):
    nginx.write_file("html/index.html", PAGE)
    nginx.write(site(redis, keys, page_cache="tailor_page_cache rendered=many;"))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "rendered=N" in out and "nginx.conf:" in out
