# A rule that fails at run time is visible to the operator: error.log names the
# rule, the pack's file:line and the error (rate-limited per rule), the
# tailor_rule_errors_total{rule,reason} series counts it, and the page falls
# back to its default. The pack's slots and experiments get series of their
# own, bounded by what the pack declares.

import re
import time

from env import not_under_valgrind
from metrics_text import metric
from tailorctl import encode_profile
from visitor import new_vid, profile_key
import scenario
from scenario import DEFAULT_HERO, cookie_header

BROKEN_PACK = """\
local t = require "tailor"
t.slot "promo" { t.rule "fine" { html = [[Promo for {{first_name}}]] } }
t.slot "hero" {
  t.rule "out-of-stock" { when = function(v) error("no stock feed") end, html = [[never]] },
}
t.slot "footer" {
  t.rule "nil-index" { when = function(v) local x = nil; return x.y end, html = [[never]] },
}
"""


def shop(nginx, redis, keys, pack_text, name="rules.lua"):
    pack = nginx.write_file(name, pack_text.encode())
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path,
                        http_extra="tailor_rules %s;" % pack)
    return pack


def known_visitor(redis, sign):
    vid = new_vid()
    redis.set(profile_key(vid), encode_profile({"v": 1, "first_name": "Ann"}))
    return cookie_header("tailor_vid", sign(vid))


def rule_lines(nginx, rule):
    return [line for line in nginx.read_log().splitlines()
            if '[error]' in line and 'rule "%s"' % rule in line]


def test_a_failing_rule_is_logged_with_its_file_and_line_and_counted(nginx, redis, keys, sign):
    pack = shop(nginx, redis, keys, BROKEN_PACK)
    nginx.allow_log(r"\[error\].*tailor: rule")
    headers = known_visitor(redis, sign)

    before = scenario.status_metrics(nginx)
    assert metric(before, "tailor_rule_errors_total", rule="out-of-stock", reason="error") == 0

    r = nginx.get("/index.html", headers=headers)
    assert r.status == 200
    assert DEFAULT_HERO in r.body, "the failing rule's slot keeps its default"
    assert b'<tailor-slot name="promo">Promo for Ann</tailor-slot>' in r.body

    lines = rule_lines(nginx, "out-of-stock")
    assert len(lines) == 1, nginx.log_tail()
    line = lines[0]
    assert "%s:4" % pack in line, line  # where the pack declares the rule
    assert "no stock feed" in line, line  # the error itself
    assert 'request: "GET /index.html' in line, line

    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_rule_errors_total", rule="out-of-stock", reason="error") == 1
    assert metric(m, "tailor_rule_errors_total", rule="nil-index", reason="error") == 1
    assert metric(m, "tailor_rule_errors_total", rule="fine") == 0
    assert metric(m, "tailor_decision_errors_total") == 2

    nginx.get("/index.html", headers=headers)
    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_rule_errors_total", rule="out-of-stock", reason="error") == 2


def test_one_failing_rule_does_not_hide_another_in_the_log(nginx, redis, keys, sign):
    pack = shop(nginx, redis, keys, BROKEN_PACK)
    nginx.allow_log(r"\[error\].*tailor: rule")

    nginx.get("/index.html", headers=known_visitor(redis, sign))
    nil_lines = rule_lines(nginx, "nil-index")
    assert len(nil_lines) == 1, nginx.log_tail()
    assert "%s:7" % pack in nil_lines[0], nil_lines[0]
    assert len(rule_lines(nginx, "out-of-stock")) == 1


def test_a_rule_failing_on_every_request_is_logged_at_most_once_a_second(nginx, redis, keys,
                                                                          sign):
    shop(nginx, redis, keys, BROKEN_PACK)
    nginx.allow_log(r"\[error\].*tailor: rule")
    headers = known_visitor(redis, sign)

    n = 12
    started = time.monotonic()
    for _ in range(n):
        assert DEFAULT_HERO in nginx.get("/index.html", headers=headers).body
    elapsed = time.monotonic() - started
    lines = rule_lines(nginx, "out-of-stock")
    # once per clock second: t seconds of requests span at most int(t) + 2 of
    # them (a loaded machine may take several seconds for the 12 requests)
    assert 1 <= len(lines) <= int(elapsed) + 2, (elapsed, lines)
    # the held-back ones are announced by the next line, if any
    held = sum(int(x) for x in re.findall(r"\((\d+) more since the last report\)",
                                          "\n".join(lines)))
    assert held <= n - len(lines)
    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_rule_errors_total", rule="out-of-stock", reason="error") == n, \
        "every failure is counted, logged or not"


def test_a_rule_cut_by_its_budget_is_counted_as_budget(nginx, redis, keys, sign):
    pack = """\
local t = require "tailor"
t.slot "hero" { t.rule "spin" { when = function(v) while true do end end, html = [[never]] } }
"""
    shop(nginx, redis, keys, pack)
    nginx.allow_log(r"\[error\].*tailor: rule")
    r = nginx.get("/index.html", headers=known_visitor(redis, sign))
    assert DEFAULT_HERO in r.body
    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_rule_errors_total", rule="spin", reason="budget") == 1
    assert metric(m, "tailor_rule_errors_total", rule="spin", reason="error") == 0
    lines = rule_lines(nginx, "spin")
    assert lines and "was cut off" in lines[0] and "budget" in lines[0], nginx.log_tail()


EXPERIMENT_PACK = """\
local t = require "tailor"
t.experiment "hero-copy" { variants = { a = 50, b = 50 } }
t.slot "hero" {
  t.rule "hero-a" { experiment = "hero-copy", variant = "a", html = [[Copy A]] },
  t.rule "hero-b" { experiment = "hero-copy", variant = "b", html = [[Copy B]] },
}
t.slot "promo" { t.rule "promo" { html = [[Promo]] } }
"""


def test_slots_and_experiment_variants_have_series_of_their_own(nginx, redis, keys, sign):
    shop(nginx, redis, keys, EXPERIMENT_PACK)
    m = scenario.status_metrics(nginx)
    # declared by the pack, so present (at 0) before any request
    for slot in ("hero", "promo"):
        assert ("tailor_slot_decisions_total", (("slot", slot),)) in m
    for variant in ("a", "b", "holdout"):
        key = ("tailor_experiment_exposures_total",
               (("experiment", "hero-copy"), ("variant", variant)))
        assert key in m and m[key] == 0, sorted(k for k in m if k[0].startswith("tailor_exp"))

    seen = {"a": 0, "b": 0}
    n = 6
    for _ in range(n):
        body = nginx.get("/index.html", headers=known_visitor(redis, sign)).body
        seen["a" if b"Copy A" in body else "b"] += 1
    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_slot_decisions_total", slot="hero") == n
    assert metric(m, "tailor_slot_decisions_total", slot="promo") == n
    for variant in ("a", "b"):
        assert metric(m, "tailor_experiment_exposures_total", experiment="hero-copy",
                      variant=variant) == seen[variant]
    assert not [k for k in m if k[0] == "tailor_slot_decisions_total"
                and k[1] not in ((("slot", "hero"),), (("slot", "promo"),))], \
        "only the pack's slots are labels"


@not_under_valgrind()  # a single process does not restart its rule runtimes on reload
def test_a_reload_keeps_the_series_of_the_same_packs_and_swaps_those_of_new_ones(
        nginx, redis, keys, sign):
    pack = shop(nginx, redis, keys, BROKEN_PACK)
    nginx.allow_log(r"\[error\].*tailor: rule")
    headers = known_visitor(redis, sign)
    nginx.get("/index.html", headers=headers)
    assert metric(scenario.status_metrics(nginx), "tailor_rule_errors_total",
                  rule="out-of-stock", reason="error") == 1

    nginx.reload()  # the same packs: the same series, still counting
    nginx.get("/index.html", headers=headers)
    assert metric(scenario.status_metrics(nginx), "tailor_rule_errors_total",
                  rule="out-of-stock", reason="error") == 2

    with open(pack, "w") as f:
        f.write(EXPERIMENT_PACK)
    nginx.reload()  # other packs: their names, from zero
    m = scenario.status_metrics(nginx)
    rules = {dict(ls)["rule"] for (n, ls) in m if n == "tailor_rule_errors_total"}
    assert rules == {"hero-a", "hero-b", "promo"}
    assert metric(m, "tailor_rule_errors_total") == 0
    assert DEFAULT_HERO not in nginx.get("/index.html", headers=headers).body
