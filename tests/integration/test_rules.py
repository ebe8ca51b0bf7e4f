# Rule packs in the module: a persona's page is decided by Lua; a broken or
# looping rule falls back to the default and the worker lives on; nginx -t
# names the pack's file and line; a reload swaps packs under load.

import time

from env import not_under_valgrind
from metrics_text import metric
from tailorctl import encode_profile
from visitor import new_vid, profile_key
import scenario
from scenario import DEFAULT_HERO, PAGE, cookie_header
from test_reload_under_load import THREADS, PER_THREAD, hammer

LIFECYCLE_PACK = """\
local t = require "tailor"
t.slot "hero" {
  t.rule "vip-perks" {
    when = t.lifecycle "vip", priority = 80,
    html = [[VIP perks for {{first_name}}]],
  },
  t.rule "first-order" {
    when = t.lifecycle "new_buyer", priority = 50,
    html = [[Thanks for your first order, {{first_name}}]],
  },
}
"""

DAY = 86400


def write_pack(nginx, text, name="rules.lua"):
    nginx.write_file(name, text.encode())
    return nginx.path(name)


def seed_profile(redis, vid, profile):
    redis.set(profile_key(vid), encode_profile(profile))


def shop_with_rules(nginx, redis, keys, pack_path, **kw):
    return scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s",
                               http_extra="tailor_rules %s;" % pack_path, **kw)


def test_persona_pages_are_decided_by_the_pack(nginx, redis, keys, sign):
    now = int(time.time())
    vip, buyer = new_vid(), new_vid()
    seed_profile(redis, vip, {"v": 1, "first_name": "Sofia", "first_seen": now - 900 * DAY,
                              "orders_count": 23, "last_order_at": now - 9 * DAY,
                              "total_spent": 184250})
    seed_profile(redis, buyer, {"v": 1, "first_name": "Noor", "first_seen": now - 20 * DAY,
                                "orders_count": 1, "last_order_at": now - 6 * DAY,
                                "total_spent": 2450})
    shop_with_rules(nginx, redis, keys, write_pack(nginx, LIFECYCLE_PACK))

    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vip)))
    assert b'<tailor-slot name="hero">VIP perks for Sofia</tailor-slot>' in r.body
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(buyer)))
    assert b'<tailor-slot name="hero">Thanks for your first order, Noor</tailor-slot>' in r.body
    assert scenario.last_outcome(nginx) == "hit"

    r = nginx.get("/index.html")  # a new visitor matches neither rule
    assert r.body == PAGE


def test_profile_data_is_escaped_in_rule_templates(nginx, redis, keys, sign):
    now = int(time.time())
    vid = new_vid()
    seed_profile(redis, vid, {"v": 1, "first_name": "<script>x</script>", "orders_count": 1,
                              "first_seen": now - 20 * DAY, "last_order_at": now - DAY,
                              "total_spent": 100})
    shop_with_rules(nginx, redis, keys, write_pack(nginx, LIFECYCLE_PACK))
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert b"&lt;script&gt;x&lt;/script&gt;" in r.body
    assert b"<script>x" not in r.body


def test_a_rule_that_errors_keeps_the_default_and_is_counted(nginx, redis, keys, sign):
    vid = new_vid()
    seed_profile(redis, vid, {"v": 1, "first_name": "Ann"})
    pack = """\
local t = require "tailor"
t.slot "hero" { t.rule "broken" { when = function(v) error("boom") end, html = [[never]] } }
t.slot "promo" { t.rule "fine" { html = [[Promo for {{first_name}}]] } }
"""
    shop_with_rules(nginx, redis, keys, write_pack(nginx, pack))
    nginx.allow_log(r"\[error\].*broken|\[warn\].*broken|boom")

    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200
    assert DEFAULT_HERO in r.body, "the broken rule's slot keeps its default"
    assert b'<tailor-slot name="promo">Promo for Ann</tailor-slot>' in r.body
    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_decision_errors_total") >= 1


def test_new_visitors_reuse_a_workers_decision_for_the_same_request(nginx, redis, keys):
    pack = """\
local t = require "tailor"
t.slot "hero" { t.rule "welcome" { when = t.lifecycle "new_visitor",
                                   html = [[Welcome, {{first_name|friend}}]] } }
"""
    shop_with_rules(nginx, redis, keys, write_pack(nginx, pack))
    # no cookie: each is a new visitor with a new id and nothing stored
    for _ in range(10):
        r = nginx.get("/index.html")
        assert b'<tailor-slot name="hero">Welcome, friend</tailor-slot>' in r.body
    # 10 requests over fewer workers: some worker saw these facts before
    assert metric(scenario.status_metrics(nginx), "tailor_rule_memo_hits_total") >= 1


@not_under_valgrind()  # the evaluation's 5 ms wall-clock budget
def test_an_infinite_loop_is_cut_off_and_the_worker_keeps_serving(nginx, redis, keys, sign):
    vid = new_vid()
    seed_profile(redis, vid, {"v": 1, "first_name": "Ann"})
    pack = """\
local t = require "tailor"
t.slot "hero" { t.rule "spin" { when = function(v) while true do end end, html = [[never]] } }
t.slot "promo" { t.rule "fine" { html = [[Promo]] } }
"""
    shop_with_rules(nginx, redis, keys, write_pack(nginx, pack))
    nginx.allow_log(r"spin|budget")
    workers = set(nginx.workers())

    for _ in range(3):
        r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
        assert r.status == 200
        assert DEFAULT_HERO in r.body
        assert b'<tailor-slot name="promo">Promo</tailor-slot>' in r.body
    assert set(nginx.workers()) == workers, "no worker died"


def test_nginx_t_names_the_pack_file_and_line(nginx, redis, keys):
    pack = "local t = require \"tailor\"\n\nt.slot \"hero\" {\n  t.rule \"x\" { html = 42 }\n}\n"
    path = write_pack(nginx, pack, "bad.lua")
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path,
                                     http_extra="tailor_rules %s;" % path))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "bad.lua:4" in out, out
    assert "nginx.conf:%d" % nginx.line_of("tailor_rules") in out, out


def test_nginx_t_reports_a_lua_syntax_error(nginx, redis, keys):
    path = write_pack(nginx, "local t = require \"tailor\"\nt.slot \"hero\" {\n", "syntax.lua")
    nginx.write(scenario.tailor_http(redis=redis.address, keys=keys.path,
                                     http_extra="tailor_rules %s;" % path))
    rc, out = nginx.test_config()
    assert rc != 0
    assert "syntax.lua" in out, out


@not_under_valgrind()
def test_reload_swaps_packs_under_load_without_a_failed_request(nginx_factory, redis, keys, sign):
    nginx = nginx_factory(worker_processes=2)
    vid = new_vid()
    seed_profile(redis, vid, {"v": 1, "first_name": "Ann"})
    pack = "local t = require \"tailor\"\nt.slot \"hero\" { t.rule \"r\" { html = [[%s]] } }\n"
    path = write_pack(nginx, pack % "Pack one")
    shop_with_rules(nginx, redis, keys, path)
    headers = {"Cookie": "tailor_vid=" + sign(vid)}

    def check(r):
        if r.status != 200 or not r.body.endswith(b"</html>\n"):
            return "status %d, %d bytes" % (r.status, len(r.body))
        if b"Pack one" not in r.body and b"Pack two" not in r.body:
            return "neither pack decided"

    write_pack(nginx, pack % "Pack two")
    failures, n = hammer(nginx, "/index.html", headers, check)
    assert n == THREADS * PER_THREAD
    assert not failures, failures[:5]
    r = nginx.get("/index.html", headers=headers)
    assert b"Pack two" in r.body


def test_a_bad_pack_on_reload_keeps_the_old_one_serving(nginx, redis, keys, sign):
    vid = new_vid()
    seed_profile(redis, vid, {"v": 1, "first_name": "Ann"})
    pack = "local t = require \"tailor\"\nt.slot \"hero\" { t.rule \"r\" { html = [[Good pack]] } }\n"
    path = write_pack(nginx, pack)
    shop_with_rules(nginx, redis, keys, path)
    headers = cookie_header("tailor_vid", sign(vid))
    assert b"Good pack" in nginx.get("/index.html", headers=headers).body

    write_pack(nginx, "this is not lua (")
    nginx.reload(expect_fail=True)
    assert b"Good pack" in nginx.get("/index.html", headers=headers).body
