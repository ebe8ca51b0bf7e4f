# Pop-ups as experiment variants, end to end with real nginx and redis-server: the
# visitors split as core's documented bucketing says (recomputed here from the
# algorithm in docs/templates.md), each keeps their variant from page to page, the
# control and the holdout get no pop-up but are exposed all the same, a capped
# variant's visitor stays exposed, the exposures land in the event stream and in
# tailor_experiment_exposures_total, and `tailorctl experiments report` reads that
# stream with orders and with the pop-up's own click beacon as the conversion.

import hashlib
import json
import time

import pytest

from env import IO_TIMEOUT, wait_for
from msgpack_codec import msgpack_unpack
from visitor import new_vid
import scenario
from scenario import BROWSER
from test_popups import beacon, offered, popup_ids, shop_http, start
from test_triggers import ctl, emit
from test_triggers import pytestmark  # noqa: F401 (skips without tailorctl)

PACK = """\
local t = require "tailor"
t.experiment "exit-offer" { variants = { control = 50, offer = 50 }, holdout = 10 }
t.popup "exit-discount" {
  experiment = "exit-offer", variant = "offer",
  trigger = t.exit_intent(), intent = "product",
  html = [[<h2>10% off</h2><a href="/cart" data-tailor-convert>Take it</a>]],
  caps = { per_visit = false, per_day = false },
}
t.popup "newsletter" {
  trigger = t.idle(30), intent = "browse", when = t.path "^/news",
  html = [[<p>Join</p>]],
}
"""

EXPERIMENT = "exit-offer"


def variant_of(vid, salt=EXPERIMENT, holdout=10, variants=(("control", 50), ("offer", 50))):
    """Core's assignment (core/tailor/decision/experiment.h), written out again."""
    h = int.from_bytes(hashlib.sha256(salt.encode() + b"\0" + vid.encode()).digest()[:8], "big")
    bucket = h % 10000
    if bucket < holdout * 100:
        return "holdout"
    total = sum(w for _, w in variants)
    p = (bucket - holdout * 100) * total // (10000 - holdout * 100)
    acc = 0
    for name, w in variants:
        acc += w
        if p < acc:
            return name
    return variants[-1][0]


def visitors(per_variant):
    """Fresh visitor ids until each group has its number: {variant: [vid, ...]}."""
    groups = {v: [] for v in per_variant}
    while any(len(groups[v]) < n for v, n in per_variant.items()):
        vid = new_vid()
        v = variant_of(vid)
        if len(groups[v]) < per_variant[v]:
            groups[v].append(vid)
    return groups


def view(nginx, cookie, path="/index.html"):
    h = {"User-Agent": BROWSER}
    h.update(scenario.cookie_header("tailor_vid", cookie))
    r = nginx.get(path, headers=h)
    assert r.status == 200, r
    return r


def page_views(redis, n):
    """The stream's page views, once there are n of them: [(vid, exp), ...]."""
    def read():
        out = []
        for _, kv in redis.command("XRANGE", "tailor:events", "-", "+"):
            fields = {kv[i].decode(): kv[i + 1] for i in range(0, len(kv), 2)}
            e = msgpack_unpack(fields["e"])
            if e["type"] == "Page Viewed":
                out.append((e["vid"], [tuple(x) for x in e.get("exp", [])]))
        return out if len(out) >= n else None
    return wait_for(read, IO_TIMEOUT, "%d page views on the stream" % n)


def exposures(nginx):
    m = scenario.status_metrics(nginx)
    return {dict(ls)["variant"]: v for (name, ls), v in m.items()
            if name == "tailor_experiment_exposures_total"
            and dict(ls)["experiment"] == EXPERIMENT}


def report(redis, *extra):
    p = ctl("experiments", "report", "--redis", redis.address, "--format", "json", *extra)
    rows = [json.loads(line) for line in p.stdout.decode().splitlines()]
    return {r["variant"]: r for r in rows if r["experiment"] == EXPERIMENT}


def test_visitors_split_stick_to_their_variant_and_are_exposed_in_stream_and_status(
        nginx, redis, keys, sign):
    start(nginx, redis, keys, events=True, pack=PACK)
    # every declared variant has its series before anyone is exposed, the control
    # that has no pop-up of its own too
    assert exposures(nginx) == {"control": 0, "offer": 0, "holdout": 0}

    groups = visitors({"control": 6, "offer": 6, "holdout": 3})
    views = 3
    for variant, vids in groups.items():
        for vid in vids:
            cookie = sign(vid)
            for i in range(views):
                got = popup_ids(view(nginx, cookie))
                want = [b"exit-discount"] if variant == "offer" else []
                assert got == want, (variant, vid, i)

    n = views * sum(len(v) for v in groups.values())
    events = page_views(redis, n)
    assert len(events) == n
    variant_by_vid = {vid: v for v, vids in groups.items() for vid in vids}
    for vid, exp in events:
        variant = variant_by_vid[vid]
        mine = [x for x in exp if x[1] == EXPERIMENT]
        # one exposure per page view, in the visitor's variant every time, naming the
        # pop-up the control and the holdout went without
        assert mine == [("exit-discount", EXPERIMENT, variant)], (vid, exp)
        was_offered = ("exit-discount", "popup", "offered") in exp
        assert was_offered == (variant == "offer"), (vid, exp)

    assert exposures(nginx) == {v: float(views * len(vids)) for v, vids in groups.items()}
    m = scenario.status_metrics(nginx)
    assert m[("tailor_popup_offers_total", (("popup", "exit-discount"),))] == \
        views * len(groups["offer"])

    # an offer visitor closes the pop-up: cooling down for 24 h, still in the variant and
    # exposed on the next page view (docs/popups.md, "Experiments")
    vid = groups["offer"][0]
    cookie = sign(vid)
    r = beacon(nginx, cookie, offered(keys, cookie, "e=close&p=exit-discount"),
               headers={"User-Agent": BROWSER})
    assert r.status == 204, r
    assert popup_ids(view(nginx, cookie)) == []
    last = page_views(redis, n + 1)[-1]
    assert last == (vid, [("exit-discount", EXPERIMENT, "offer")])
    assert exposures(nginx)["offer"] == views * len(groups["offer"]) + 1



def test_the_report_reads_popup_variants_with_orders_and_with_clicks(nginx, redis, keys, sign):
    start(nginx, redis, keys, events=True, pack=PACK)
    groups = visitors({"control": 8, "offer": 8, "holdout": 4})
    for vids in groups.values():
        for vid in vids:
            view(nginx, sign(vid))
    total = sum(len(v) for v in groups.values())
    page_views(redis, total)

    later = int(time.time() * 1000) + 60000  # after every exposure
    # orders: 2 of 8 in control, 4 of 8 with the offer, 1 of 4 held out
    for variant, k in (("control", 2), ("offer", 4), ("holdout", 1)):
        for vid in groups[variant][:k]:
            emit(redis, "Order Completed", vid, later, revenue="30")
    # clicks: 3 offer visitors click the offer (the real beacon); a control visitor
    # converts on the newsletter, which is no conversion of this experiment
    for vid in groups["offer"][:3]:
        assert beacon(nginx, sign(vid), offered(keys, sign(vid), "e=conversion&p=exit-discount"),
                      headers={"User-Agent": BROWSER}).status == 204
    control = sign(groups["control"][0])
    assert beacon(nginx, control, offered(keys, control, "e=conversion&p=newsletter"),
                  headers={"User-Agent": BROWSER}).status == 204

    def clicks():
        n = 0
        for _, kv in redis.command("XRANGE", "tailor:events", "-", "+"):
            fields = {kv[i].decode(): kv[i + 1] for i in range(0, len(kv), 2)}
            n += msgpack_unpack(fields["e"])["type"] == "Promotion Clicked"
        return n >= 4 or None
    wait_for(clicks, IO_TIMEOUT, "four Promotion Clicked events")

    rows = report(redis)
    assert set(rows) == {"control", "offer", "holdout"}
    for variant, exposed, converted in (("control", 8, 2), ("offer", 8, 4), ("holdout", 4, 1)):
        assert (rows[variant]["exposed"], rows[variant]["converted"]) == (exposed, converted)
    # 4/8 against 2/8: a lift of +100 %, Katz interval on the log scale
    assert rows["offer"]["lift_vs_control"]["lift"] == pytest.approx(1.0)
    assert rows["offer"]["lift_vs_holdout"]["lift"] == pytest.approx(1.0)
    assert rows["control"]["lift_vs_control"] is None

    clicked = report(redis, "--conversion", "Promotion Clicked")
    assert (clicked["offer"]["exposed"], clicked["offer"]["converted"]) == (8, 3)
    assert clicked["control"]["converted"] == 0, "a click on another pop-up is not this one's"
    assert clicked["holdout"]["converted"] == 0

    either = report(redis, "--conversion", "Promotion Clicked", "--conversion",
                    "Order Completed")
    # offer: clickers 0-2 and buyers 0-3 overlap: 4 visitors
    assert either["offer"]["converted"] == 4
    assert either["control"]["converted"] == 2


@pytest.mark.parametrize("declaration,reason", [
    ('experiment = "exit-ofer", variant = "offer"', 'popup "late": unknown experiment "exit-ofer"'),
    ('experiment = "exit-offer", variant = "ofer"',
     'popup "late": experiment "exit-offer" has no variant "ofer"'),
    ('experiment = "exit-offer"', "popup \"late\": 'experiment' and 'variant' go together"),
])
def test_nginx_t_names_the_popups_line_and_the_reason(nginx, redis, keys, declaration, reason):
    pack = PACK + ('t.popup "late" { trigger = t.idle(5), intent = "browse", html = "x",\n'
                   '  %s }\n' % declaration)
    line = pack.count("\n", 0, pack.index('t.popup "late"')) + 1
    nginx.write_file("rules.lua", pack.encode())
    nginx.write_file("html/index.html", b"<html><body>x</body></html>\n")
    nginx.write(shop_http(redis, keys, "rate=30r/m",
                          "tailor_rules %s;" % nginx.path("rules.lua")))
    rc, out = nginx.test_config()
    assert rc != 0, out
    assert "rules.lua:%d: %s" % (line, reason) in out, out
