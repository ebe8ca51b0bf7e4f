# Personalized pages to an HTTP/2 client (h2c with prior knowledge, through curl). HTTP/2
# has no chunked framing: the page's end is the DATA frame with END_STREAM, which nginx's
# HTTP/2 filter sends for the last_buf. A page the module ends at its declared length
# (before the upstream's own last_buf), a page replayed from the page cache and a static
# page all end their stream once, whole.

import shutil
import subprocess
import time

import pytest

import scenario
from scenario import PAGE

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}} http2;
        root html;

        location / {
            tailor on;
            tailor_timeout 2s;
        }

        location /up-unbuffered/ {
            tailor on;
            tailor_timeout 2s;
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
            proxy_buffering off;
        }

        location /up/ {
            tailor on;
            tailor_timeout 2s;
            proxy_pass http://{{BACKEND}}/;
            proxy_http_version 1.1;
        }
    }
"""

PERSONALIZED = PAGE.replace(b"Welcome, shopper", b"Hi Ann")
BIG = PAGE.replace(b"<main>", b"<main>" + b"<p>a line of the page</p>\n" * 120000)  # ~3 MB
CURL = shutil.which("curl")
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def curl_h2(nginx, cookie, paths, tmp, method="GET", extra=()):
    """Fetches each of `paths` over h2c; returns [(status, headers, body)]. (One
    connection each: curl 7.88 breaks its own reuse of an h2c connection, with
    or without the module.)"""
    result = []
    for p in paths:
        argv = [CURL, "-sS", "--http2-prior-knowledge", "--max-time", "20", "-A", UA,
                "-H", "Cookie: " + cookie["Cookie"], "-D", str(tmp / "head"),
                "-o", str(tmp / "body"), "http://127.0.0.1:%d%s" % (nginx.port, p)]
        if method == "HEAD":
            argv += ["-X", "HEAD", "--max-filesize", "0"]
        argv += list(extra)
        (tmp / "body").write_bytes(b"")
        done = subprocess.run(argv, capture_output=True, timeout=30)
        assert done.returncode == 0, (p, done.stderr)
        lines = (tmp / "head").read_bytes().decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/2 "), lines[0]
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.setdefault(k.strip().lower(), v.strip())
        result.append((int(lines[0].split()[1]), headers, (tmp / "body").read_bytes()))
    return result


@pytest.fixture
def shop(nginx, redis, keys, sign, backend):
    if CURL is None or b"HTTP2" not in subprocess.run([CURL, "-V"], capture_output=True).stdout:
        pytest.skip("needs curl with HTTP/2")
    cookie = scenario.known_visitor(redis, sign)
    b = backend(body=PAGE, chunk_size=4096, chunked=False,
                routes={"/chunked.html": {"chunked": True},
                        "/big.html": {"body": BIG, "chunk_size": 65536},
                        "/etag.html": {"headers": [("ETag", '"v1"')]}})
    nginx.write_file("html/index.html", PAGE)
    nginx.write_file("html/big.html", BIG)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    nginx.start()
    return nginx, cookie


PATHS = ["/index.html", "/up/index.html", "/up/chunked.html", "/up/etag.html"]


def test_personalized_pages_over_one_h2_connection(shop, tmp_path):
    nginx, cookie = shop
    workers = nginx.workers()
    # three rounds: the static page and the ETag page are replayed from the page cache
    for status, headers, body in curl_h2(nginx, cookie, PATHS * 3, tmp_path):
        assert status == 200
        assert body == PERSONALIZED
        assert "content-length" not in headers
        assert headers.get("cache-control") == "private"
    assert nginx.workers() == workers


def test_head_over_h2(shop, tmp_path):
    nginx, cookie = shop
    for status, headers, body in curl_h2(nginx, cookie, PATHS, tmp_path, method="HEAD"):
        assert status == 200 and body == b""
        assert "content-length" not in headers
    # and a GET after them is whole
    for status, _, body in curl_h2(nginx, cookie, PATHS, tmp_path):
        assert status == 200 and body == PERSONALIZED


@pytest.mark.parametrize("paused", [0.6, 2.5])
def test_h2_clients_that_leave_while_the_profile_is_read(shop, redis, tmp_path, paused):
    # curl gives up (and closes the connection) while Redis does not answer: the
    # streams wait in the access phase, their connection gone, until the replies
    # come (0.6 s) or the 2 s deadline passes (2.5 s)
    nginx, cookie = shop
    workers = nginx.workers()
    curl_h2(nginx, cookie, ["/index.html"], tmp_path)  # connected to Redis
    redis.pause()
    try:
        procs = [subprocess.Popen([CURL, "-s", "--http2-prior-knowledge", "--max-time", "0.3",
                                   "-A", UA, "-H", "Cookie: " + cookie["Cookie"], "-o",
                                   "/dev/null", "--parallel"]
                                  + ["http://127.0.0.1:%d%s" % (nginx.port, p) for p in PATHS])
                 for _ in range(4)]
        for p in procs:
            p.wait(timeout=10)
        time.sleep(paused)
    finally:
        redis.resume()
    time.sleep(0.5)
    for status, _, body in curl_h2(nginx, cookie, PATHS, tmp_path):
        assert status == 200 and body == PERSONALIZED
    assert nginx.workers() == workers


@pytest.mark.parametrize("path", ["/big.html", "/up/big.html", "/up-unbuffered/big.html"])
def test_a_large_page_to_a_slow_h2_reader(shop, tmp_path, path):
    # the client reads at 4 MB/s: the page waits on HTTP/2 flow control and the socket
    nginx, cookie = shop
    workers = nginx.workers()
    for status, _, body in curl_h2(nginx, cookie, [path], tmp_path,
                                   extra=["--limit-rate", "4M"]):
        assert status == 200 and body == BIG.replace(b"Welcome, shopper", b"Hi Ann")
    # and one that leaves half-way
    done = subprocess.run([CURL, "-s", "--http2-prior-knowledge", "--limit-rate", "2M",
                           "--max-time", "0.5", "-A", UA, "-H", "Cookie: " + cookie["Cookie"],
                           "-o", "/dev/null", "http://127.0.0.1:%d%s" % (nginx.port, path)])
    assert done.returncode == 28, "curl gave up half-way"
    for status, _, body in curl_h2(nginx, cookie, PATHS, tmp_path):
        assert status == 200 and body == PERSONALIZED
    assert nginx.workers() == workers
