# Full pages cached in memcached (memcached_pass with default_type text/html, a common way
# to serve a shop's cached HTML): nginx's memcached module knows the value's length from
# its "VALUE key flags length" line and strips the "END" that follows. The personalized
# page ends at that length, whole; a value cut short (the server closes mid-value) never
# looks complete; a miss (404) goes to the error_page fallback, which is personalized.

import socket

import pytest

import scenario
from http_client import Dechunker, build_request, parse_head, read_until_close
from scenario import PAGE
from tcp_server import TcpServer

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 2s;

        location /mc/ {
            set $memcached_key $uri;
            memcached_pass {{MEMCACHED}};
            default_type text/html;
            error_page 404 502 504 = /fallback.html;
        }
    }
"""

PERSONALIZED = PAGE.replace(b"Welcome, shopper", b"Hi Ann")


class FakeMemcached(TcpServer):
    """Answers "get KEY" from `values` (bytes, or (bytes, cut_at) to close mid-value)."""

    def __init__(self):
        super().__init__()
        self.values = {}

    def _serve(self, s, idx):
        buf = b""
        try:
            while True:
                while b"\r\n" not in buf:
                    data = s.recv(4096)
                    if not data:
                        return
                    buf += data
                line, _, buf = buf.partition(b"\r\n")
                key = line.split(b" ", 1)[1].decode()
                value = self.values.get(key)
                if value is None:
                    s.sendall(b"END\r\n")
                    continue
                cut = None
                if isinstance(value, tuple):
                    value, cut = value
                reply = b"VALUE %s 0 %d\r\n" % (key.encode(), len(value)) + value + b"\r\nEND\r\n"
                if cut is not None:
                    s.sendall(reply[:len(reply) - len(value) - 7 + cut])
                    return
                s.sendall(reply)
        except OSError:
            pass
        finally:
            s.close()


@pytest.fixture
def shop(nginx, redis, keys, sign):
    cookie = scenario.known_visitor(redis, sign)
    mc = FakeMemcached().start()
    mc.values["/mc/index.html"] = PAGE
    nginx.write_file("html/fallback.html", PAGE)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, MEMCACHED=mc.address)
    nginx.start()
    yield nginx, cookie, mc
    mc.stop()


def exchange(nginx, path, cookie):
    s = socket.create_connection(("127.0.0.1", nginx.port), timeout=10)
    try:
        s.sendall(build_request("GET", path, cookie))
        raw = read_until_close(s)
    finally:
        s.close()
    if not raw:
        return None, {}, None
    status, _, headers, rest = parse_head(raw)
    d = Dechunker()
    d.feed(rest)
    return status, {k.lower(): v for k, v in headers}, d


def test_a_page_from_memcached_is_personalized_whole(shop):
    nginx, cookie, _ = shop
    for _ in range(3):
        status, headers, d = exchange(nginx, "/mc/index.html", cookie)
        assert status == 200 and d.done and d.body == PERSONALIZED, headers


def test_a_miss_falls_back_to_the_personalized_file(shop):
    nginx, cookie, _ = shop
    status, _, d = exchange(nginx, "/mc/missing.html", cookie)
    assert status == 200 and d.done and d.body == PERSONALIZED


def test_a_value_cut_short_never_looks_complete(shop):
    nginx, cookie, mc = shop
    mc.values["/mc/cut.html"] = (PAGE, len(PAGE) // 2)
    nginx.allow_log(r"memcached|upstream prematurely closed")
    status, headers, d = exchange(nginx, "/mc/cut.html", cookie)
    if status is not None and status == 200:
        assert not d.done, "a cut page must not end with the chunked terminator"
        assert PERSONALIZED.startswith(d.body)
    status, _, d = exchange(nginx, "/mc/index.html", cookie)
    assert status == 200 and d.done and d.body == PERSONALIZED
