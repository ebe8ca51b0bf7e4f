# tailor_types: the response types Tailor may personalize (docs/directives.md).
# text/html is always one of them, as with nginx's gzip_types; the listed types
# are added; a response of any other type leaves untouched and without the
# visitor cookie, for a known visitor and a new one alike.

from scenario import PAGE, DEFAULT_HERO, cookie_header, seed, set_cookies, start_shop
from visitor import new_vid

TYPES = """
            types {
                text/html             html;
                application/xhtml+xml xhtml;
                text/plain            txt;
            }
            tailor_types application/xhtml+xml;"""


def shop(nginx, redis, keys, sign):
    for name in ("page.xhtml", "notes.txt"):
        nginx.write_file("html/" + name, PAGE)
    start_shop(nginx, redis=redis.address, keys=keys.path, location_extra=TYPES)
    vid = new_vid()
    seed(redis, vid, {"hero": "Hi Ann"})
    return cookie_header("tailor_vid", sign(vid))


def test_a_listed_type_is_personalized(nginx, redis, keys, sign):
    known = shop(nginx, redis, keys, sign)
    r = nginx.get("/page.xhtml", headers=known)
    assert r.status == 200 and r.header("Content-Type") == "application/xhtml+xml"
    assert b"Hi Ann" in r.body and DEFAULT_HERO not in r.body
    assert r.header("Cache-Control") == "private"
    new = nginx.get("/page.xhtml")
    assert len(set_cookies(new)) == 1


def test_text_html_is_always_a_page_type(nginx, redis, keys, sign):
    known = shop(nginx, redis, keys, sign)
    r = nginx.get("/index.html", headers=known)
    assert r.status == 200 and b"Hi Ann" in r.body
    assert len(set_cookies(nginx.get("/index.html"))) == 1


def test_a_type_not_listed_gets_neither_fills_nor_cookie(nginx, redis, keys, sign):
    known = shop(nginx, redis, keys, sign)
    r = nginx.get("/notes.txt", headers=known)
    assert r.status == 200 and r.body == PAGE
    assert r.header("Content-Length") == str(len(PAGE)) and not r.has("Cache-Control")
    new = nginx.get("/notes.txt")
    assert new.body == PAGE and not set_cookies(new)
