# nginx's own body filters after Tailor's on a personalized page: charset recoding (an
# 8-bit table recodes buffers in place; the page cache's copy is shared by every request
# of the worker and must come out of it unrecoded each time), sub_filter, SSI includes,
# add_before_body with add_after_body, gzip with few small buffers,
# and gunzip of a compressed upstream for a client that takes no gzip (the module passes
# a compressed page through; the client gets the whole generic page). Each page is
# fetched three times, so that static and ETag'd proxied pages are replayed from the page
# cache as well as streamed.

import gzip

import pytest

import scenario
from scenario import PAGE, cookie_header
from visitor import new_vid

RUSSIAN = "Привет, покупатель".encode("koi8-r")
PAGE_KOI8 = PAGE.replace(b"<main>", b"<main>" + RUSSIAN)

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    include /etc/nginx/koi-win;
    include /etc/nginx/koi-utf;

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 2s;

        location /win/ {
            alias html/;
            source_charset koi8-r;
            charset windows-1251;
        }
        location /utf/ {
            alias html/;
            source_charset koi8-r;
            charset utf-8;
        }
        location /up-win/ {
            proxy_pass http://{{BACKEND}}/;
            source_charset koi8-r;
            charset windows-1251;
        }
        location /up-utf/ {
            proxy_pass http://{{BACKEND}}/;
            source_charset koi8-r;
            charset utf-8;
        }
        location /sub/ {
            alias html/;
            sub_filter "Lorem" "LOREM";
            sub_filter_once off;
        }
        location /up-sub/ {
            proxy_pass http://{{BACKEND}}/;
            sub_filter "Lorem" "LOREM";
            sub_filter_once off;
        }
        location /ssi/ {
            alias html/;
            ssi on;
        }
        location /up-gz/ {
            proxy_pass http://{{BACKEND}}/;
            gunzip on;
        }
        location = /inc.html {
        }
        location /gz/ {
            alias html/;
            gzip on; gzip_types text/html; gzip_min_length 0; gzip_proxied any;
            gzip_buffers 2 1k;
        }
        location /up-gz-out/ {
            proxy_pass http://{{BACKEND}}/;
            gzip on; gzip_types text/html; gzip_min_length 0; gzip_proxied any;
            gzip_buffers 2 1k;
        }
        location /around/ {
            alias html/;
            add_before_body /inc.html;
            add_after_body /inc.html;
        }
        location /up-around/ {
            proxy_pass http://{{BACKEND}}/;
            add_before_body /inc.html;
            add_after_body /inc.html;
        }
    }
"""

INCLUDE = b"<p>included</p>"


@pytest.fixture
def shop(nginx, redis, keys, sign, backend):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    ssi_page = PAGE.replace(b"<main>", b'<main><!--# include virtual="/inc.html" -->')
    b = backend(body=PAGE_KOI8, chunk_size=4096, chunked=False,
                headers=[("ETag", '"v1"')],
                routes={"/plain.html": {"body": PAGE},
                        "/gz.html": {"body": PAGE, "gzip": True}})
    nginx.write_file("html/index.html", PAGE_KOI8)
    nginx.write_file("html/plain.html", PAGE)
    nginx.write_file("html/ssi.html", ssi_page)
    nginx.write_file("html/inc.html", INCLUDE)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    nginx.start()
    return nginx, cookie_header("tailor_vid", sign(vid))


def personalized(page):
    return page.replace(b"Welcome, shopper", b"Hi Ann")


def koi8_to(page, codec):
    return page.decode("koi8-r").encode(codec)


def fetch3(nginx, path, headers):
    out = []
    for _ in range(3):
        r = nginx.get(path, headers=headers)
        assert r.status == 200, r
        out.append(r)
    return out


@pytest.mark.parametrize("path,codec", [("/win/index.html", "cp1251"),
                                        ("/up-win/index.html", "cp1251"),
                                        ("/utf/index.html", "utf-8"),
                                        ("/up-utf/index.html", "utf-8")])
def test_charset_recodes_every_personalized_copy_once(shop, path, codec):
    nginx, cookie = shop
    want = koi8_to(personalized(PAGE_KOI8), codec)
    for r in fetch3(nginx, path, cookie):
        assert r.body == want
    # and the generic page, from the same file and cached copy, is recoded once too
    r = nginx.get(path, headers=cookie_header("tailor_vid", "x"))
    assert r.body == koi8_to(PAGE_KOI8, codec)


@pytest.mark.parametrize("path", ["/sub/plain.html", "/up-sub/plain.html"])
def test_sub_filter_after_personalization(shop, path):
    nginx, cookie = shop
    for r in fetch3(nginx, path, cookie):
        assert r.body == personalized(PAGE).replace(b"Lorem", b"LOREM")


def test_ssi_include_in_a_personalized_page(shop):
    nginx, cookie = shop
    want = personalized(PAGE).replace(b"<main>", b"<main>" + INCLUDE)
    for r in fetch3(nginx, "/ssi/ssi.html", cookie):
        assert r.body == want


def test_gunzip_for_a_client_without_gzip(shop):
    nginx, cookie = shop
    for r in fetch3(nginx, "/up-gz/gz.html", cookie):
        assert not r.has("Content-Encoding")
        assert r.body == PAGE, "the compressed page passes through, whole and generic"
    r = nginx.get("/up-gz/gz.html", headers=dict(cookie, **{"Accept-Encoding": "gzip"}))
    assert r.header("Content-Encoding") == "gzip"
    assert gzip.decompress(r.body) == PAGE


@pytest.mark.parametrize("path", ["/around/plain.html", "/up-around/plain.html"])
def test_add_before_and_after_body(shop, path):
    nginx, cookie = shop
    for r in fetch3(nginx, path, cookie):
        assert r.body == INCLUDE + personalized(PAGE) + INCLUDE


@pytest.mark.parametrize("path", ["/gz/plain.html", "/up-gz-out/plain.html",
                                  "/up-gz-out/index.html"])
def test_gzip_with_few_small_buffers_after_personalization(shop, path):
    # gzip_buffers 2 1k: gzip holds the module's buffers while its own are busy
    nginx, cookie = shop
    want = personalized(PAGE if "plain" in path else PAGE_KOI8)
    for r in fetch3(nginx, path, dict(cookie, **{"Accept-Encoding": "gzip"})):
        assert r.header("Content-Encoding") == "gzip"
        assert gzip.decompress(r.body) == want
