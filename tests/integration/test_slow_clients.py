# A client that reads a large personalized page slowly (a small receive buffer, pauses):
# nginx's output backs up, and the module's views into the upstream's buffers (with
# proxy_buffering off, the one buffer the upstream is read into) must keep those bytes
# from being reused until they are sent. Proxied buffered, unbuffered, replayed from the
# page cache, and static; every byte must arrive in order.

import socket
import time

import pytest

import scenario
from http_client import Dechunker, build_request
from scenario import PAGE

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    tailor_page_cache page_max=4m;

    server {
        listen 127.0.0.1:{{PORT}} sndbuf=8k;
        root html;
        tailor on;
        tailor_timeout 2s;

        location /up/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
            proxy_buffers 4 8k;
        }
        location /unbuffered/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_buffer_size 4k;
        }
    }
"""

# lines that differ, so that a reused buffer shows as bytes out of place
BIG = PAGE.replace(b"<main>", b"<main>" + b"".join(
    b"<p>line %07d</p>\n<tailor-slot name=\"hero\">Welcome, shopper</tailor-slot>\n" % i
    if i % 500 == 0 else b"<p>line %07d</p>\n" % i for i in range(8000)))
PERSONALIZED = BIG.replace(b"Welcome, shopper", b"Hi Ann")


@pytest.fixture
def shop(nginx, redis, keys, sign, backend):
    cookie = scenario.known_visitor(redis, sign)
    b = backend(body=BIG, chunk_size=16384, chunked=False,
                routes={"/chunked.html": {"chunked": True, "chunk_size": 3000},
                        "/etag.html": {"headers": [("ETag", '"v1"')]}})
    nginx.write_file("html/big.html", BIG)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    nginx.start()
    return nginx, cookie


def slow_get(nginx, path, cookie):
    s = socket.create_connection(("127.0.0.1", nginx.port), timeout=20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    try:
        s.sendall(build_request("GET", path, cookie))
        raw = b""
        n = 0
        while True:
            data = s.recv(8192)
            if not data:
                break
            raw += data
            n += 1
            if n % 40 == 0:
                time.sleep(0.01)
    finally:
        s.close()
    head, _, wire = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:100]
    d = Dechunker()
    d.feed(wire)
    assert d.done, "the chunked body ends"
    return d.body


@pytest.mark.parametrize("path", ["/up/big.html", "/up/chunked.html", "/unbuffered/big.html",
                                  "/unbuffered/chunked.html", "/up/etag.html", "/big.html"])
def test_a_slow_reader_gets_every_byte_in_order(shop, path):
    nginx, cookie = shop
    for _ in range(3 if "etag" in path else 1):  # the third ETag fetch is a replay
        body = slow_get(nginx, path, cookie)
        assert len(body) == len(PERSONALIZED)
        assert body == PERSONALIZED
