# A visitor without a valid cookie is new: the response carries a signed
# Set-Cookie, and a forged, truncated or unknown-key cookie is a new visitor too,
# never the visitor it names.

import secrets

import pytest

from env import Unavailable
from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header, set_cookies


COOKIE = "tailor_vid max_age=30d path=/ domain=shop.example secure httponly samesite=strict"


def test_new_visitor_gets_a_signed_cookie(nginx, redis, keys, sign):
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, cookie=COOKIE)
    r = nginx.get("/index.html")
    assert r.status == 200 and r.body == PAGE, "default page for a new visitor"
    cookies = set_cookies(r)
    assert len(cookies) == 1, r.headers
    name, value, attrs = cookies[0]
    vid, kid, stamp, mac = value.split(".")
    assert kid == "k1" and vid and mac and len(stamp) == 19, "issue time and nonce signed"
    try:
        verified = keys.verify(value)
    except Unavailable:
        verified = "(tailorctl verify not built)"
    assert verified is not None, "tailorctl verify accepts the module's cookie"
    assert attrs.get("path") == "/"
    assert attrs.get("domain") == "shop.example"
    assert attrs.get("max-age") == str(30 * 86400)
    assert attrs.get("secure") is True and attrs.get("httponly") is True
    assert attrs.get("samesite", "").lower() == "strict"
    assert "private" in r.header("Cache-Control", "")
    assert scenario.last_outcome(nginx) == "new"


def test_each_new_visitor_gets_a_different_id(nginx, redis, keys):
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    vids = {set_cookies(nginx.get("/index.html"))[0][1].split(".")[0] for _ in range(5)}
    assert len(vids) == 5


def test_returning_visitor_gets_no_new_cookie(nginx, redis, keys):
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    value = set_cookies(nginx.get("/index.html"))[0][1]
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", value))
    assert r.status == 200 and not set_cookies(r)


def forgeries(good):
    vid, kid, stamp, mac = good.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    return {
        "flipped mac": "%s.%s.%s.%s" % (vid, kid, stamp, flipped),
        "truncated mac": "%s.%s.%s.%s" % (vid, kid, stamp, mac[:-4]),
        "no mac": "%s.%s.%s" % (vid, kid, stamp),
        "unknown kid": "%s.k9.%s.%s" % (vid, stamp, mac),
        "other vid": "%s.%s.%s.%s" % (vid[:-1] + ("x" if vid[-1] != "x" else "y"), kid, stamp,
                                      mac),
        "garbage": "%%%%;;..",
        "empty": "",
    }


@pytest.mark.parametrize("kind", ["flipped mac", "truncated mac", "no mac", "unknown kid",
                                  "other vid", "garbage", "empty"])
def test_forged_cookie_is_a_new_visitor(nginx, redis, keys, sign, kind):
    victim = new_vid()
    scenario.seed(redis, victim, {"hero": "Secret of the victim"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    forged = forgeries(sign(victim))[kind]
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", forged))
    assert r.status == 200
    assert b"Secret of the victim" not in r.body, "never someone else's page"
    assert r.body == PAGE
    cookies = set_cookies(r)
    assert len(cookies) == 1, "treated as new: a fresh cookie"
    assert cookies[0][1].split(".")[0] != victim, "a fresh id, not the forged one"
    assert scenario.last_outcome(nginx) == "new"


def test_rotated_key_still_verifies(nginx, redis, keys, sign, workdir):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi again"})
    old_cookie = sign(vid)
    keys.keys.insert(0, ("k2", secrets.token_hex(32)))   # new key signs, old verifies
    keys.write()
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", old_cookie))
    assert b"Hi again" in r.body, "old key still verifies"
    fresh = set_cookies(nginx.get("/index.html"))[0][1]
    assert fresh.split(".")[1] == "k2", "the first key signs"
