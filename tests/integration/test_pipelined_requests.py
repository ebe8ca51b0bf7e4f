# Several requests pipelined on one keep-alive connection (sent at once, before any answer):
# personalized static pages, proxied pages ended at their declared length, chunked ones,
# replays from the page cache, HEADs and a generic page, each waiting for its profile from
# Redis in turn. Every response is framed so that the next one starts where it ends, and
# each body is whole.

import socket

import pytest

import scenario
from http_client import Dechunker, build_request
from scenario import PAGE, cookie_header
from visitor import new_vid

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    tailor_cache off;

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 2s;
        keepalive_requests 1000;

        location /up/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
        }
    }
"""

PERSONALIZED = PAGE.replace(b"Welcome, shopper", b"Hi Ann")


def read_responses(sock, methods):
    """Reads one response per method off the connection: [(status, headers, body)]."""
    buf = b""
    out = []
    for method in methods:
        while b"\r\n\r\n" not in buf:
            data = sock.recv(65536)
            assert data, "connection closed after %d responses" % len(out)
            buf += data
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = b""
        if method == "HEAD":
            pass
        elif headers.get("transfer-encoding") == "chunked":
            d = Dechunker()
            d.feed(buf)
            while not d.done:
                data = sock.recv(65536)
                assert data, "chunked body cut"
                d.feed(data)
            body, buf = d.body, d.pending
        else:
            n = int(headers["content-length"])
            while len(buf) < n:
                data = sock.recv(65536)
                assert data
                buf += data
            body, buf = buf[:n], buf[n:]
        out.append((status, headers, body))
    return out


@pytest.fixture
def shop(nginx, redis, keys, sign, backend):
    if not scenario.module_has("tailor_cache"):
        pytest.skip("needs tailor_cache")
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, chunk_size=4096, chunked=False,
                routes={"/chunked.html": {"chunked": True},
                        "/etag.html": {"headers": [("ETag", '"v1"')]}})
    nginx.write_file("html/index.html", PAGE)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    nginx.start()
    return nginx, cookie_header("tailor_vid", sign(vid))


def test_pipelined_personalized_pages(shop):
    nginx, cookie = shop
    plan = [("GET", "/index.html", PERSONALIZED), ("GET", "/up/index.html", PERSONALIZED),
            ("HEAD", "/index.html", b""), ("GET", "/up/chunked.html", PERSONALIZED),
            ("HEAD", "/up/index.html", b"")]
    plan += [("GET", "/up/etag.html", PERSONALIZED)] * 3 + [("GET", "/index.html", PERSONALIZED)]
    generic = {"Cookie": "tailor_vid=nobody"}
    plan_headers = [cookie] * len(plan) + [generic]
    plan.append(("GET", "/index.html", PAGE))
    s = socket.create_connection(("127.0.0.1", nginx.port), timeout=15)
    try:
        wire = b""
        for (method, path, _), h in zip(plan, plan_headers):
            hh = dict(h)
            hh["Connection"] = "keep-alive"
            wire += build_request(method, path, hh)
        s.sendall(wire)
        got = read_responses(s, [m for m, _, _ in plan])
    finally:
        s.close()
    for (method, path, want), (status, headers, body) in zip(plan, got):
        assert status == 200, (method, path)
        assert body == want, (method, path)
