# A reload while slow clients are in the middle of large personalized pages (replayed from
# the page cache, streamed from a file, streamed from an upstream): the old worker finishes
# them, or, past worker_shutdown_timeout, cuts them. A cut page never looks complete, the
# old worker exits without an alert (its page cache goes while responses may still point
# into its pages), and the new workers serve whole pages.

import socket
import time

import pytest

import scenario
from http_client import Dechunker, build_request
from scenario import PAGE

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    tailor_page_cache page_max=8m size=64m;

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 2s;
        limit_rate 1m;

        location /up/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
        }
        location /fast/ { alias html/; limit_rate 0; }
    }
"""

BIG = PAGE.replace(b"<main>", b"<main>" + b"<p>a line of the page</p>\n" * 120000)  # ~3 MB
PERSONALIZED = BIG.replace(b"Welcome, shopper", b"Hi Ann")


@pytest.mark.parametrize("timeout", ["1s", None])
def test_a_reload_while_pages_are_half_sent(nginx, redis, keys, sign, backend, timeout):
    cookie = scenario.known_visitor(redis, sign)
    b = backend(body=BIG, chunk_size=65536, chunked=False)
    nginx.write_file("html/big.html", BIG)
    main = "worker_shutdown_timeout %s;" % timeout if timeout else ""
    nginx.write(SITE, main=main, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    nginx.start()
    assert nginx.get("/fast/big.html", headers=cookie).body == PERSONALIZED  # cached

    socks = []
    for path in ("/big.html", "/up/big.html"):
        s = socket.create_connection(("127.0.0.1", nginx.port), timeout=30)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.sendall(build_request("GET", path, cookie))
        socks.append((s, s.recv(8192)))
    time.sleep(0.3)
    nginx.reload()

    for path, (s, raw) in zip(("/big.html", "/up/big.html"), socks):
        while True:
            data = s.recv(65536)
            if not data:
                break
            raw += data
        s.close()
        head, _, wire = raw.partition(b"\r\n\r\n")
        d = Dechunker()
        d.feed(wire)
        if d.done:
            assert d.body == PERSONALIZED
        else:
            assert timeout, ("without a shutdown timeout the old worker finishes the page",
                             path, len(d.body), len(PERSONALIZED), nginx.log_tail(30))
            assert PERSONALIZED.startswith(d.body)
    for path in ("/fast/big.html", "/big.html"):
        assert nginx.get(path, headers=cookie, timeout=30).body == PERSONALIZED
