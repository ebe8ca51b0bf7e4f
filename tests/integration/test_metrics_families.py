# The status endpoints speak Prometheus' text format as scrapers expect it:
# every metric family announces its HELP and TYPE before its samples, once;
# the build is tailor_build_info; names are what docs/directives.md lists.

import re

import pytest

from env import module_has, not_under_valgrind
from metrics_text import metric, parse_metrics
import scenario
from test_events import EVENT_LOCATIONS, events_http

PACK = """\
local t = require "tailor"
t.experiment "hero-copy" { variants = { a = 50, b = 50 }, holdout = 10 }
t.slot "hero" {
  t.rule "hero-a" { experiment = "hero-copy", variant = "a", html = [[A]] },
  t.rule "hero-b" { experiment = "hero-copy", variant = "b", html = [[B]] },
}
"""

SUFFIXES = ("_bucket", "_sum", "_count")


def families(text):
    """{family: {"help": n, "type": kind or None, "samples": n, "typed_before": bool}}, and a
    list of problems found while reading the text in order."""
    fam = {}
    problems = []
    types = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        m = re.match(r"^# (HELP|TYPE) ([A-Za-z_:][A-Za-z0-9_:]*) (.*)$", line)
        if m:
            kind, name, rest = m.groups()
            f = fam.setdefault(name, {"help": 0, "type": None, "samples": 0})
            if kind == "HELP":
                f["help"] += 1
                if not rest.strip():
                    problems.append("%s: empty HELP" % name)
                if f["samples"]:
                    problems.append("%s: HELP after its samples" % name)
            else:
                if f["type"] is not None:
                    problems.append("%s: TYPE twice" % name)
                if f["samples"]:
                    problems.append("%s: TYPE after its samples" % name)
                f["type"] = rest.strip()
                types[name] = rest.strip()
            continue
        if line.startswith("#"):
            continue
        name = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)", line).group(1)
        family = name
        for s in SUFFIXES:
            base = name[:-len(s)] if name.endswith(s) else None
            if base and types.get(base) == "histogram":
                family = base
        f = fam.setdefault(family, {"help": 0, "type": None, "samples": 0})
        f["samples"] += 1
    for name, f in fam.items():
        if f["help"] != 1:
            problems.append("%s: %d HELP lines" % (name, f["help"]))
        if f["type"] not in ("counter", "gauge", "histogram"):
            problems.append("%s: TYPE %r" % (name, f["type"]))
        if f["type"] == "counter" and not name.endswith("_total"):
            problems.append("%s: a counter whose name does not end in _total" % name)
    return fam, problems


@pytest.mark.skipif(not module_has("tailor_events"), reason="module built without events")
def test_every_family_of_both_status_endpoints_has_help_and_type(nginx, redis, keys):
    pack = nginx.write_file("rules.lua", PACK.encode())
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path,
                        http_extra=events_http() + "\n    tailor_rules %s;" % pack,
                        location_extra=EVENT_LOCATIONS)
    nginx.get("/index.html")

    for path in ("/tailor-status", "/events-status"):
        r = nginx.get(path)
        assert r.status == 200, (path, r)
        assert r.header("Content-Type").startswith("text/plain; version=0.0.4"), path
        fam, problems = families(r.text)
        assert fam, path
        assert not problems, "%s:\n  %s" % (path, "\n  ".join(problems))
        parse_metrics(r.text)  # and every sample line parses

    fam, _ = families(nginx.get("/tailor-status").text)
    for name in ("tailor_build_info", "tailor_requests_total", "tailor_outcomes_total",
                 "tailor_redis_connects_total", "tailor_redis_latency_seconds",
                 "tailor_decision_errors_total", "tailor_rule_errors_total",
                 "tailor_slot_decisions_total", "tailor_experiment_exposures_total",
                 "tailor_popup_offers_total", "tailor_events_emitted_total",
                 "tailor_events_queued"):
        assert name in fam, name
    assert "tailor_info" not in fam, "the build-info metric is tailor_build_info"
    m = scenario.status_metrics(nginx)
    builds = [k for k in m if k[0] == "tailor_build_info"]
    assert len(builds) == 1 and m[builds[0]] == 1
    assert dict(builds[0][1]).get("version"), builds


def test_the_series_of_a_pack_are_bounded_by_what_it_declares(nginx, redis, keys):
    pack = nginx.write_file("rules.lua", PACK.encode())
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path,
                        http_extra="tailor_rules %s;" % pack)
    m = scenario.status_metrics(nginx)
    rules = {dict(ls)["rule"] for (n, ls) in m if n == "tailor_rule_errors_total"}
    assert rules == {"hero-a", "hero-b"}
    reasons = {dict(ls)["reason"] for (n, ls) in m if n == "tailor_rule_errors_total"}
    assert reasons == {"error", "budget", "memory"}
    slots = {dict(ls)["slot"] for (n, ls) in m if n == "tailor_slot_decisions_total"}
    assert slots == {"hero"}
    variants = {(dict(ls)["experiment"], dict(ls)["variant"])
                for (n, ls) in m if n == "tailor_experiment_exposures_total"}
    assert variants == {("hero-copy", "a"), ("hero-copy", "b"), ("hero-copy", "holdout")}


def test_the_builtin_decision_adds_no_series_from_profile_data(nginx, redis, keys, sign):
    """Without a pack, slot names come from profiles: they never become labels."""
    from visitor import new_vid
    from scenario import cookie_header, seed
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    vid = new_vid()
    seed(redis, vid, slots={"hero": "Hi"})
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert b">Hi</tailor-slot>" in r.body
    m = scenario.status_metrics(nginx)
    assert not [k for k in m if k[0] in ("tailor_slot_decisions_total",
                                         "tailor_rule_errors_total")]
    fam, problems = families(nginx.get("/tailor-status").text)
    assert not problems, problems
    assert "tailor_slot_decisions_total" in fam, "the family is announced, empty"


POPUP_PACK = """\
local t = require "tailor"
t.slot "hero" { t.rule "hello" { html = [[Hello]] } }
t.popup "welcome" {
  trigger = t.exit_intent(), intent = "browse",
  html = [[<p>Welcome</p>]], caps = { per_visit = 1 },
}
"""


@not_under_valgrind("the evaluation's 5 ms wall-clock budget cuts the pop-up under valgrind")
def test_popup_offers_are_counted_by_popup_and_are_no_slot(nginx, redis, keys):
    pack = nginx.write_file("rules.lua", POPUP_PACK.encode())
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path,
                        http_extra="tailor_rules %s;" % pack)
    r = nginx.get("/index.html")
    assert b"tailor-directives" in r.body, "the pop-up was offered"
    m = scenario.status_metrics(nginx)
    assert metric(m, "tailor_popup_offers_total", popup="welcome") == 1
    slots = {dict(ls)["slot"] for (n, ls) in m if n == "tailor_slot_decisions_total"}
    assert slots == {"hero"}, "the kit's (popups) is not a page slot"
