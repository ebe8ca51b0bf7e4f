# Internal redirects and subrequests around a personalized page: the access
# phase's ctx survives try_files, error_page, X-Accel-Redirect and named
# locations (r->ctx is wiped, the pool cleanup finds it again), unless the
# location it ends in has tailor off; the filters
# leave subrequests (auth_request, SSI, mirror) alone while the main request's
# page is rewritten. Each request reads its profile from Redis, so the access
# phase parks and is woken before the redirect happens.

import pytest

import scenario
from env import IO_TIMEOUT, wait_for
from ports import free_port
from scenario import PAGE, cookie_header
from visitor import new_vid

FRAGMENT = b"<p>fragment <tailor-slot name=\"hero\">frag default</tailor-slot></p>"

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};
    log_format tailor '$request_uri $status $tailor_status [$tailor_vid]';

    server {
        listen 127.0.0.1:{{PORT}};
        server_name localhost;
        root html;
        access_log logs/tailor.log tailor;
        tailor on;
        tailor_timeout 2s;

        location / {
        }

        location /tf/ {
            try_files /nothing-here @up;
        }

        location @up {
            proxy_pass http://127.0.0.1:{{BACKEND_PORT}};
        }

        location /missing/ {
            error_page 404 =200 /index.html;
        }

        location /gone/ {
            error_page 404 = @up;
        }

        location /xar/ {
            proxy_pass http://127.0.0.1:{{BACKEND_PORT}};
        }

        location /internal/ {
            internal;
            alias html/;
        }

        # the redirects below end in a location with tailor off
        location /plain/ {
            tailor off;
            alias html/;
        }

        location /to-plain/ {
            try_files /nothing-here /plain/index.html;
        }

        location /missing-plain/ {
            error_page 404 =200 /plain/index.html;
        }

        location /gone-plain/ {
            error_page 404 = @plain;
        }

        location @plain {
            tailor off;
            proxy_pass http://127.0.0.1:{{BACKEND_PORT}};
        }

        location /auth/ {
            auth_request /authcheck;
            alias html/;
        }

        location = /authcheck {
            internal;
            proxy_pass http://127.0.0.1:{{BACKEND_PORT}}/ok;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }

        location /ssi/ {
            ssi on;
            alias html/;
        }

        location /mirrored/ {
            mirror /mirror;
            alias html/;
        }

        location = /mirror {
            internal;
            proxy_pass http://127.0.0.1:{{BACKEND_PORT}}/ok;
        }
    }

    server {
        listen 127.0.0.1:{{BACKEND_PORT}};
        server_name backend;
        root html;
        access_log logs/backend.log;

        location / {
        }

        location = /ok {
            return 204;
        }

        location /tf/ {
            alias html/;
        }

        location /gone/ {
            alias html/;
        }

        location /gone-plain/ {
            alias html/;
        }

        location /xar/ {
            add_header X-Accel-Redirect /internal/index.html;
            return 204;
        }
    }
"""

SSI_PAGE = PAGE.replace(b"<main>", b"<!--#include virtual=\"/frag.html\" --><main>")


@pytest.fixture
def site(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    nginx.write_file("html/index.html", PAGE)
    nginx.write_file("html/ssi.html", SSI_PAGE)
    nginx.write_file("html/frag.html", FRAGMENT)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path, BACKEND_PORT=free_port())
    nginx.start()
    return nginx, cookie_header("tailor_vid", sign(vid))


def assert_personalized(r, body_has=b"</html>"):
    assert r.status == 200, r
    assert b"Hi Ann" in r.body, r.body[:300]
    assert b"Welcome, shopper" not in r.body
    assert body_has in r.body
    assert r.header("Cache-Control") == "private"


@pytest.mark.parametrize("path", ["/", "/tf/index.html", "/missing/nothing.html",
                                  "/gone/index.html", "/xar/index.html", "/auth/index.html"])
def test_a_redirected_page_is_personalized(site, path):
    nginx, cookie = site
    for _ in range(3):
        assert_personalized(nginx.get(path, headers=cookie))
    assert [o[2] for o in scenario.outcomes(nginx)] == ["hit"] * 3, scenario.outcomes(nginx)


def test_a_redirected_head_has_no_body(site):
    nginx, cookie = site
    for path in ("/tf/index.html", "/missing/nothing.html", "/xar/index.html"):
        r = nginx.get(path, method="HEAD", headers=cookie)
        assert r.status == 200 and r.body == b"", (path, r)


def test_an_ssi_include_in_a_personalized_page_is_left_alone(site):
    nginx, cookie = site
    r = nginx.get("/ssi/ssi.html", headers=cookie)
    assert_personalized(r)
    # the fragment is a subrequest: it is never rewritten
    assert b"frag default" in r.body
    assert r.body.index(b"fragment") < r.body.index(b"<main>")


def test_a_mirrored_personalized_page(site):
    nginx, cookie = site
    assert_personalized(nginx.get("/mirrored/index.html", headers=cookie))
    wait_for(lambda: "/ok" in nginx.read_log("backend.log"), IO_TIMEOUT, "mirror request")


def assert_untouched(r):
    assert r.status == 200, r
    assert b"Welcome, shopper" in r.body and b"Hi Ann" not in r.body, r.body[:300]
    assert r.header("Cache-Control") is None, r.headers
    assert r.header("Set-Cookie") is None, r.headers


@pytest.mark.parametrize("path", ["/to-plain/index.html", "/missing-plain/nothing.html",
                                  "/gone-plain/index.html"])
def test_a_page_redirected_into_tailor_off_is_nginx_s_alone(site, path):
    # the access phase ran (and read the profile) where tailor is on; the location that
    # answers has it off: no rewrite, no private, no $tailor_status, as add_header or
    # sub_filter follow the location that answers
    nginx, cookie = site
    assert_untouched(nginx.get(path, headers=cookie))
    assert_untouched(nginx.get(path))  # a new visitor: no id minted either
    assert [o[2] for o in scenario.outcomes(nginx)] == ["-", "-"], scenario.outcomes(nginx)


def test_a_conditional_request_redirected_into_tailor_off_gets_nginx_s_304(site):
    # the validators Tailor held for a page it might rewrite go back to nginx, and to the
    # upstream of a location with tailor off
    nginx, cookie = site
    etag = nginx.get("/plain/index.html").header("ETag")
    assert etag
    r = nginx.get("/to-plain/index.html", headers={**cookie, "If-None-Match": etag})
    assert r.status == 304, r
    r = nginx.get("/to-plain/index.html", headers={**cookie, "Range": "bytes=0-14"})
    assert r.status == 206 and r.body == PAGE[:15], r
    # an upstream there gets them too (the backend serves the same file: the same ETag)
    r = nginx.get("/gone-plain/index.html", headers={**cookie, "If-None-Match": etag})
    assert r.status == 304, r
    r = nginx.get("/gone-plain/index.html", headers={**cookie, "Range": "bytes=0-14"})
    assert r.status == 206 and r.body == PAGE[:15], r
