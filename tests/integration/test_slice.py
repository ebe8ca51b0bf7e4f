# A page assembled by nginx's slice module (slice N; proxy_set_header Range
# $slice_range): the first slice is the main request's own response, every
# later one a subrequest whose bytes reach the client through the postpone
# filter, past the rewriter. Such a page used to be taken as personalized: its
# headers said so (private, no Content-Length, no validators) while at most its
# first slice could change, and a slot in a later slice never did. Tailor now
# passes a sliced page through as nginx sends it, and the same page unsliced is
# still personalized.

import pytest

import scenario
from scenario import PAGE

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}};
        root html;

        location /raw/ {
            alias html/;
        }

        location /sliced/ {
            tailor on;
            tailor_timeout 2s;
            slice {{SLICE}};
            proxy_set_header Range $slice_range;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:{{PORT}}/raw/;
        }

        location /whole/ {
            tailor on;
            tailor_timeout 2s;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:{{PORT}}/raw/;
        }
    }
"""


def start(nginx, redis, keys, sign, slice_size):
    cookie = scenario.known_visitor(redis, sign)
    nginx.write_file("html/index.html", PAGE)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, SLICE=slice_size)
    nginx.start()
    return cookie


# 64 bytes: the hero slot lies in the second slice; 1m: the whole page is the first.
@pytest.mark.parametrize("slice_size", ["64", "1m"])
def test_a_sliced_page_leaves_as_nginx_sends_it(nginx, redis, keys, sign, slice_size):
    cookie = start(nginx, redis, keys, sign, slice_size)
    for _ in range(2):  # the second could come from the page cache
        r = nginx.get("/sliced/index.html", headers=cookie)
        assert r.status == 200, r
        assert r.body == PAGE
        assert r.header("Content-Length") == str(len(PAGE))
        assert r.header("ETag") is not None
        assert r.header("Cache-Control") is None


def test_the_same_page_unsliced_is_personalized(nginx, redis, keys, sign):
    cookie = start(nginx, redis, keys, sign, "64")
    r = nginx.get("/whole/index.html", headers=cookie)
    assert r.status == 200, r
    assert r.body == PAGE.replace(b"Welcome, shopper", b"Hi Ann")
    assert r.header("Cache-Control") == "private"


def test_a_new_visitor_gets_no_id_with_a_sliced_page(nginx, redis, keys, sign):
    start(nginx, redis, keys, sign, "64")
    r = nginx.get("/sliced/index.html")
    assert r.status == 200, r
    assert r.body == PAGE
    assert r.header("Set-Cookie") is None
