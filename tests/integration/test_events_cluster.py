# Events in a Redis Cluster, end to end: a real cluster (3 primaries, 3 replicas, behind AUTH
# with an ACL user), nginx with `tailor_redis ... cluster=on` and `tailor_events on`. The stream
# is sharded (`<stream>:{0}` .. `{N-1}`, the count at `<stream>:shards`); each batch goes as
# live updates per visitor slot, then appends per shard. Page views of visitors on every node
# arrive exactly once, each in its visitor's shard; a primary killed under load loses nothing
# (batches wait and go again after the promotion; replays are skipped per shard), nor does a
# primary paused past the stall watchdog (batches it ran after being given up are skipped when
# replayed), nor does a shard's slot migrated under load; each append waits for the shard's
# replica; the beacon's event lands in its shard;
# the shard count is stored before any append; tailorctl tails and runs triggers over every
# shard. Waits poll with deadlines.

import json
import os
import signal
import time

import pytest

from env import IO_TIMEOUT, STARTUP_TIMEOUT, wait_for
from msgpack_codec import msgpack_unpack
from redis_cluster_fixtures import cluster, healthy  # noqa: F401 (fixtures)
from redis_cluster_fixtures import (TAILOR_PASSWORD, TAILOR_USER, ClusterRedis, Load,
                                    beacon_from_each, move_slot_away, popup_shop, tailorctl,
                                    vids_on_every_primary)
from visitor import new_vid
import scenario
from scenario import cookie_header
import test_events as ev

SHARDS = 4


def visitors(cluster, per_primary):
    """Fresh visitors on every primary and in every shard."""
    vids = [v for vs in vids_on_every_primary(cluster, per_primary).values() for v in vs]
    while {shard_of(cluster, v) for v in vids} != set(range(SHARDS)):
        vids.append(new_vid())
    return vids


def shard_key(i):
    return "%s:{%d}" % (ev.STREAM, i)


def shard_of(cluster, vid):
    return cluster.keyslot(vid) % SHARDS


def shard_entries(cluster, i):
    """[(entry id, vid, event)] of shard i, oldest first."""
    key = shard_key(i)
    out = []
    for entry_id, kv in cluster.command_for_key(key, "XRANGE", key, "-", "+"):
        fields = {kv[j].decode(): kv[j + 1] for j in range(0, len(kv), 2)}
        out.append((entry_id.decode(), fields["vid"].decode(), msgpack_unpack(fields["e"])))
    return out


def all_entries(cluster):
    """{shard: entries} over every shard."""
    return {i: shard_entries(cluster, i) for i in range(SHARDS)}


def count(cluster):
    return sum(len(e) for e in all_entries(cluster).values())


def start(nginx, cluster, keys, workers_extra=""):
    redis = ClusterRedis(cluster)
    ev.start(nginx, redis, keys, extra="tailor_events_stream_shards %d;" % SHARDS)
    return redis


def product(nginx, cookie, n):
    r = nginx.get("/product.html?sku=S%d&price=%d.50&n=%d" % (n % 13, n % 90, n),
                  headers=cookie)
    assert r.status == 200, r


def check_exactly_once(cluster, sent):
    """Every (n, vid) sent is in the stream once, in the shard of its visitor."""
    ns = []
    for shard, entries in all_entries(cluster).items():
        for _, vid, e in entries:
            assert shard_of(cluster, vid) == shard, "visitor %s in shard %d" % (vid, shard)
            ns.append((e["props"]["n"], vid))
    assert sorted(ns) == sorted(sent), "each request's event exactly once"
    return ns


def first_event(nginx, cluster, sign, vids):
    """Before a failure under load: errors and warnings about it are expected; the first
    visitor's event has arrived (the workers have the slot map). Returns {vid: cookie}."""
    nginx.allow_log(r"\[(error|warn)\].*tailor (events|redis)")
    cookies = {v: cookie_header("tailor_vid", sign(v)) for v in vids}
    product(nginx, cookies[vids[0]], 0)
    wait_for(lambda: count(cluster) >= 1, STARTUP_TIMEOUT, "the first event")
    return cookies


def view_each(nginx, cluster, sign, vids):
    """Visitor n of `vids` views product n; returns once every event is in a shard."""
    for n, vid in enumerate(vids):
        product(nginx, cookie_header("tailor_vid", sign(vid)), n)
    wait_for(lambda: count(cluster) >= len(vids), STARTUP_TIMEOUT, "every event in a shard")


def product_of(nginx, vids, cookies, n):
    """Visitor n (round robin over `vids`) views product n; returns (n, vid)."""
    vid = vids[n % len(vids)]
    product(nginx, cookies[vid], n)
    return n, vid


def check_delivered_once(nginx, cluster, sent):
    """After a load through a failure: every event of `sent` is in the shards once, the
    queues and spools are empty, nothing was dropped, each event was flushed or skipped as
    a replay. Returns the events metrics."""
    wait_for(lambda: count(cluster) >= len(sent), 60, "%d events in the shards" % len(sent))
    wait_for(lambda: ev.counter(ev.events_metrics(nginx), "tailor_events_spool_pending") == 0
             and ev.counter(ev.events_metrics(nginx), "tailor_events_queued") == 0,
             30, "queues and spools drained")
    check_exactly_once(cluster, sent)
    m = ev.events_metrics(nginx)
    print("\n%d requests; events: %s" % (len(sent), {
        k[0][len("tailor_events_"):]: v for k, v in m.items()
        if k[0].startswith("tailor_events_")}))
    assert ev.counter(m, "tailor_events_dropped_total") == 0
    assert (ev.counter(m, "tailor_events_flushed_total")
            + ev.counter(m, "tailor_events_duplicates_total")) == len(sent)
    return m


def test_page_views_of_visitors_on_every_node_arrive_once_in_their_shard(nginx, healthy, keys,
                                                                        sign):
    vids = visitors(healthy, per_primary=3)
    start(nginx, healthy, keys)
    cookies = {v: cookie_header("tailor_vid", sign(v)) for v in vids}
    sent = []
    for n in range(60):
        vid = vids[n % len(vids)]
        product(nginx, cookies[vid], n)
        sent.append((n, vid))
    wait_for(lambda: count(healthy) >= len(sent), STARTUP_TIMEOUT, "every event in a shard")
    check_exactly_once(healthy, sent)
    assert {shard_of(healthy, v) for v in vids} == set(range(SHARDS)), "every shard used"
    assert healthy.get("%s:shards" % ev.STREAM) == str(SHARDS).encode()
    assert healthy.command_for_key(ev.STREAM, "EXISTS", ev.STREAM) == 0, "no unsharded key"
    # each visitor's live map, on its own node, has what it viewed
    for vid in vids:
        live = msgpack_unpack(healthy.get("tailor:{%s}:live" % vid))
        want = {"S%d" % (n % 13) for n, v in sent if v == vid}
        assert {x["sku"] for x in live["viewed"]} == want, vid
    m = ev.events_metrics(nginx)
    assert ev.counter(m, "tailor_events_flushed_total") == len(sent)
    assert ev.counter(m, "tailor_events_dropped_total") == 0
    assert ev.counter(m, "tailor_events_failed_batches_total") == 0


def test_the_default_in_a_cluster_is_eight_shards(nginx, healthy, keys, sign):
    vid = new_vid()
    redis = ClusterRedis(healthy)
    ev.start(nginx, redis, keys)
    product(nginx, cookie_header("tailor_vid", sign(vid)), 1)
    key = "%s:{%d}" % (ev.STREAM, healthy.keyslot(vid) % 8)
    wait_for(lambda: healthy.command_for_key(key, "XLEN", key) == 1, STARTUP_TIMEOUT,
             "the event in shard %s" % key)
    assert healthy.get("%s:shards" % ev.STREAM) == b"8"


def test_a_primary_killed_under_load_loses_no_event(nginx_factory, healthy, keys, sign):
    nginx = nginx_factory(worker_processes=2)
    vids = visitors(healthy, per_primary=3)
    start(nginx, healthy, keys)
    cookies = first_event(nginx, healthy, sign, vids)
    with Load(lambda n: product_of(nginx, vids, cookies, n), threads=6, first=1) as load:
        load.wait(200, IO_TIMEOUT * 2, "load running")
        victim = healthy.primary_for_key(shard_key(0))
        healthy.kill_primary(victim)
        load.wait(200, IO_TIMEOUT * 4, "load after the promotion")
    assert not load.errors, load.errors[:3]
    sent = [(0, vids[0])] + load.done

    m = check_delivered_once(nginx, healthy, sent)
    assert ev.counter(m, "tailor_events_emitted_total") == len(sent)
    # per producer and shard, the order of delivery
    for entries in all_entries(healthy).values():
        by_src = {}
        for _, _, e in entries:
            by_src.setdefault(e["src"], []).append(e["seq"])
        for src, seqs in by_src.items():
            assert seqs == sorted(seqs), src


def test_the_beacons_event_lands_in_its_visitors_shard(nginx, healthy, keys, sign):
    _, vids = popup_shop(nginx, healthy, keys, events=True,
                         http_extra="tailor_events_stream_shards %d;" % SHARDS)
    for vid in beacon_from_each(nginx, keys, sign, vids, "e=impression&p=cart-rescue"):
        def viewed():
            return [e for _, v, e in shard_entries(healthy, shard_of(healthy, vid))
                    if v == vid and e["type"] == "Promotion Viewed"
                    and e["props"].get("promotion_id") == "cart-rescue"]
        wait_for(viewed, STARTUP_TIMEOUT, "the beacon's event in the shard of %s" % vid)


def redis_args(cluster):
    return ["--redis", cluster.seeds[0], "--redis-user", TAILOR_USER,
            "--redis-password", TAILOR_PASSWORD]


def test_tailorctl_events_tail_reads_every_shard(nginx, healthy, keys, sign):
    vids = visitors(healthy, per_primary=2)
    start(nginx, healthy, keys)
    view_each(nginx, healthy, sign, vids)
    p = tailorctl("events", "tail", "--from", "0", "--count", str(len(vids)), *redis_args(healthy))
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    assert sorted(e["vid"] for e in lines) == sorted(vids)


def test_the_shard_count_is_there_before_any_append(nginx, healthy, keys, sign):
    # Consumers find the shards through <stream>:shards. Seeded with one node that does not
    # hold that key, a worker's first SET of it, sent before its slot map is loaded, meets a
    # MOVED to a node it has not connected to yet: the SET goes again with the next batch, and
    # no shard gets an append before the count is stored.
    shards_key = ev.STREAM + ":shards"
    owner = healthy.primary_for_key(shards_key)
    seed = [n for n in healthy.primaries() if n is not owner][0]
    redis = ClusterRedis(healthy)
    redis.address = redis.address.replace(" ".join(healthy.seeds[:3]), seed.address)
    ev.start(nginx, redis, keys, extra="tailor_events_stream_shards %d;" % SHARDS)
    vid = new_vid()
    product(nginx, cookie_header("tailor_vid", sign(vid)), 1)
    wait_for(lambda: count(healthy) >= 1, STARTUP_TIMEOUT, "the page view in its shard")
    assert healthy.command_for_key(shards_key, "GET", shards_key) == str(SHARDS).encode()


def test_tailorctl_triggers_run_reads_every_shard_with_a_consumer_group(nginx, healthy, keys,
                                                                       sign):
    # two visitors in different shards: a leaves a cart, b orders
    a = new_vid()
    b = new_vid()
    while shard_of(healthy, b) == shard_of(healthy, a):
        b = new_vid()
    start(nginx, healthy, keys)
    ca = cookie_header("tailor_vid", sign(a))
    cb = cookie_header("tailor_vid", sign(b))
    assert nginx.get("/product.html?sku=S1&price=10&n=1", headers=ca).status == 200
    assert nginx.get("/cart/add?sku=S1&qty=1&price=10", headers=ca).status == 200
    assert nginx.get("/cart/add?sku=S2&qty=1&price=5", headers=cb).status == 200
    assert nginx.get("/order/done.html?order=B-1&total=5", headers=cb).status == 200
    wait_for(lambda: count(healthy) >= 4, STARTUP_TIMEOUT, "four events in the shards")
    last_ts = max(e["ts"] for entries in all_entries(healthy).values() for _, _, e in entries)

    def run():
        p = tailorctl("triggers", "run", "--once", "--now-ms", str(last_ts + 3 * 3600 * 1000),
                      *redis_args(healthy))
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout.decode().strip().splitlines()[-1])

    out = run()
    assert out["events"] == 4
    assert out["fired"] == {"cart_abandonment": 1}
    assert out["suppressed"] == {"in_cart": 1}
    records = healthy.command_for_key("tailor:triggers", "XRANGE", "tailor:triggers", "-", "+")
    assert len(records) == 1
    kv = [x.decode() for x in records[0][1]]
    assert dict(zip(kv[0::2], kv[1::2]))["vid"] == a
    # the group is on every shard, everything acknowledged: a second run reads nothing
    for i in range(SHARDS):
        groups = healthy.command_for_key(shard_key(i), "XINFO", "GROUPS", shard_key(i))
        info = {groups[0][j].decode(): groups[0][j + 1] for j in range(0, len(groups[0]), 2)}
        assert info["name"] == b"tailor-triggers" and info["pending"] == 0, (i, info)
    out = run()
    assert out["events"] == 0 and out["fired"] == {}


def wait_calls(cluster):
    """WAIT commands the primaries ran (INFO commandstats)."""
    total = 0
    for node in cluster.primaries():
        for line in node.command("INFO", "commandstats").decode().splitlines():
            if line.startswith("cmdstat_wait:"):
                total += int(line.split("calls=")[1].split(",")[0])
    return total


def test_each_shards_append_waits_for_its_replica(nginx, healthy, keys, sign):
    for node in healthy.primaries():
        node.command("CONFIG", "RESETSTAT")
    vids = visitors(healthy, per_primary=1)
    start(nginx, healthy, keys)
    view_each(nginx, healthy, sign, vids)
    assert wait_calls(healthy) >= 1, "a WAIT after the appends"
    # what a primary confirmed, its replica has
    for i in range(SHARDS):
        slot = healthy.keyslot(shard_key(i))
        n = len(shard_entries(healthy, i))
        for replica in healthy.replicas_for_slot(slot):
            c = replica.client()
            try:
                c.command("READONLY")
                assert c.command("XLEN", shard_key(i)) == n, "replica of shard %d" % i
            finally:
                c.close()


def test_a_shard_whose_replica_is_gone_still_takes_events(nginx, healthy, keys, sign):
    nginx.allow_log(r"\[warn\].*no replica confirmed")
    start(nginx, healthy, keys)
    in_zero = []
    while len(in_zero) < 3:
        v = new_vid()
        if shard_of(healthy, v) == 0:
            in_zero.append(v)
    # a first event: the slot map is loaded
    product(nginx, cookie_header("tailor_vid", sign(in_zero[0])), 0)
    wait_for(lambda: count(healthy) >= 1, STARTUP_TIMEOUT, "the first event")
    for replica in healthy.replicas_for_slot(healthy.keyslot(shard_key(0))):
        replica.kill()
    sent = [(0, in_zero[0])]
    for n in range(1, 30):
        vid = in_zero[n % len(in_zero)]
        product(nginx, cookie_header("tailor_vid", sign(vid)), n)
        sent.append((n, vid))
    wait_for(lambda: count(healthy) >= len(sent), STARTUP_TIMEOUT, "every event in shard 0")
    check_exactly_once(healthy, sent)
    assert ev.counter(ev.events_metrics(nginx), "tailor_events_dropped_total") == 0


@pytest.mark.parametrize("value,ok", [("off", True), ("20ms", True), ("0", False),
                                      ("11s", False), ("soon", False)])
def test_nginx_t_checks_the_replica_wait(nginx, keys, value, ok):
    nginx.write(scenario.tailor_http(redis="127.0.0.1:7000 cluster=on", keys=keys.path,
                                     http_extra="tailor_events_replica_wait %s;" % value,
                                     location_extra="tailor_events on;"))
    rc, out = nginx.test_config()
    if ok:
        assert rc == 0, out
    else:
        assert rc != 0 and "[emerg]" in out and "invalid value" in out, out
        assert "%s:%d" % (nginx.conf_path, nginx.line_of("tailor_events_replica_wait")) in out


def test_batches_given_up_on_a_paused_primary_are_skipped_when_replayed(nginx_factory, healthy,
                                                                       keys, sign):
    """The "pause" case, per shard: a primary stops (SIGSTOP) past the stall watchdog but not
    long enough for a failover; batches in flight are given up and spooled although it runs
    them when it wakes; their replays must be skipped in every shard."""
    nginx = nginx_factory(worker_processes=2)
    redis = ClusterRedis(healthy, "stall_timeout=200ms")
    ev.start(nginx, redis, keys, extra="tailor_events_stream_shards %d;" % SHARDS)
    vids = visitors(healthy, per_primary=3)
    cookies = first_event(nginx, healthy, sign, vids)
    with Load(lambda n: product_of(nginx, vids, cookies, n), threads=6, first=1) as load:
        load.wait(200, IO_TIMEOUT * 2, "load running")
        victim = healthy.primary_for_key(shard_key(0))
        os.kill(victim.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(0.6)  # past the 200 ms watchdog, short of the 1 s node timeout
        finally:
            os.kill(victim.proc.pid, signal.SIGCONT)
        load.wait(200, IO_TIMEOUT * 2, "load after the pause")
    assert not load.errors, load.errors[:3]
    check_delivered_once(nginx, healthy, [(0, vids[0])] + load.done)


def test_tailorctl_emits_into_the_visitors_shard_and_reports_experiments_over_all(healthy):
    T0 = 1718000000000
    healthy.set("%s:shards" % ev.STREAM, str(SHARDS))  # as the module publishes it
    vids = visitors(healthy, per_primary=2)
    for k, vid in enumerate(vids):
        variant = "a" if k % 2 == 0 else "b"
        p = tailorctl("events", "emit", "--type", "Page Viewed", "--vid", vid, "--ts", str(T0),
                      "--exp", "hero:hero-copy:%s" % variant, *redis_args(healthy))
        assert p.returncode == 0, p.stderr
        if k % 3 == 0:
            p = tailorctl("events", "emit", "--type", "Order Completed", "--vid", vid,
                          "--ts", str(T0 + 1000), "--prop", "revenue=10", *redis_args(healthy))
            assert p.returncode == 0, p.stderr
    for vid in vids:
        assert any(v == vid for _, v, _ in shard_entries(healthy, shard_of(healthy, vid))), vid
    p = tailorctl("experiments", "report", "--format", "json", *redis_args(healthy))
    assert p.returncode == 0, p.stderr
    rows = {r["variant"]: r for r in map(json.loads, p.stdout.decode().splitlines())}
    for variant, parity in (("a", 0), ("b", 1)):
        ks = [k for k in range(len(vids)) if k % 2 == parity]
        assert rows[variant]["exposed"] == len(ks), rows
        assert rows[variant]["converted"] == len([k for k in ks if k % 3 == 0]), rows


def test_a_shard_migrated_to_another_node_under_load_keeps_every_event_once(nginx, healthy, keys,
                                                                            sign):
    """Resharding: the slot of shard 0 (its stream and watermarks) and of a visitor move to
    another primary while events flow; parts follow MOVED/ASK or fail and go again."""
    nginx.allow_log(r"\[(error|warn)\].*tailor (events|redis)")
    start(nginx, healthy, keys)
    vids = [v for v in visitors(healthy, per_primary=2) if shard_of(healthy, v) == 0][:2]
    while len(vids) < 2:
        v = new_vid()
        if shard_of(healthy, v) == 0:
            vids.append(v)
    cookies = {v: cookie_header("tailor_vid", sign(v)) for v in vids}
    with Load(lambda n: product_of(nginx, vids, cookies, n)) as load:
        load.wait(50, IO_TIMEOUT * 2, "load running")
        for key in (shard_key(0), vids[0]):
            move_slot_away(healthy, key)
        load.wait(50, IO_TIMEOUT * 2, "load after the migrations")
    sent = load.done
    wait_for(lambda: count(healthy) >= len(sent), 60, "%d events in the shards" % len(sent))
    check_exactly_once(healthy, sent)
    assert ev.counter(ev.events_metrics(nginx), "tailor_events_dropped_total") == 0


def test_a_single_redis_may_shard_the_stream_too(nginx, redis, keys, sign):
    """tailor_events_stream_shards above 1 without a cluster takes the same split path."""
    ev.start(nginx, redis, keys, extra="tailor_events_stream_shards 3;")
    vids = [new_vid() for _ in range(12)]
    for n, vid in enumerate(vids):
        product(nginx, cookie_header("tailor_vid", sign(vid)), n)

    def entries():
        out = []
        for i in range(3):
            key = "%s:{%d}" % (ev.STREAM, i)
            for _, kv in redis.command("XRANGE", key, "-", "+"):
                fields = {kv[j].decode(): kv[j + 1] for j in range(0, len(kv), 2)}
                out.append((i, fields["vid"].decode()))
        return out if len(out) >= len(vids) else None
    got = wait_for(entries, STARTUP_TIMEOUT, "every event in a shard")
    assert sorted(v for _, v in got) == sorted(vids)
    assert redis.command("GET", "%s:shards" % ev.STREAM) == b"3"
    assert redis.command("EXISTS", ev.STREAM) == 0
