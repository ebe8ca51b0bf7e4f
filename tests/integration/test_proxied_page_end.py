# Where a proxied, personalized page ends. The upstream declares its length;
# the body filter ends the rewritten page (chunked terminator included) with
# the buffer that completes that length, not with the upstream's later empty
# last_buf (which it consumes). What must hold: exactly one terminator, so the
# next response on a keep-alive connection parses; bytes past the declared
# length never reach the client; a body cut short is never made to look
# complete.


import pytest

from http_client import Dechunker, build_request, parse_head, raw_exchange
from raw_backend import RawBackend
from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header


EXPECTED = PAGE.replace(scenario.DEFAULT_HERO,
                        b"<tailor-slot name=\"hero\">Hi Ann</tailor-slot>")


def buffered_location(backend):
    """/buf/: the same upstream with proxy_buffering on (the default), nested in
    the Tailor location so it inherits `tailor on`."""
    return """
            location /buf/ {
                proxy_pass http://%s/;
                proxy_http_version 1.1;
                proxy_set_header Connection "";
            }""" % backend


def keepalive_pair(port, first, headers):
    """GET `first` then /plain/index.html on one connection; returns the raw bytes."""
    return raw_exchange(port, build_request("GET", first, dict(headers, Connection="keep-alive")),
                        build_request("GET", "/plain/index.html"))


def split_first(raw):
    """(dechunked first body, its chunk sizes, the bytes after its terminator)."""
    status, _, headers, rest = parse_head(raw)
    assert status == 200
    te = ",".join(v for k, v in headers if k.lower() == "transfer-encoding").lower()
    assert "chunked" in te
    d = Dechunker()
    d.feed(rest)
    assert d.done, "the first response's chunked body ended"
    return d.body, d.chunks, d.pending


def start(nginx, redis, keys, sign, backend_address):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=backend_address,
                        location_extra=buffered_location(backend_address))
    return cookie_header("tailor_vid", sign(vid))


@pytest.mark.parametrize("path", ["/up/index.html", "/buf/index.html"],
                         ids=["unbuffered", "buffered"])
@pytest.mark.parametrize("chunk_size", [1, 7, 4096, len(PAGE)])
def test_page_with_length_ends_once_and_keepalive_continues(nginx, redis, keys, sign, backend,
                                                            path, chunk_size):
    b = backend(body=PAGE, chunk_size=chunk_size, chunked=False)
    cookie = start(nginx, redis, keys, sign, b.address)
    raw = keepalive_pair(nginx.port, path, cookie)
    body, chunks, after = split_first(raw)
    assert body == EXPECTED, "slot filled, the rest byte-identical"
    assert chunks.count(0) == 1, "one terminator"
    status, _, _, rest = parse_head(after)
    assert status == 200 and rest == PAGE, "the next response on the connection is intact"


@pytest.mark.parametrize("path", ["/up/index.html", "/buf/index.html"],
                         ids=["unbuffered", "buffered"])
def test_page_without_length_still_ends(nginx, redis, keys, sign, backend, path):
    b = backend(body=PAGE, chunk_size=100, chunked=True)
    cookie = start(nginx, redis, keys, sign, b.address)
    body, chunks, after = split_first(keepalive_pair(nginx.port, path, cookie))
    assert body == EXPECTED and chunks.count(0) == 1
    assert parse_head(after)[3] == PAGE


@pytest.mark.parametrize("path", ["/up/index.html", "/buf/index.html"],
                         ids=["unbuffered", "buffered"])
def test_bytes_past_the_declared_length_never_reach_the_client(nginx, redis, keys, sign, path):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(PAGE)
    b = RawBackend(head + PAGE + b"<p>past the length</p>", close=True).start()
    try:
        cookie = start(nginx, redis, keys, sign, b.address)
        body, chunks, after = split_first(keepalive_pair(nginx.port, path, cookie))
        assert body == EXPECTED and chunks.count(0) == 1
        assert parse_head(after)[3] == PAGE
    finally:
        b.stop()


@pytest.mark.parametrize("path", ["/up/index.html", "/buf/index.html"],
                         ids=["unbuffered", "buffered"])
def test_body_cut_short_is_not_made_complete(nginx, redis, keys, sign, path):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % (
        len(PAGE) + 100)
    b = RawBackend(head + PAGE, close=True).start()
    try:
        cookie = start(nginx, redis, keys, sign, b.address)
        raw = raw_exchange(nginx.port, build_request("GET", path, cookie))
        _, _, _, rest = parse_head(raw)
        d = Dechunker()
        d.feed(rest)
        assert not d.done, "no terminator: the client can tell the page is incomplete"
        assert EXPECTED.startswith(d.body), "what was sent is the page's prefix"
    finally:
        b.stop()
