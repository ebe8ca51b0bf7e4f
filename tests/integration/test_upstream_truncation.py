# An upstream that misbehaves mid-page on a personalized proxied page. nginx tells a client
# that a response is cut by closing the connection without the chunked terminator; the
# module must never make a cut page look complete (a terminator after the upstream broke
# off, or the cached copy's bytes in place of the ones that never came), and the worker
# stays up. (A page the page cache compares with its copy sends nothing until the
# upstream's last byte, so a cut one ends with no response at all: the head waits with
# the body.) An HTTP/1.0 upstream that ends its page by closing is not cut: that page ends.

import socket

import pytest

import scenario
from http_client import Dechunker, build_request, parse_head, read_until_close
from raw_backend import RawBackend
from scenario import PAGE

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}};

        location / {
            tailor on;
            tailor_timeout 2s;
            proxy_pass http://{{BACKEND}};
            proxy_read_timeout 1s;
            %s
        }
    }
"""

PERSONALIZED = PAGE.replace(b"Welcome, shopper", b"Hi Ann")


def start(nginx, redis, keys, sign, backend_address, extra=""):
    cookie = scenario.known_visitor(redis, sign)
    nginx.write(SITE % extra, REDIS=redis.address, KEYS=keys.path, BACKEND=backend_address)
    nginx.start()
    return cookie


def exchange(nginx, cookie, timeout=10):
    """(status, headers, Dechunker) of one GET read to the connection's close."""
    s = socket.create_connection(("127.0.0.1", nginx.port), timeout=timeout)
    try:
        s.sendall(build_request("GET", "/index.html", cookie))
        raw = read_until_close(s)
    finally:
        s.close()
    if raw == b"":
        return None, {}, None
    status, _, headers, rest = parse_head(raw)
    d = Dechunker()
    d.feed(rest)
    return status, dict((k.lower(), v) for k, v in headers), d


def response(head, body):
    return head + b"\r\n\r\n" + body


def assert_cut(status, headers, d, sent, may_be_empty=False):
    if status is None:
        # the replay path holds the page until the upstream's last byte: a cut
        # one never sent a byte, its head included (it waits for the body)
        assert may_be_empty, "nginx closed without a response"
        return
    assert status == 200
    assert headers.get("transfer-encoding") == "chunked", headers
    assert not d.done, "a cut page must not end with the chunked terminator"
    assert PERSONALIZED.startswith(d.body) or PAGE.startswith(d.body), "no foreign bytes"
    assert len(d.body) <= len(PERSONALIZED) - (len(PAGE) - sent), "nothing past what came"


@pytest.mark.parametrize("buffering", ["on", "off"])
@pytest.mark.parametrize("etag", [False, True])
def test_an_upstream_that_closes_short_of_its_length(nginx, redis, keys, sign, etag, buffering):
    sent = len(PAGE) // 2
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d" % len(PAGE)
    if etag:
        head += b'\r\nETag: "v1"'
    full = RawBackend(response(head, PAGE), close=True).start()
    try:
        cookie = start(nginx, redis, keys, sign, full.address,
                       extra="proxy_buffering %s;" % buffering)
        if etag:
            # the page cache keeps a copy of the whole page under its ETag, so
            # the cut one below is compared with it (the replay path)
            for _ in range(3):
                status, _, d = exchange(nginx, cookie)
                assert status == 200 and d.done and d.body == PERSONALIZED
        full.response = response(head, PAGE[:sent])
        status, headers, d = exchange(nginx, cookie)
        assert_cut(status, headers, d, sent, may_be_empty=etag)
        nginx.allow_log(r"upstream prematurely closed connection")
        # the next, whole page is still right
        full.response = response(head, PAGE)
        status, _, d = exchange(nginx, cookie)
        assert status == 200 and d.done and d.body == PERSONALIZED
    finally:
        full.stop()


def test_an_upstream_that_stalls_past_proxy_read_timeout(nginx, redis, keys, sign, backend):
    sent = len(PAGE) // 2
    b = backend(body=PAGE, chunk_size=1024, chunked=False, stall_at=sent)
    cookie = start(nginx, redis, keys, sign, b.address)
    nginx.allow_log(r"upstream timed out")
    status, headers, d = exchange(nginx, cookie)
    assert_cut(status, headers, d, sent)


def test_an_http10_upstream_that_ends_by_closing(nginx, redis, keys, sign):
    head = b"HTTP/1.0 200 OK\r\nContent-Type: text/html"
    up = RawBackend(response(head, PAGE), close=True).start()
    try:
        cookie = start(nginx, redis, keys, sign, up.address)
        for _ in range(2):
            status, headers, d = exchange(nginx, cookie)
            assert status == 200 and d.done, headers
            assert d.body == PERSONALIZED
    finally:
        up.stop()


def test_an_upstream_whose_chunked_framing_breaks_mid_page(nginx, redis, keys, sign):
    sent = len(PAGE) // 2
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked"
    body = b"%x\r\n%s\r\nzz-not-a-chunk-size\r\n" % (sent, PAGE[:sent])
    up = RawBackend(response(head, body), close=True).start()
    try:
        cookie = start(nginx, redis, keys, sign, up.address)
        nginx.allow_log(r"upstream sent invalid chunked response")
        status, headers, d = exchange(nginx, cookie)
        # nginx itself (tailor off as well) sends nothing when the break comes in
        # the same read as the page's first bytes
        assert_cut(status, headers, d, sent, may_be_empty=True)
    finally:
        up.stop()


def test_an_upstream_that_sends_more_than_its_length(nginx, redis, keys, sign):
    # the page ends at the declared length; what follows is not part of it
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d" % len(PAGE)
    up = RawBackend(response(head, PAGE + b"<script>evil()</script>"), close=True).start()
    try:
        cookie = start(nginx, redis, keys, sign, up.address)
        for _ in range(3):
            status, _, d = exchange(nginx, cookie)
            assert status == 200 and d.done and d.body == PERSONALIZED
    finally:
        up.stop()
