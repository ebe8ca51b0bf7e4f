# A personalized page with nginx's add_after_body (the addition filter, which
# sits after Tailor's body filter). On the page's last_buf the addition filter
# turns it into a sync, starts the footer's subrequest and ends the response
# with a last_buf of its own, sent from the top of the filter chain while
# Tailor's body filter is still handing its output on. That call used to be
# taken for the upstream's: a page that ended at its declared length dropped
# it (the chunked body never ended: the footer missing, and the client waiting
# for the terminator until nginx closed a keep-alive connection), and with a
# slow client, whose bytes were still queued, the already passed chain was
# passed again ("zero size buf in writer", the connection cut mid-page).

import socket
import time

import pytest

import scenario
from http_client import Dechunker, build_request, read_until_close
from scenario import PAGE, cookie_header
from visitor import new_vid

FOOTER = b"<footer>after the body</footer>\n"

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}} sndbuf=8k;
        root html;

        location /up/ {
            tailor on;
            tailor_timeout 2s;
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
            add_after_body /footer.html;
        }

        location = /footer.html {
        }
    }
"""


def start(nginx, redis, keys, sign, backend, body, **kw):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=body, **kw)
    nginx.write_file("html/footer.html", FOOTER)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    nginx.start()
    return cookie_header("tailor_vid", sign(vid))


def personalized(body):
    return body.replace(b"Welcome, shopper", b"Hi Ann") + FOOTER


@pytest.mark.parametrize("framing", ["length", "chunked", "length+etag"])
def test_the_footer_follows_the_personalized_page(nginx, redis, keys, sign, backend, framing):
    headers = [("ETag", '"v1"')] if framing == "length+etag" else []
    cookie = start(nginx, redis, keys, sign, backend, PAGE, chunk_size=4096,
                   chunked=framing == "chunked", headers=headers)
    # with a strong ETag the third is replayed from the page cache's copy
    for _ in range(3):
        r = nginx.get("/up/index.html", headers=cookie)
        assert r.status == 200, r
        assert r.body == personalized(PAGE)


@pytest.mark.parametrize("chunked", [True, False])
def test_a_slow_client_gets_the_whole_page_and_the_footer(nginx, redis, keys, sign, backend,
                                                          chunked):
    page = PAGE.replace(b"<main>", b"<main>" + b"<p>a line of the page</p>\n" * 12000)
    cookie = start(nginx, redis, keys, sign, backend, page, chunk_size=65536, chunked=chunked)
    s = socket.create_connection(("127.0.0.1", nginx.port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(build_request("GET", "/up/index.html", cookie))
    time.sleep(0.5)  # nginx fills the socket; the rest of the page stays queued
    raw = read_until_close(s)
    s.close()
    head, _, wire = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    body = Dechunker()
    body.feed(wire)
    assert body.done, "the chunked body ends (%d bytes)" % len(body.body)
    assert body.body == personalized(page)
