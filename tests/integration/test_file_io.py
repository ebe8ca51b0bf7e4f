# Personalized static pages under nginx's file I/O settings: aio threads, directio (the
# file is opened O_DIRECT), sendfile off with small output_buffers, postpone_output 0,
# limit_rate, open_file_cache. Pages of several sizes around the page cache's page_max
# (one byte under, exactly at, one byte over) and one of several megabytes with many
# slots, each fetched twice (the page cache reads the first, replays the second; a page
# over page_max streams both times). Every byte of every page must be right.

import os

import pytest

import scenario
from metrics_text import metric
from scenario import cookie_header
from visitor import new_vid

PAGE_MAX = 65536
SLOT = b'<tailor-slot name="hero">Welcome, shopper</tailor-slot>'

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    tailor_page_cache page_max=%d;
    aio_write off;

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 2s;

        location /aio/ { alias html/; aio threads; }
        location /directio/ { alias html/; directio 4k; }
        location /buffers/ { alias html/; sendfile off; output_buffers 2 4k; }
        location /postpone/ { alias html/; postpone_output 0; sendfile off; }
        location /rate/ { alias html/; limit_rate 4m; }
        location /ofc/ { alias html/; open_file_cache max=16; }
    }
""" % PAGE_MAX


def page_of(size, slots=1):
    """An HTML page of exactly `size` bytes with `slots` hero slots spread through it."""
    head = b"<!doctype html>\n<html><body>\n"
    tail = b"</body></html>\n"
    filler = size - len(head) - len(tail) - slots * (len(SLOT) + 1)
    assert filler >= 0
    per, extra = divmod(filler, slots)
    parts = [head]
    for i in range(slots):
        parts.append(b"x" * (per + (extra if i == 0 else 0)) + SLOT + b"\n")
    parts.append(tail)
    page = b"".join(parts)
    assert len(page) == size
    return page


PAGES = {
    "under": page_of(PAGE_MAX - 1),
    "at": page_of(PAGE_MAX),
    "over": page_of(PAGE_MAX + 1),
    "big": page_of(3 * 1024 * 1024 + 17, slots=300),
}


@pytest.fixture
def shop(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    for name, page in PAGES.items():
        nginx.write_file("html/%s.html" % name, page)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path)
    nginx.start()
    return nginx, cookie_header("tailor_vid", sign(vid))


@pytest.mark.parametrize("where", ["aio", "directio", "buffers", "postpone", "rate", "ofc"])
def test_every_page_whole_and_personalized(shop, where):
    nginx, cookie = shop
    workers = nginx.workers()
    for name, page in PAGES.items():
        want = page.replace(b"Welcome, shopper", b"Hi Ann")
        for attempt in range(2):
            r = nginx.get("/%s/%s.html" % (where, name), headers=cookie, timeout=30)
            assert r.status == 200, r
            assert len(r.body) == len(want), (name, attempt)
            assert r.body == want, (name, attempt)
    assert nginx.workers() == workers, "no worker restarted"


BIG_SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    tailor_page_cache page_max=8m size=64m;

    server {
        listen 127.0.0.1:{{PORT}} sndbuf=64k;
        root html;
        tailor on;
        tailor_timeout 2s;

        location /slow/ { alias html/; limit_rate 8m; }
        location = /tailor-status { tailor_status; }
    }
"""


# A page of 5 MB with 2000 slots, replayed from the page cache: some 4000 buffers, more
# than one writev (IOV_MAX) takes, to a reader that keeps up and to a rate-limited one.
@pytest.mark.parametrize("where", ["/", "/slow/"])
def test_a_large_page_with_many_slots_replayed(nginx, redis, keys, sign, where):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    page = page_of(5 * 1024 * 1024 + 3, slots=2000)
    nginx.write_file("html/big.html", page)
    nginx.write(BIG_SITE, REDIS=redis.address, KEYS=keys.path)
    nginx.start()
    cookie = cookie_header("tailor_vid", sign(vid))
    want = page.replace(b"Welcome, shopper", b"Hi Ann")
    for _ in range(3):
        r = nginx.get(where + "big.html", headers=cookie, timeout=30)
        assert r.status == 200 and len(r.body) == len(want) and r.body == want
    replays = metric(scenario.status_metrics(nginx), "tailor_page_replays_total")
    assert replays == 3, "every response was replayed from the page cache"


OFC_SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        open_file_cache max=16 inactive=60s;
        open_file_cache_valid 60s;

        location / { tailor on; tailor_timeout 2s; }
        location /plain/ { alias html/; }
    }
"""


# open_file_cache keeps the file nginx opened: a file replaced (renamed over) is still the
# old one for nginx until the cached entry is checked again, and one rewritten in place is
# read anew. The personalized page is always the page nginx serves to everyone else,
# personalized: the page cache never answers with a version nginx does not send.
def test_a_file_replaced_or_rewritten_under_open_file_cache(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    v1 = page_of(20000)
    v2 = v1.replace(b"xxxxxxxxxx", b"yyyyyyyyyy", 1)  # same size, other bytes
    v3 = v1.replace(b"xxxxxxxxxx", b"zzzzzzzzzz", 1)
    nginx.write_file("html/p.html", v1)
    nginx.write(OFC_SITE, REDIS=redis.address, KEYS=keys.path)
    nginx.start()
    cookie = cookie_header("tailor_vid", sign(vid))

    def check():
        plain = nginx.get("/plain/p.html").body
        for _ in range(2):
            r = nginx.get("/p.html", headers=cookie)
            assert r.status == 200
            assert r.body == plain.replace(b"Welcome, shopper", b"Hi Ann")
        return plain

    assert check() == v1
    path = nginx.path("html", "p.html")
    with open(path + ".new", "wb") as f:
        f.write(v2)
    os.rename(path + ".new", path)  # replaced: nginx keeps the old file open
    check()
    with open(path, "r+b") as f:  # rewritten in place, same size
        f.write(v3)
    check()
