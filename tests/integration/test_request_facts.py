# Request facts in the module: `tailor_logged_in` and `tailor_rule_cookies` reach the rules,
# so t.logged_in() and t.cookie() decide the page in nginx exactly as `tailorctl rules render`
# previews it.

import json
import subprocess

import pytest

from env import IO_TIMEOUT, TAILORCTL
from tailorctl import encode_profile
from visitor import new_vid, profile_key
import scenario
from scenario import cookie_header

PACK = """\
local t = require "tailor"
t.slot "hero" {
  t.rule "member" { when = t.logged_in(), html = [[Welcome back, {{first_name}}]] },
}
t.slot "promo" {
  t.rule "ab-x" { when = t.cookie("ab", "x"), html = [[Variant X offer]] },
}
"""

PROFILE = {"v": 1, "first_name": "Ann"}

SHOP_CONF = "tailor_logged_in $cookie_shop_session; tailor_rule_cookies ab;"


def start(nginx, redis, keys, extra=SHOP_CONF):
    nginx.write_file("rules.lua", PACK.encode())
    return scenario.start_shop(nginx, redis=redis.address, keys=keys.path,
                               http_extra="tailor_rules %s; %s" % (nginx.path("rules.lua"), extra))


def render(nginx, *flags):
    """tailorctl rules render of the same pack, profile and page."""
    if not TAILORCTL:
        pytest.fail("needs tailorctl: set TAILORCTL (ctest does)", pytrace=False)
    nginx.write_file("profile.json", json.dumps(PROFILE).encode())
    p = subprocess.run([TAILORCTL, "rules", "render", nginx.path("rules.lua"),
                        "--profile", nginx.path("profile.json")] + list(flags)
                       + [nginx.path("html/index.html")],
                       capture_output=True, timeout=IO_TIMEOUT)
    assert p.returncode == 0, p.stderr
    return p.stdout


def get(nginx, sign, vid, cookies=""):
    h = cookie_header("tailor_vid", sign(vid))
    h["Cookie"] += cookies
    return nginx.get("/index.html", headers=h)


def test_a_logged_in_visitor_sees_what_render_logged_in_previews(nginx, redis, keys, sign):
    vid = new_vid()
    redis.set(profile_key(vid), encode_profile(PROFILE))
    start(nginx, redis, keys)

    r = get(nginx, sign, vid, "; shop_session=s-8f2c")
    assert r.status == 200
    assert b"Welcome back, Ann" in r.body
    assert r.body == render(nginx, "--logged-in")

    r = get(nginx, sign, vid)  # no session cookie: logged out
    assert b"Welcome back" not in r.body
    assert r.body == render(nginx)

    r = get(nginx, sign, vid, "; shop_session=0")  # "0" is logged out, as in proxy_no_cache
    assert b"Welcome back" not in r.body


def test_without_tailor_logged_in_nobody_is_logged_in(nginx, redis, keys, sign):
    vid = new_vid()
    redis.set(profile_key(vid), encode_profile(PROFILE))
    start(nginx, redis, keys, extra="")
    r = get(nginx, sign, vid, "; shop_session=s-8f2c; ab=x")
    assert r.status == 200
    assert r.body == render(nginx)


def test_only_whitelisted_cookies_reach_the_rules(nginx, redis, keys, sign):
    vid = new_vid()
    redis.set(profile_key(vid), encode_profile(PROFILE))
    nginx.write_file("rules.lua", PACK.encode())
    start(nginx, redis, keys)

    r = get(nginx, sign, vid, "; ab=x")
    assert b'<tailor-slot name="promo">Variant X offer</tailor-slot>' in r.body
    r = get(nginx, sign, vid, "; ab=y")
    assert b"Variant X offer" not in r.body

    # the same cookie is invisible where it is not listed
    nginx.stop()
    nginx2_conf = "tailor_logged_in $cookie_shop_session; tailor_rule_cookies other;"
    start(nginx, redis, keys, extra=nginx2_conf)
    r = get(nginx, sign, vid, "; ab=x")
    assert r.status == 200
    assert b"Variant X offer" not in r.body


@pytest.mark.parametrize("conf, message", [
    ("tailor_rule_cookies \"a b\";", "invalid cookie name"),
    ("tailor_rule_cookies %s;" % " ".join("c%d" % i for i in range(17)), "too many cookies"),
    ("tailor_logged_in $a; tailor_logged_in $b;", "is duplicate"),
])
def test_nginx_t_refuses_bad_fact_directives(nginx, redis, keys, conf, message):
    nginx.write_file("rules.lua", PACK.encode())
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path,
                                     http_extra="tailor_rules %s; %s"
                                     % (nginx.path("rules.lua"), conf)))
    rc, out = nginx.test_config()
    assert rc != 0
    assert message in out, out
