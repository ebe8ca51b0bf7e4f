# Transparency (issue 15, item 3): a response Tailor does not rewrite leaves
# exactly as nginx without the module sends it. The same site runs twice, from
# the same files with the same mtimes: once with the module loaded and
# "tailor on" in http{} (front and backend alike), once without the module and
# without any tailor directive. Each request goes to both; status, every header
# line in wire order and the body must be byte-identical. Only Date is left out
# (it is the clock, not the module); Server, ETag, Last-Modified,
# Content-Length, Accept-Ranges and X-Cache are all compared.
#
# Every case runs for a new visitor (no cookie: the access phase mints an id)
# and for a known visitor whose profile fills a slot, so the decision changes
# pages: the strictest case, since the module then holds the client's
# validators and range until the header filter sees the response.
#
# The positive side: an HTML page with slots is personalized, gets the visitor
# cookie and Cache-Control: private, and its conditional and range requests get
# the full personalized 200.

import os

import pytest

from env import IO_TIMEOUT, TAILOR_MODULE, wait_for
from ports import free_port
from scenario import PAGE, cookie_header, set_cookies, seed
from visitor import new_vid

# the only header that may differ: the two servers answer at different instants
IGNORED = {"date"}

TEXT = b"".join(b"line %04d of a plain text file\n" % i for i in range(64))
# a 1x1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
MTIME = 1700000000

TAILOR = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    tailor on;
    tailor_timeout 1s;
    log_format tailor '$request_uri $status $tailor_status [$tailor_vid]';
"""

# A front server and a backend server in one nginx: /cached/ is the front's
# proxy_cache of the backend, /up/ an uncached proxy to it.
SITE = """
    %s
    proxy_cache_path cache levels=1:2 keys_zone=front:1m;

    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;
        root html;
        %s

        location /cached/ {
            proxy_pass http://127.0.0.1:{{BACKEND_PORT}}/;
            proxy_cache front;
            proxy_cache_valid 200 1m;
            add_header X-Cache $upstream_cache_status always;
        }

        location /up/ {
            proxy_pass http://127.0.0.1:{{BACKEND_PORT}}/;
        }
    }

    server {
        listen 127.0.0.1:{{BACKEND_PORT}};
        server_name backend;
        root html;
        %s
    }
"""


def start_site(ng, with_tailor, redis=None, keys=None):
    for rel, data in (("html/index.html", PAGE), ("html/notes.txt", TEXT),
                      ("html/pixel.png", PNG)):
        os.utime(ng.write_file(rel, data), (MTIME, MTIME))
    if with_tailor:
        http = SITE % (TAILOR, "access_log logs/tailor.log tailor;",
                       "access_log logs/backend.log tailor;")
        ng.write(http, BACKEND_PORT=free_port(), REDIS=redis.address, KEYS=keys.path)
    else:
        ng.write(SITE % ("", "", ""), BACKEND_PORT=free_port())
        # the same nginx, without the module
        ng.conf_text = ng.conf_text.replace("load_module %s;\n" % TAILOR_MODULE, "")
        assert "tailor" not in ng.conf_text
        ng.write_file("conf/nginx.conf", ng.conf_text)
    ng.start()
    return ng


@pytest.fixture
def sites(nginx, nginx_factory, redis, keys, sign):
    """(with, without, headers of a new visitor, headers of a known one)."""
    vid = new_vid()
    seed(redis, vid, {"hero": "Hi Ann"})
    start_site(nginx, True, redis, keys)
    plain = start_site(nginx_factory(), False)
    return nginx, plain, {}, cookie_header("tailor_vid", sign(vid))


def logged(ng, name, uri):
    """The last line of logs/<name> for uri, once nginx has written it."""
    def line():
        lines = [l for l in ng.read_log(name).splitlines() if l.startswith(uri + " ")]
        return lines[-1] if lines else None
    wait_for(line, IO_TIMEOUT, "%s line for %s" % (name, uri))
    return line()


def wire(r):
    """Status, header lines in order (Date aside) and body, as compared."""
    return r.status, [(k, v) for k, v in r.headers if k.lower() not in IGNORED], r.body


def same(on, off, path, method="GET", headers=None):
    a = on.get(path, method=method, headers=headers)
    b = off.get(path, method=method, headers=headers)
    assert wire(a) == wire(b), "%s %s %s" % (method, path, headers)
    return a


VISITORS = ["new-visitor", "known-visitor-page-changes"]


def who(sites, visitor):
    on, off, new, known = sites
    return on, off, dict(new if visitor == VISITORS[0] else known)


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("path", ["/missing.html", "/notes.txt", "/pixel.png"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_unchanged_response_is_byte_identical(sites, visitor, path, method):
    on, off, h = who(sites, visitor)
    r = same(on, off, path, method, h)
    assert not set_cookies(r) and not r.has("Cache-Control") and not r.has("Vary")
    assert r.status == (404 if path == "/missing.html" else 200)


@pytest.mark.parametrize("visitor", VISITORS)
def test_range_on_text_is_a_206_as_without_module(sites, visitor):
    on, off, h = who(sites, visitor)
    h["Range"] = "bytes=5-24"
    r = same(on, off, "/notes.txt", headers=h)
    assert r.status == 206 and r.body == TEXT[5:25]


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("kind", ["If-None-Match", "If-Modified-Since"])
def test_conditional_on_text_is_a_304_as_without_module(sites, visitor, kind):
    on, off, h = who(sites, visitor)
    first = off.get("/notes.txt")
    h[kind] = first.header("ETag" if kind == "If-None-Match" else "Last-Modified")
    r = same(on, off, "/notes.txt", headers=h)
    assert r.status == 304 and r.body == b""


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("path", ["/cached/notes.txt", "/cached/pixel.png"])
def test_backend_response_is_cached_by_the_front_as_without_module(sites, visitor, path):
    # the backend runs "tailor on" too: what it sends must stay cacheable
    on, off, h = who(sites, visitor)
    miss = same(on, off, path, headers=h)
    hit = same(on, off, path, headers=h)
    assert (miss.header("X-Cache"), hit.header("X-Cache")) == ("MISS", "HIT")
    h["If-None-Match"] = hit.header("ETag")
    assert same(on, off, path, headers=h).status == 304
    del h["If-None-Match"]
    h["Range"] = "bytes=0-9"
    assert same(on, off, path, headers=h).status == 206


def test_new_visitor_gets_the_cookie_with_the_html_page_only(sites):
    on, off, _, _ = sites
    page = on.get("/index.html")
    plain = off.get("/index.html")
    cookies = set_cookies(page)
    assert len(cookies) == 1
    # the page itself is untouched (nothing to fill for a new visitor): what
    # differs from nginx without the module is the documented cookie, and the
    # headers that keep it out of shared caches
    extra = [("Set-Cookie", page.header("Set-Cookie")), ("Vary", "Cookie"),
             ("Cache-Control", "private")]
    assert sorted(extra) == sorted(h for h in wire(page)[1] if h not in wire(plain)[1])
    assert [h for h in wire(page)[1] if h not in extra] == wire(plain)[1]
    assert page.body == plain.body
    # the minted id is the one the request's rules and events saw ...
    vid = cookies[0][1].split(".")[0]
    assert logged(on, "tailor.log", "/index.html").endswith(" [%s]" % vid)
    # ... and the next request presents it as a known visitor
    again = on.get("/index.html?again", headers=cookie_header("tailor_vid", cookies[0][1]))
    assert not set_cookies(again)
    assert logged(on, "tailor.log", "/index.html?again").endswith(" [%s]" % vid)


@pytest.mark.parametrize("kind", ["plain", "If-None-Match", "If-Modified-Since", "Range",
                                  "If-Range"])
def test_personalized_page_is_a_full_private_200(sites, kind):
    on, off, _, known = sites
    plain = off.get("/index.html")
    h = dict(known)
    if kind in ("If-None-Match", "If-Modified-Since"):
        h[kind] = plain.header("ETag" if kind == "If-None-Match" else "Last-Modified")
    elif kind == "Range":
        h["Range"] = "bytes=0-9"
    elif kind == "If-Range":
        h.update({"Range": "bytes=0-9", "If-Range": plain.header("ETag")})
    r = on.get("/index.html", headers=h)
    assert r.status == 200 and b"Hi Ann" in r.body and r.body.endswith(b"</html>\n")
    assert r.header("Cache-Control") == "private"
    for name in ("ETag", "Last-Modified", "Content-Length", "Content-Range", "Accept-Ranges"):
        assert not r.has(name), name


def test_tailor_behind_tailor_sends_one_visitor_cookie(sites):
    # front and backend both run "tailor on": the backend's cookie wins, and
    # the front's request is logged (and its events sent) under that id
    on, _, _, _ = sites
    r = on.get("/up/index.html")
    cookies = set_cookies(r)
    assert len(cookies) == 1, r.header_all("Set-Cookie")
    vid = cookies[0][1].split(".")[0]
    front = logged(on, "tailor.log", "/up/index.html")
    back = logged(on, "backend.log", "/index.html")
    assert front.endswith(" [%s]" % vid) and back.endswith(" [%s]" % vid), (front, back)


@pytest.mark.parametrize("kind", ["Range", "If-None-Match"])
def test_uncached_upstream_answers_a_new_visitor_as_without_module(sites, kind):
    on, off, new, _ = sites
    h = dict(new)
    h[kind] = "bytes=5-24" if kind == "Range" else off.get("/up/notes.txt").header("ETag")
    r = same(on, off, "/up/notes.txt", headers=h)
    assert r.status == (206 if kind == "Range" else 304)


@pytest.mark.parametrize("kind", ["Range", "If-None-Match"])
def test_uncached_upstream_answers_a_page_changing_visitor_in_full(sites, kind):
    # documented limit (docs/directives.md, "What happens to headers"): for a visitor whose
    # rules change pages the validators and range never reach an upstream
    # that nginx does not cache, since the page it answers might be rewritten;
    # a response that turns out not to be rewritten is its full 200, exactly
    # the one nginx without the module sends for the plain request
    on, off, _, known = sites
    h = dict(known)
    h[kind] = "bytes=5-24" if kind == "Range" else off.get("/up/notes.txt").header("ETag")
    r = on.get("/up/notes.txt", headers=h)
    assert wire(r) == wire(off.get("/up/notes.txt", headers=known))
    assert r.status == 200 and r.body == TEXT
