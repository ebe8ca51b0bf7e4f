# Personalized pages to an HTTP/1.0 client, which knows no chunked framing: without a
# Content-Length the page ends when nginx closes the connection, so the whole page must be
# on the wire before it does (a page ended at its upstream's declared length, a replayed
# page, a static page), and a keep-alive the client asks for is declined, never left
# open with a page of unknown length. The same for an HTTP/1.1 client where
# chunked_transfer_encoding is off.

import socket

import pytest

import scenario
from http_client import parse_head, read_until_close
from scenario import PAGE

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 2s;

        location /up/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
        }

        location /nochunk/ {
            alias html/;
            chunked_transfer_encoding off;
        }
        location /nochunk-up/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
            chunked_transfer_encoding off;
        }
    }
"""

PERSONALIZED = PAGE.replace(b"Welcome, shopper", b"Hi Ann")


@pytest.fixture
def shop(nginx, redis, keys, sign, backend):
    cookie = scenario.known_visitor(redis, sign)
    b = backend(body=PAGE, chunk_size=4096, chunked=False,
                routes={"/chunked.html": {"chunked": True},
                        "/etag.html": {"headers": [("ETag", '"v1"')]}})
    nginx.write_file("html/index.html", PAGE)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    nginx.start()
    return nginx, cookie


@pytest.mark.parametrize("path", ["/index.html", "/up/index.html", "/up/chunked.html",
                                  "/up/etag.html"])
@pytest.mark.parametrize("keepalive", [False, True])
def test_an_http10_client_gets_the_whole_page_then_the_close(shop, path, keepalive):
    nginx, cookie = shop
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", nginx.port), timeout=10)
        req = "GET %s HTTP/1.0\r\nHost: localhost\r\nCookie: %s\r\n" % (path, cookie["Cookie"])
        if keepalive:
            req += "Connection: keep-alive\r\n"
        s.sendall((req + "\r\n").encode())
        raw = read_until_close(s)  # times out if nginx kept the connection open
        s.close()
        status, _, headers, body = parse_head(raw)
        h = {k.lower(): v for k, v in headers}
        assert status == 200
        assert "transfer-encoding" not in h and "content-length" not in h, h
        assert h.get("connection", "close").lower() == "close", h
        assert body == PERSONALIZED


@pytest.mark.parametrize("path", ["/nochunk/index.html", "/nochunk-up/index.html",
                                  "/nochunk-up/etag.html"])
def test_an_http11_client_where_chunked_is_off(shop, path):
    # chunked_transfer_encoding off: the same close-delimited page for HTTP/1.1
    nginx, cookie = shop
    for _ in range(3):
        r = nginx.get(path, headers=cookie)
        assert r.status == 200 and r.body == PERSONALIZED
        assert not r.has("Transfer-Encoding") and not r.has("Content-Length")
        assert r.header("Connection") == "close"
