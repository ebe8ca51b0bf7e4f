# Clients that go away (a reset, not a polite close) at every stage of a personalized
# page: while the profile is being read from a Redis that does not answer yet, in the
# middle of a streamed proxied page whose upstream is stalled, and in the middle of a
# large page replayed from the page cache or streamed from a file. The worker stays the
# same process, logs no alert, and the next visitor's page is whole.

import socket
import struct
import time

import pytest

import scenario
from http_client import build_request
from scenario import PAGE

BIG = PAGE.replace(b"<main>", b"<main>" + b"<p>a line of the page</p>\n" * 30000)  # ~800 KB
HUGE = PAGE.replace(b"<main>", b"<main>" + b"<p>a line of the page</p>\n" * 120000)  # ~3 MB

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}} sndbuf=16k;
        root html;
        tailor on;
        tailor_timeout 1500ms;

        location /up/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
        }
        location /up-unbuffered/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
            proxy_buffering off;
        }
    }
"""


def personalized(page):
    return page.replace(b"Welcome, shopper", b"Hi Ann")


@pytest.fixture
def shop(nginx, redis, keys, sign, backend):
    cookie = scenario.known_visitor(redis, sign)
    b = backend(body=PAGE, chunk_size=1024, chunked=True, stall_at=len(PAGE) // 2,
                routes={"/big.html": {"body": BIG, "chunk_size": 65536, "stall_at": None,
                                      "chunked": False, "headers": [("ETag", '"big"')]}})
    nginx.write_file("html/index.html", PAGE)
    nginx.write_file("html/big.html", BIG)
    nginx.write_file("html/huge.html", HUGE)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    nginx.start()
    return nginx, cookie, b


def reset_after(nginx, path, cookie, read=0, wait=0.0):
    """Sends a GET, reads `read` bytes (0: none), waits, then resets the connection."""
    s = socket.create_connection(("127.0.0.1", nginx.port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(build_request("GET", path, cookie))
    got = b""
    while len(got) < read:
        data = s.recv(4096)
        if not data:
            break
        got += data
    time.sleep(wait)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return got


def assert_healthy(nginx, cookie, workers):
    for path, page in (("/index.html", PAGE), ("/big.html", BIG), ("/up/big.html", BIG)):
        r = nginx.get(path, headers=cookie, timeout=30)
        assert r.status == 200 and r.body == personalized(page), path
    assert nginx.workers() == workers, "no worker restarted"


def test_reset_while_the_profile_is_read(shop, redis):
    nginx, cookie, _ = shop
    workers = nginx.workers()
    nginx.get("/index.html", headers=cookie)  # connected to Redis
    redis.pause()
    try:
        for _ in range(5):
            reset_after(nginx, "/index.html", cookie)
        time.sleep(0.3)
    finally:
        redis.resume()  # the replies come for requests whose clients are gone
    time.sleep(0.5)
    for _ in range(3):
        reset_after(nginx, "/index.html", cookie)
    assert_healthy(nginx, cookie, workers)


@pytest.mark.parametrize("path", ["/up/index.html", "/up-unbuffered/index.html"])
def test_reset_while_the_upstream_is_stalled(shop, path):
    nginx, cookie, b = shop
    workers = nginx.workers()
    got = reset_after(nginx, path, cookie, read=1, wait=0.3)
    assert got.startswith(b"HTTP/1.1 200"), got[:100]
    assert b.stalled.wait(5)
    time.sleep(0.3)
    b.resume()
    assert_healthy(nginx, cookie, workers)


@pytest.mark.parametrize("path", ["/big.html", "/huge.html", "/up/big.html"])
def test_reset_in_the_middle_of_a_large_page(shop, path):
    nginx, cookie, _ = shop
    workers = nginx.workers()
    for _ in range(3):  # read into the page cache, then replayed (huge.html streams)
        got = reset_after(nginx, path, cookie, read=20000, wait=0.2)
        assert got.startswith(b"HTTP/1.1 200"), got[:100]
    time.sleep(0.3)
    assert_healthy(nginx, cookie, workers)
