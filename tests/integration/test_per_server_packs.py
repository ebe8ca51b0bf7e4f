# One nginx, several brands: tailor_rules and tailor_keys in a server{} give
# that server its own pack and keyring; a server without them uses http{}'s.

from metrics_text import metric
from tailorctl import KeyFile, encode_profile
from visitor import new_vid, profile_key
import scenario
from scenario import PAGE, cookie_header

PACK = """\
local t = require "tailor"
t.slot "hero" { t.rule "%(rule)s" { html = [[%(text)s for {{first_name}}]] } }
"""


def pack(nginx, name, rule, text):
    return nginx.write_file(name, (PACK % {"rule": rule, "text": text}).encode())


def brands(nginx, redis, keys, keys_b):
    nginx.write_file("html/index.html", PAGE)
    default = pack(nginx, "default.lua", "house", "House")
    a = pack(nginx, "brand-a.lua", "brand-a-hero", "Brand A")
    b = pack(nginx, "brand-b.lua", "brand-b-hero", "Brand B")
    nginx.write("""
    tailor_redis %(redis)s;
    tailor_keys %(keys)s;
    tailor_rules %(default)s;
    log_format tailor '$host $request_uri $status $tailor_status';

    server {
        listen 127.0.0.1:{{PORT}};
        server_name brand-a;
        root html;
        tailor_rules %(a)s;
        location / { tailor on; tailor_timeout 1s; }
        location = /tailor-status { tailor_status; }
    }

    server {
        listen 127.0.0.1:{{PORT}};
        server_name brand-b;
        root html;
        tailor_rules %(b)s;
        tailor_keys %(keys_b)s;
        location / { tailor on; tailor_timeout 1s; }
    }

    server {
        listen 127.0.0.1:{{PORT}};
        server_name house;
        root html;
        location / { tailor on; tailor_timeout 1s; }
    }
""" % {"redis": redis.address, "keys": keys.path, "keys_b": keys_b.path, "default": default,
       "a": a, "b": b})
    nginx.start()


def known(redis, name="Ann"):
    vid = new_vid()
    redis.set(profile_key(vid), encode_profile({"v": 1, "first_name": name}))
    return vid


def hero(nginx, host, cookie=None):
    headers = {"Host": host}
    if cookie:
        headers.update(cookie_header("tailor_vid", cookie))
    r = nginx.get("/index.html", headers=headers)
    assert r.status == 200, r
    start = r.body.index(b'<tailor-slot name="hero">')
    return r.body[start:r.body.index(b"</tailor-slot>", start)].split(b">", 1)[1].decode()


def test_each_server_decides_with_its_own_pack(nginx, redis, keys, workdir):
    keys_b = KeyFile(nginx.path("conf", "brand-b.keys"))
    brands(nginx, redis, keys, keys_b)
    vid = known(redis)

    assert hero(nginx, "brand-a", keys.sign(vid)) == "Brand A for Ann"
    assert hero(nginx, "brand-b", keys_b.sign(vid)) == "Brand B for Ann"
    assert hero(nginx, "house", keys.sign(vid)) == "House for Ann", "http{}'s pack"


def test_each_server_verifies_cookies_with_its_own_keys(nginx, redis, keys, workdir):
    keys_b = KeyFile(nginx.path("conf", "brand-b.keys"))
    brands(nginx, redis, keys, keys_b)
    vid = known(redis)

    # brand B signs with its own key: brand A's cookie is a stranger's there
    r = nginx.get("/index.html", headers=dict(cookie_header("tailor_vid", keys.sign(vid)),
                                              Host="brand-b"))
    assert b"Brand B for Ann" not in r.body
    issued = scenario.set_cookies(r)
    assert issued, "a new visitor cookie, signed by brand B's key"
    assert keys_b.verify(issued[0][1]) is not None
    assert keys.verify(issued[0][1]) is None

    # and the server that inherits http{}'s keys accepts brand A's cookie
    assert hero(nginx, "house", keys.sign(vid)) == "House for Ann"


def test_the_series_of_every_servers_pack_are_exported(nginx, redis, keys, workdir):
    keys_b = KeyFile(nginx.path("conf", "brand-b.keys"))
    brands(nginx, redis, keys, keys_b)
    vid = known(redis)
    hero(nginx, "brand-b", keys_b.sign(vid))
    r = nginx.get("/tailor-status", headers={"Host": "brand-a"})
    from metrics_text import parse_metrics
    m = parse_metrics(r.text)
    rules = {dict(ls)["rule"] for (n, ls) in m if n == "tailor_rule_errors_total"}
    assert rules == {"house", "brand-a-hero", "brand-b-hero"}
    assert metric(m, "tailor_slot_decisions_total", slot="hero") == 1


def test_a_server_pack_error_names_its_file_and_line(nginx, redis, keys):
    bad = nginx.write_file("bad.lua", b'local t = require "tailor"\nt.slot "hero" {\n')
    nginx.write("""
    tailor_keys %s;
    server {
        listen 127.0.0.1:{{PORT}};
        tailor_rules %s;
        location / { tailor on; }
    }
""" % (keys.path, bad))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "bad.lua" in out, out
    assert "nginx.conf:%d" % nginx.line_of("tailor_rules") in out, out


def test_tailor_rules_twice_in_one_server_is_duplicate(nginx, keys):
    p = pack(nginx, "p.lua", "r", "R")
    nginx.write("""
    tailor_keys %s;
    tailor_rules %s;
    server {
        listen 127.0.0.1:{{PORT}};
        tailor_rules %s;
        tailor_rules %s;
        location / { tailor on; }
    }
""" % (keys.path, p, p, p))
    rc, out = nginx.test_config()
    assert rc != 0
    assert '"tailor_rules" directive is duplicate' in out, out


def test_tailor_rules_is_refused_in_a_location(nginx, keys):
    p = pack(nginx, "p.lua", "r", "R")
    nginx.write("""
    tailor_keys %s;
    server {
        listen 127.0.0.1:{{PORT}};
        location / { tailor on; tailor_rules %s; }
    }
""" % (keys.path, p))
    rc, out = nginx.test_config()
    assert rc != 0
    assert '"tailor_rules" directive is not allowed here' in out, out
