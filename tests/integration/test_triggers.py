# The reference trigger evaluator (`tailorctl triggers run`) against a real
# redis-server, with the clock injected (--now-ms) so days pass in a call.
# Events are appended in exactly the module's encoding by `tailorctl events
# emit` (core's encode_event and XADD argv), never by a hand-made blob.

import json
import os
import subprocess

import pytest

from env import IO_TIMEOUT, TAILORCTL
from tailorctl import encode_profile

T0 = 1750000000000  # ms
MIN = 60 * 1000
HOUR = 60 * MIN
DAY = 24 * HOUR

pytestmark = pytest.mark.skipif(not TAILORCTL or not os.access(TAILORCTL, os.X_OK),
                                reason="needs tailorctl")


def ctl(*args, env=None, check=True):
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run([TAILORCTL] + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=IO_TIMEOUT, env=full_env)
    if check and p.returncode != 0:
        raise AssertionError("tailorctl %s: rc %d: %s" % (args[:2], p.returncode,
                                                          p.stderr.decode(errors="replace")))
    return p


def emit(redis, type_, vid, ts, prev=None, device=None, **props):
    args = ["events", "emit", "--redis", redis.address, "--type", type_, "--vid", vid,
            "--ts", ts]
    if prev:
        args += ["--prev", prev]
    if device:
        args += ["--device", device]
    for k, v in props.items():
        args += ["--prop", "%s=%s" % (k, v)]
    return ctl(*args).stdout.decode().strip()


def run(redis, now, config=None, env=None, check=True, consumer=None):
    args = ["triggers", "run", "--redis", redis.address, "--once", "--now-ms", now]
    if config:
        args += ["--config", config]
    if consumer:
        args += ["--consumer", consumer]
    p = ctl(*args, env=env, check=check)
    if not check:
        return p
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def records(redis):
    out = []
    for _, kv in redis.command("XRANGE", "tailor:triggers", "-", "+") or []:
        kv = [text(x) for x in kv]
        r = dict(zip(kv[0::2], kv[1::2]))
        r["products"] = json.loads(r["products"])
        r["properties"] = json.loads(r["properties"])
        out.append(r)
    return out


def config_file(workdir, text_):
    path = os.path.join(workdir, "triggers.conf")
    with open(path, "w") as f:
        f.write(text_)
    return path


def put_profile(redis, vid, profile):
    redis.set("tailor:{%s}:profile" % vid, encode_profile(profile))


def test_cart_abandonment_fires_once_after_the_delay(redis):
    emit(redis, "Product Added", "cart-a", T0, product_id="SKU-1", price="19.99")
    emit(redis, "Product Added", "cart-a", T0 + MIN, product_id="SKU-2", price="5")
    assert run(redis, T0 + MIN + 59 * MIN)["fired"] == {}
    assert records(redis) == []
    assert run(redis, T0 + MIN + HOUR)["fired"] == {"cart_abandonment": 1}
    assert run(redis, T0 + 3 * HOUR)["fired"] == {}
    [r] = records(redis)
    assert r["trigger"] == "cart_abandonment" and r["vid"] == "cart-a"
    assert r["metric"] == "Tailor Abandoned Cart"
    assert r["products"] == ["SKU-2", "SKU-1"]
    assert r["properties"]["ProductID"] == "SKU-2"
    assert r["properties"]["trigger_id"] == r["id"]
    assert r["customer_id"] == ""
    assert int(r["anchor_ms"]) == T0 + MIN and int(r["ts"]) == T0 + MIN + HOUR


def test_cart_delay_is_configurable_and_an_own_order_clears_the_cart(redis, workdir):
    conf = config_file(workdir, "cart_delay = 30m\n")
    emit(redis, "Product Added", "cart-b", T0, product_id="SKU-1")
    emit(redis, "Product Added", "cart-c", T0, product_id="SKU-1")
    emit(redis, "Order Completed", "cart-c", T0 + 5 * MIN, revenue="19.99")
    assert run(redis, T0 + 30 * MIN, config=conf)["fired"] == {"cart_abandonment": 1}
    assert [r["vid"] for r in records(redis)] == ["cart-b"]


def test_browse_abandonment_fires_once_after_two_hours(redis):
    emit(redis, "Product Viewed", "browse-a", T0, product_id="SKU-7")
    assert run(redis, T0 + 2 * HOUR - 1)["fired"] == {}
    assert run(redis, T0 + 2 * HOUR)["fired"] == {"browse_abandonment": 1}
    assert run(redis, T0 + 5 * HOUR)["fired"] == {}
    [r] = records(redis)
    assert r["trigger"] == "browse_abandonment" and r["products"] == ["SKU-7"]
    assert r["metric"] == "Tailor Abandoned Browse"


def test_price_drop_fires_once_against_the_catalog_price(redis, workdir):
    conf = config_file(workdir, "browse_abandonment = off\n")
    emit(redis, "Product Viewed", "price-a", T0, product_id="SKU-2", price="20.00")
    redis.command("HSET", "tailor:catalog:prices", "SKU-2", "19.50")  # 2.5 %: not a drop
    assert run(redis, T0 + HOUR, config=conf)["fired"] == {}
    redis.command("HSET", "tailor:catalog:prices", "SKU-2", "17.99")
    assert run(redis, T0 + HOUR + 30 * MIN, config=conf)["fired"] == {}, "checked hourly"
    assert run(redis, T0 + 2 * HOUR, config=conf)["fired"] == {"price_drop": 1}
    assert run(redis, T0 + 3 * HOUR, config=conf)["fired"] == {}, "same price: once"
    [r] = records(redis)
    assert r["trigger"] == "price_drop" and r["products"] == ["SKU-2"]
    assert r["properties"]["viewed_price"] == 20.0 and r["properties"]["price"] == 17.99


def test_replenishment_fires_when_the_profile_says_it_is_due(redis):
    at = T0 // 1000
    put_profile(redis, "repl-a", {"purchases": [{"sku": "COFFEE", "at": at, "cycle_days": 30}],
                                  "last_order_at": at})
    emit(redis, "Order Completed", "repl-a", T0, revenue="12")
    assert run(redis, T0 + HOUR)["fired"] == {}
    assert run(redis, T0 + 30 * DAY - 1)["fired"] == {}
    assert run(redis, T0 + 30 * DAY)["fired"] == {"replenishment_due": 1}
    assert run(redis, T0 + 31 * DAY)["fired"] == {}
    [r] = records(redis)
    assert r["trigger"] == "replenishment_due" and r["products"] == ["COFFEE"]
    assert r["properties"]["due_at_ms"] == T0 + 30 * DAY


def test_win_back_fires_ninety_days_after_the_last_order(redis):
    emit(redis, "Order Completed", "wb-a", T0, revenue="40")
    assert run(redis, T0 + 90 * DAY - 1)["fired"] == {}
    assert run(redis, T0 + 90 * DAY)["fired"] == {"win_back": 1}
    assert run(redis, T0 + 120 * DAY)["fired"] == {}
    [r] = records(redis)
    assert r["trigger"] == "win_back" and r["properties"]["days_since_order"] == 90


def link_two_devices(redis, known, dev1, dev2, ts):
    emit(redis, "Identify", known, ts, prev=dev1)
    emit(redis, "Identify", known, ts, prev=dev2)


def test_an_order_on_another_linked_device_suppresses_the_cart_abandonment(redis):
    emit(redis, "Product Added", "dev1", T0, product_id="SKU-1")
    link_two_devices(redis, "cust-1", "dev1", "dev2", T0 + MIN)
    emit(redis, "Order Completed", "dev2", T0 + 10 * MIN, revenue="19.99")
    out = run(redis, T0 + HOUR)
    assert out["fired"] == {} and out["suppressed"] == {"ordered": 1}
    assert records(redis) == []


def test_an_order_after_the_trigger_was_scheduled_still_suppresses_it(redis):
    emit(redis, "Product Added", "dev3", T0, product_id="SKU-1")
    link_two_devices(redis, "cust-2", "dev3", "dev4", T0 + MIN)
    assert run(redis, T0 + 30 * MIN)["fired"] == {}  # scheduled for T0 + 1 h
    emit(redis, "Order Completed", "dev4", T0 + 40 * MIN, revenue="19.99")
    out = run(redis, T0 + HOUR)
    assert out["fired"] == {} and out["suppressed"] == {"ordered": 1}
    assert records(redis) == []


def test_a_linked_cart_carries_the_known_customer_id(redis):
    emit(redis, "Product Added", "dev5", T0, product_id="SKU-1")
    emit(redis, "Identify", "cust-3", T0 + MIN, prev="dev5")
    assert run(redis, T0 + HOUR)["fired"] == {"cart_abandonment": 1}
    [r] = records(redis)
    assert r["vid"] == "dev5" and r["customer_id"] == "cust-3"


def test_frequency_caps_hold_across_triggers_and_linked_ids(redis):
    emit(redis, "Product Added", "capd1", T0, product_id="SKU-1")
    emit(redis, "Identify", "cust-4", T0, prev="capd1")
    emit(redis, "Product Viewed", "cust-4", T0 + 10 * MIN, product_id="SKU-9")
    assert run(redis, T0 + HOUR)["fired"] == {"cart_abandonment": 1}
    out = run(redis, T0 + 2 * HOUR + 10 * MIN)
    assert out["fired"] == {} and out["suppressed"] == {"capped": 1}
    # a day later the cap has room again
    emit(redis, "Product Added", "capd1", T0 + DAY, product_id="SKU-3")
    assert run(redis, T0 + DAY + HOUR)["fired"] == {"cart_abandonment": 1}
    assert [r["trigger"] for r in records(redis)] == ["cart_abandonment"] * 2


def test_the_weekly_cap_is_configurable(redis, workdir):
    conf = config_file(workdir, "cap_per_day = 5\ncap_per_week = 2\n")
    for day in range(3):
        emit(redis, "Product Added", "capw", T0 + day * DAY, product_id="SKU-%d" % day)
        run(redis, T0 + day * DAY + HOUR, config=conf)
    assert len(records(redis)) == 2


@pytest.mark.parametrize("profile,reason", [
    ({"flags": {"open_complaint": True}}, "excluded"),
    ({"flags": {"open_return": True}}, "excluded"),
    ({"flags": {"unsubscribed": True}}, "excluded"),
    ({"consent": {"email": False}}, "no_consent"),
])
def test_profile_flags_and_a_denied_consent_exclude_at_fire_time(redis, profile, reason):
    emit(redis, "Product Added", "excl", T0, product_id="SKU-1")
    assert run(redis, T0 + MIN)["fired"] == {}
    put_profile(redis, "excl", profile)  # written after scheduling: read at fire time
    out = run(redis, T0 + HOUR)
    assert out["fired"] == {} and out["suppressed"] == {reason: 1}


def test_required_consent_needs_a_grant(redis, workdir):
    conf = config_file(workdir, "require_email_consent = true\n")
    emit(redis, "Product Added", "cons-a", T0, product_id="SKU-1")
    emit(redis, "Product Added", "cons-b", T0, product_id="SKU-1")
    put_profile(redis, "cons-b", {"consent": {"email": True}})
    out = run(redis, T0 + HOUR, config=conf)
    assert out["fired"] == {"cart_abandonment": 1} and out["suppressed"] == {"no_consent": 1}
    assert [r["vid"] for r in records(redis)] == ["cons-b"]


def test_nothing_fires_for_bots(redis):
    emit(redis, "Product Added", "bot-a", T0, device="bot", product_id="SKU-1")
    emit(redis, "Product Viewed", "bot-b", T0, product_id="SKU-1")
    emit(redis, "Page Viewed", "bot-b", T0 + MIN, device="bot")
    run(redis, T0 + 100 * DAY)
    assert records(redis) == []


def test_a_restart_mid_stream_loses_and_duplicates_nothing(redis):
    vids = ["rs-%02d" % i for i in range(20)]
    for i, vid in enumerate(vids):
        emit(redis, "Product Added", vid, T0 + i, product_id="SKU-%d" % i)
    # the evaluator dies after writing the 7th event's state, before the
    # batch's XACK
    p = run(redis, T0 + MIN, env={"TAILOR_TRIGGERS_EXIT_BEFORE_ACK": "7"}, check=False)
    assert p.returncode == 3
    pending = redis.command("XPENDING", "tailor:events", "tailor-triggers")
    assert pending[0] == 20, "the batch is delivered, not acknowledged"
    out = run(redis, T0 + MIN)  # restart: the pending entries, 7 of them already applied
    assert out["events"] == 20 and out["duplicates"] == 7
    assert redis.command("XPENDING", "tailor:events", "tailor-triggers")[0] == 0
    assert run(redis, T0 + 2 * HOUR)["fired"] == {"cart_abandonment": 20}
    recs = records(redis)
    assert sorted(r["vid"] for r in recs) == vids
    assert len({r["id"] for r in recs}) == 20


def test_one_batch_of_interleaved_visitors_applies_each_visitors_events_in_order(redis):
    """A batch applies the k-th event of every visitor in one wave (two round trips);
    each visitor's events must still act in stream order, an Identify between them
    included, and a replayed part of the batch must count as duplicates."""
    vids = ["wv-%d" % i for i in range(6)]
    for step in range(3):  # added, removed by an order or not, added again
        for i, vid in enumerate(vids):
            ts = T0 + step * MIN + i
            if step == 1 and i % 2 == 0:
                emit(redis, "Order Completed", vid, ts, revenue="9.50")
            elif step == 1:
                emit(redis, "Product Viewed", vid, ts, product_id="SKU-V")
            elif step == 2 and i % 3 == 0:
                pass  # this one's cart ends with the order (even) or the first add (odd)
            else:
                emit(redis, "Product Added", vid, ts, product_id="SKU-%d-%d" % (i, step))
        if step == 0:
            emit(redis, "Identify", "wv-cust", T0 + 30 * 1000, prev="wv-1")
    # wv-0 ordered and added nothing after; wv-3 never ordered: its first add stands
    out = run(redis, T0 + 2 * MIN, env={"TAILOR_TRIGGERS_EXIT_BEFORE_ACK": "9"}, check=False)
    # at least 9 states written (a wave's writes go out together), the batch not acknowledged
    assert out.returncode == 3
    out = run(redis, T0 + 2 * MIN)
    assert out["events"] == 17 and 9 <= out["duplicates"] < 17
    out = run(redis, T0 + 4 * HOUR)
    assert out["fired"] == {"cart_abandonment": 5}
    recs = {r["vid"]: r for r in records(redis)}
    assert sorted(recs) == ["wv-1", "wv-2", "wv-3", "wv-4", "wv-5"]
    assert recs["wv-1"]["customer_id"] == "wv-cust"
    # a cart holds what the visitor's own events left in it, newest first: an order
    # between two adds empties it only if it came between them
    assert recs["wv-2"]["products"] == ["SKU-2-2"]
    assert recs["wv-3"]["products"] == ["SKU-3-0"]
    assert recs["wv-5"]["products"] == ["SKU-5-2", "SKU-5-0"]


def test_an_erased_visitor_gets_no_state_and_no_trigger(redis):
    redis.set("tailor:{gone}:erased", "1")
    emit(redis, "Product Added", "gone", T0, product_id="SKU-1")
    out = run(redis, T0 + HOUR)
    assert out["erased"] == 1 and out["fired"] == {}
    assert redis.command("EXISTS", "tailor:{gone}:trig") == 0


def test_a_bad_config_line_is_refused_with_its_line(redis, workdir):
    conf = config_file(workdir, "cart_delay = 1h\ncart_dealy = 2h\n")
    p = run(redis, T0, config=conf, check=False)
    assert p.returncode == 1 and b"line 2" in p.stderr and b"cart_dealy" in p.stderr


class _Seed:
    """What emit() and run() need of a Redis: an address (here a cluster seed)."""

    def __init__(self, address):
        self.address = address


def test_on_a_redis_cluster_each_key_goes_to_its_node(workdir):
    from redis_cluster import RedisCluster
    c = RedisCluster(os.path.join(workdir, "cluster"), primaries=3, replicas=0)
    try:
        c.start()
        c.wait_ok()
        seed = _Seed(c.nodes[0].address)
        emit(seed, "Product Added", "cl-1", T0, product_id="SKU-1")
        emit(seed, "Identify", "cl-cust", T0 + MIN, prev="cl-1")
        emit(seed, "Product Added", "cl-2", T0, product_id="SKU-2")
        emit(seed, "Identify", "cl-cust2", T0 + MIN, prev="cl-2")
        emit(seed, "Identify", "cl-cust2", T0 + MIN, prev="cl-3")
        emit(seed, "Order Completed", "cl-3", T0 + 2 * MIN, revenue="5")
        out = run(seed, T0 + HOUR)
        assert out["fired"] == {"cart_abandonment": 1} and out["suppressed"] == {"ordered": 1}
        entries = c.command_for_key("tailor:triggers", "XRANGE", "tailor:triggers", "-", "+")
        assert len(entries) == 1
        kv = [text(x) for x in entries[0][1]]
        r = dict(zip(kv[0::2], kv[1::2]))
        assert r["vid"] == "cl-1" and r["customer_id"] == "cl-cust"
    finally:
        c.stop()


def test_win_back_counts_from_the_profiles_last_order(redis):
    # the stream saw a page view only; the shop's profile knows the order
    put_profile(redis, "wb-p", {"last_order_at": T0 // 1000})
    emit(redis, "Product Viewed", "wb-p", T0 + MIN, product_id="SKU-1")
    assert run(redis, T0 + MIN + 2 * HOUR)["fired"] == {"browse_abandonment": 1}
    assert run(redis, T0 + 90 * DAY)["fired"] == {"win_back": 1}


def test_events_the_module_records_drive_the_evaluator(nginx, redis, keys, sign):
    from env import module_has
    if not module_has("tailor_events"):
        pytest.skip("module built without tailor_events")
    from scenario import cookie_header
    from test_events import start, wait_events
    from visitor import new_vid
    a, b = new_vid(), new_vid()
    start(nginx, redis, keys)
    ca = cookie_header("tailor_vid", sign(a))
    cb = cookie_header("tailor_vid", sign(b))
    assert nginx.get("/product.html?sku=S1&price=10", headers=ca).status == 200
    assert nginx.get("/cart/add?sku=S1&qty=1&price=10", headers=ca).status == 200
    assert nginx.get("/cart/add?sku=S2&qty=1&price=5", headers=cb).status == 200
    assert nginx.get("/order/done.html?order=B-1&total=5", headers=cb).status == 200
    last_ts = max(e[2]["ts"] for e in wait_events(redis, 4))
    out = run(redis, last_ts + 3 * HOUR)
    # a: the cart fires, the earlier view yields to it; b: ordered, nothing to send
    assert out["fired"] == {"cart_abandonment": 1}
    assert out["suppressed"] == {"in_cart": 1}
    [r] = records(redis)
    assert r["vid"] == a and r["products"] == ["S1"]


def test_without_once_it_follows_the_stream_until_stopped(redis):
    from env import wait_for
    env = dict(os.environ, TAILOR_NOW_MS=str(T0 + 2 * HOUR))
    p = subprocess.Popen([TAILORCTL, "triggers", "run", "--redis", redis.address],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        wait_for(lambda: redis.command("EXISTS", "tailor:events") == 1, IO_TIMEOUT,
                 "the consumer group's stream")
        emit(redis, "Product Added", "live-1", T0, product_id="SKU-1")
        wait_for(lambda: records(redis), IO_TIMEOUT, "a record from the running evaluator")
        assert p.poll() is None, "still running"
        [r] = records(redis)
        assert r["vid"] == "live-1" and r["trigger"] == "cart_abandonment"
    finally:
        p.terminate()
        p.wait(timeout=IO_TIMEOUT)
