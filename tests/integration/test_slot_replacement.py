# A known visitor with a stored profile gets the page with slots filled from it,
# escaped; slots the profile says nothing about keep their default content.

from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header



def test_seeded_profile_fills_the_slot(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Welcome back, Ann"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200
    assert b"Welcome back, Ann" in r.body, "personalized hero"
    assert b"Welcome, shopper" not in r.body, "default replaced"
    assert b"Free shipping over $50" in r.body, "slot without a rule keeps its default"
    assert r.body.startswith(PAGE[:PAGE.index(b"<tailor-slot")]), "bytes before the slot intact"
    assert r.body.endswith(PAGE[PAGE.rindex(b"</tailor-slot>") + len(b"</tailor-slot>"):])
    assert not r.has("Content-Length"), "length changed: no Content-Length"
    assert "private" in r.header("Cache-Control", ""), "personalized is never public"
    assert not r.header_all("Set-Cookie"), "known visitor: no new cookie"
    assert scenario.last_outcome(nginx) == "hit"


def test_profile_text_is_escaped(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "<script>alert(1)</script> & \"x\""})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200
    assert b"<script>alert(1)</script>" not in r.body, "profile text never becomes markup"
    assert b"&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in r.body


def test_known_visitor_without_profile_gets_default(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200 and r.body == PAGE, "default page"
    assert not r.header_all("Set-Cookie")
    assert scenario.last_outcome(nginx) == "miss"


def test_tailor_off_location_is_untouched(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Welcome back, Ann"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    r = nginx.get("/plain/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200 and r.body == PAGE
    assert r.header("Content-Length") == str(len(PAGE))
