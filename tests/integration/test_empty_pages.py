# Empty 200 text/html bodies for a visitor whose rules change pages: an empty static file,
# an upstream's Content-Length: 0, an upstream's chunked body with no chunks, and an
# HTTP/1.0 upstream that closes at once. Each is a whole, empty response, not a hang.

import pytest

import scenario
from raw_backend import RawBackend

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 2s;

        location /up/ { proxy_pass http://{{BACKEND}}; }
    }
"""

RESPONSES = {
    "length": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n",
    "length+etag": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n"
                   b'ETag: "e"\r\n\r\n',
    "chunked": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n"
               b"\r\n0\r\n\r\n",
    "close": b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n",
}


@pytest.mark.parametrize("kind", sorted(RESPONSES) + ["static"])
def test_an_empty_page(nginx, redis, keys, sign, kind):
    cookie = scenario.known_visitor(redis, sign)
    up = RawBackend(RESPONSES.get(kind, RESPONSES["length"]), close=True).start()
    try:
        nginx.write_file("html/empty.html", b"")
        nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=up.address)
        nginx.start()
        path = "/empty.html" if kind == "static" else "/up/empty.html"
        for method in ("GET", "HEAD", "GET", "GET"):
            r = nginx.get(path, headers=cookie, method=method, timeout=10)
            assert r.status == 200 and r.body == b"", (method, r)
    finally:
        up.stop()
