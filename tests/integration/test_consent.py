# Without consent, or with Sec-GPC: 1, the visitor gets the generic page and no
# cookie, whatever the profile says.

import pytest

from visitor import new_vid
import scenario
from scenario import PAGE, set_cookies



def known(redis, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Personal"})
    return vid, "tailor_vid=" + sign(vid)


@pytest.mark.parametrize("consent", ["none", "onetrust", "cookiebot"])
def test_gpc_gets_generic_page_and_no_cookie(nginx, redis, keys, sign, consent):
    vid, cookie = known(redis, sign)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, consent=consent)
    for c in (cookie, None):
        h = {"Sec-GPC": "1"}
        if c:
            h["Cookie"] = c
        r = nginx.get("/index.html", headers=h)
        assert r.status == 200 and r.body == PAGE, "generic page"
        assert not set_cookies(r), "no cookie"
        assert scenario.last_outcome(nginx) == "gpc"


CASES = [
    # (tailor_consent, cookies that grant, cookies that do not)
    ("variable:$cookie_ok", "ok=1", "ok=0"),
    # OneTrust writes a query string with literal "=" and "&"; the group list
    # inside it is percent-encoded.
    ("onetrust", "OptanonConsent=isGpcEnabled=0&version=202209.1.0&groups=C0001%3A1%2CC0004%3A1",
     "OptanonConsent=isGpcEnabled=0&version=202209.1.0&groups=C0001%3A1%2CC0004%3A0"),
    ("onetrust:C0002", "OptanonConsent=groups=C0002%3A1&landingPath=NotLandingPage",
     "OptanonConsent=groups=C0004%3A1&landingPath=NotLandingPage"),
    ("cookiebot", "CookieConsent={stamp:%27x%27%2Cnecessary:true%2Cmarketing:true}",
     "CookieConsent={stamp:%27x%27%2Cnecessary:true%2Cmarketing:false}"),
]


@pytest.mark.parametrize("consent,grant,deny", CASES, ids=[c[0] for c in CASES])
def test_consent_sources(nginx, redis, keys, sign, consent, grant, deny):
    vid, cookie = known(redis, sign)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, consent=consent)

    r = nginx.get("/index.html", headers={"Cookie": "%s; %s" % (cookie, deny)})
    assert r.body == PAGE and not set_cookies(r), "denied: generic, no cookie"
    assert scenario.last_outcome(nginx) == "no-consent"

    r = nginx.get("/index.html", headers={"Cookie": deny})
    assert r.body == PAGE and not set_cookies(r), "new visitor without consent: no cookie"

    r = nginx.get("/index.html", headers={"Cookie": "%s; %s" % (cookie, grant)})
    assert b"Personal" in r.body, "granted: personalized"

    r = nginx.get("/index.html", headers={"Cookie": "%s; %s" % (cookie, grant), "Sec-GPC": "1"})
    assert r.body == PAGE, "GPC wins over a granted banner"


def test_no_banner_cookie_means_no_consent(nginx, redis, keys, sign):
    vid, cookie = known(redis, sign)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, consent="onetrust")
    r = nginx.get("/index.html", headers={"Cookie": cookie})
    assert r.body == PAGE and not set_cookies(r)
