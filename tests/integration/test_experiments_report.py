# `tailorctl experiments report` on a generated stream (entries in the
# module's encoding, by `tailorctl events emit`) against hand-computed figures.

import json

import pytest

from test_triggers import T0, ctl, emit
from test_triggers import pytestmark  # noqa: F401 (skips without tailorctl)


def report(redis, *extra):
    p = ctl("experiments", "report", "--redis", redis.address, "--format", "json", *extra)
    return {r["variant"]: r for r in map(json.loads, p.stdout.decode().splitlines())}


def expose(redis, vid, variant, ts=T0):
    ctl("events", "emit", "--redis", redis.address, "--type", "Page Viewed", "--vid", vid,
        "--ts", ts, "--exp", "hero:hero-copy:%s" % variant)


def test_report_matches_hand_computed_figures(redis):
    # control 4 of 40, b 10 of 40, holdout 2 of 40
    for variant, n, converted in (("control", 40, 4), ("b", 40, 10), ("holdout", 40, 2)):
        for i in range(n):
            vid = "%s-%02d" % (variant, i)
            expose(redis, vid, variant)
            if i < converted:
                if variant == "b" and i == 0:
                    # exposed anonymously, ordered after logging in
                    emit(redis, "Identify", "cust-b0", T0 + 1, prev=vid)
                    emit(redis, "Order Completed", "cust-b0", T0 + 2, revenue="10")
                else:
                    emit(redis, "Order Completed", vid, T0 + 2, revenue="10")
    emit(redis, "Order Completed", "control-39", T0 - 1, revenue="10")  # before exposure
    rows = report(redis)
    assert set(rows) == {"control", "b", "holdout"}

    c, b, h = rows["control"], rows["b"], rows["holdout"]
    assert (c["exposed"], c["converted"]) == (40, 4)
    assert (b["exposed"], b["converted"]) == (40, 10)
    assert (h["exposed"], h["converted"]) == (40, 2)
    # Wilson 95 %: 4/40 -> [3.958 %, 23.052 %]; 10/40 -> [14.187 %, 40.194 %]
    assert c["rate"] == pytest.approx(0.1)
    assert c["rate_low"] == pytest.approx(0.0395795, abs=1e-6)
    assert c["rate_high"] == pytest.approx(0.2305178, abs=1e-6)
    assert b["rate_low"] == pytest.approx(0.1418712, abs=1e-6)
    assert b["rate_high"] == pytest.approx(0.4019396, abs=1e-6)
    # lift of b: +150 % over control [-14.55 %, +631.4 %], +400 % over holdout [+16.87 %, +2039 %]
    assert b["lift_vs_control"]["lift"] == pytest.approx(1.5)
    assert b["lift_vs_control"]["low"] == pytest.approx(-0.1454889, abs=1e-6)
    assert b["lift_vs_control"]["high"] == pytest.approx(6.3141236, abs=1e-6)
    assert b["lift_vs_holdout"]["lift"] == pytest.approx(4.0)
    assert b["lift_vs_holdout"]["low"] == pytest.approx(0.1686973, abs=1e-6)
    assert b["lift_vs_holdout"]["high"] == pytest.approx(20.3913387, abs=1e-6)
    assert c["lift_vs_control"] is None


def test_the_table_names_each_variant_and_its_lift(redis):
    expose(redis, "v1", "control")
    expose(redis, "v2", "b")
    emit(redis, "Order Completed", "v1", T0 + 1, revenue="1")
    emit(redis, "Order Completed", "v2", T0 + 1, revenue="1")
    lines = ctl("experiments", "report", "--redis", redis.address).stdout.decode().splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:2] == ["hero-copy", "b"] and "+0.0%" in lines[0]
    assert lines[1].split()[:2] == ["hero-copy", "control"]
