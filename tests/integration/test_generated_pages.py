# Pages nginx makes itself, with `tailor on` for the whole http{} block: a `return 200`
# text (answered before the access phase, so left as it is), autoindex listings (text/html,
# chunked, made in memory), index redirects, empty_gif, a missing favicon, an upstream
# 404 turned into a 200 page by proxy_intercept_errors and error_page =200, and WebDAV
# PUT/DELETE. A page that has slots is personalized whole; anything else leaves as nginx
# makes it, without the visitor cookie.

import os

import pytest

import scenario
from scenario import PAGE, set_cookies

SLOTTED = ('<html><body><tailor-slot name="hero">Welcome, shopper</tailor-slot>'
           '</body></html>')

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    tailor on;
    tailor_timeout 2s;

    server {
        listen 127.0.0.1:{{PORT}};
        root html;

        location = /returned { default_type text/html; return 200 '%s'; }
        location = /returned-empty { default_type text/html; return 200 ''; }
        location /listing/ { alias html/dir/; autoindex on; }
        location = /pixel.gif { empty_gif; }
        location /up/ {
            proxy_pass http://{{BACKEND}}/;
            proxy_intercept_errors on;
            error_page 404 =200 /index.html;
        }
        location /dav/ {
            alias html/dav/;
            dav_methods PUT DELETE;
            create_full_put_path on;
        }
    }
""" % SLOTTED


@pytest.fixture
def shop(nginx, redis, keys, sign, backend):
    cookie = scenario.known_visitor(redis, sign)
    b = backend(body=b"<html>not here</html>", status=404, chunked=False)
    nginx.write_file("html/index.html", PAGE)
    nginx.write_file("html/dir/a.html", PAGE)
    nginx.write_file("html/dav/.keep", b"")
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND=b.address)
    os.chmod(nginx.path("html", "dav"), 0o777)  # the worker's user writes there
    nginx.start()
    return nginx, cookie


def personalized(page):
    return page.replace(b"Welcome, shopper", b"Hi Ann")


def test_a_returned_text_leaves_as_nginx_makes_it(shop):
    # `return` answers in the rewrite phase, before the access phase where the
    # module learns who the visitor is: the text goes out as it is, whole
    nginx, cookie = shop
    for _ in range(2):
        r = nginx.get("/returned", headers=cookie)
        assert r.status == 200 and r.body == SLOTTED.encode()
        assert int(r.header("Content-Length")) == len(SLOTTED) and not set_cookies(r)
    r = nginx.get("/returned-empty", headers=cookie)
    assert r.status == 200 and r.body == b""
    h = nginx.get("/returned", headers=cookie, method="HEAD")
    assert h.status == 200 and h.body == b""


def test_an_autoindex_listing_and_an_index_redirect(shop):
    nginx, cookie = shop
    r = nginx.get("/listing/", headers=cookie)
    assert r.status == 200 and b"a.html" in r.body and r.body.rstrip().endswith(b"</html>")
    assert nginx.get("/listing/a.html", headers=cookie).body == personalized(PAGE)
    r = nginx.get("/dir", headers=cookie)
    assert r.status == 301 and not set_cookies(r)
    r = nginx.get("/", headers=cookie)
    assert r.status == 200 and r.body == personalized(PAGE)


def test_non_pages_leave_as_nginx_makes_them(shop):
    nginx, cookie = shop
    gif = nginx.get("/pixel.gif")
    assert gif.status == 200 and gif.body.startswith(b"GIF89a") and not set_cookies(gif)
    assert int(gif.header("Content-Length")) == len(gif.body)
    ico = nginx.get("/favicon.ico")
    assert ico.status == 404 and not set_cookies(ico)


def test_an_intercepted_upstream_404_becomes_a_personalized_page(shop):
    nginx, cookie = shop
    for _ in range(2):
        r = nginx.get("/up/missing.html", headers=cookie)
        assert r.status == 200 and r.body == personalized(PAGE)


def test_webdav_put_and_delete(shop):
    nginx, cookie = shop
    r = nginx.get("/dav/new.html", method="PUT", body=PAGE, headers=cookie)
    assert r.status == 201, r
    assert not set_cookies(r)
    assert nginx.get("/dav/new.html", headers=cookie).body == personalized(PAGE)
    r = nginx.get("/dav/new.html", method="DELETE", headers=cookie)
    assert r.status == 204, r
    assert nginx.get("/dav/new.html", headers=cookie).status == 404
