# Redis Cluster end to end: a real cluster (3 primaries, 3 replicas, every node behind AUTH
# with an ACL user for Tailor), nginx with `tailor_redis ... cluster=on`. Personalized pages
# for visitors on every shard; a slot migrated under the module (MOVED), one caught half way
# (ASK); a primary killed under load (no error page, personalization back after the
# promotion); reads from replicas; a wrong password; the beacon and `tailorctl profile erase`
# on the visitor's node. One cluster serves the whole file (it starts in ~2 s); each test
# leaves it with every slot served. Waits poll with deadlines, never sleep.

import os
import subprocess
import threading

import pytest

from env import IO_TIMEOUT, STARTUP_TIMEOUT, TAILORCTL, wait_for
from redis_cluster import RedisCluster
from tempdirs import make_tempdir, remove_tree
from visitor import new_vid, profile_key
import scenario
from scenario import cookie_header
import test_popups as popups

PASSWORD = "cluster-admin-pw"
TAILOR_USER = "tailor"
TAILOR_PASSWORD = "tailor-pw"


@pytest.fixture(scope="module")
def cluster():
    d = make_tempdir("redis-cluster")
    c = RedisCluster(d, password=PASSWORD,
                     acl_users=["%s on >%s ~tailor:* &* +@all" % (TAILOR_USER, TAILOR_PASSWORD)])
    try:
        c.start()
        yield c
    finally:
        c.stop()
        remove_tree(d)


@pytest.fixture
def healthy(cluster):
    """The cluster with every node running and every slot served, before and after a test."""
    for n in cluster.nodes:
        if not n.alive():
            cluster.restart(n)
    cluster.wait_ok()
    yield cluster
    for n in cluster.nodes:
        if not n.alive():
            cluster.restart(n)
    cluster.wait_ok()


class ClusterRedis:
    """What scenario and the pop-up helpers expect of `redis`: an address for tailor_redis
    (here the seeds and the cluster parameters) and get/set on the right node."""

    def __init__(self, cluster, params=""):
        self.cluster = cluster
        self.address = "%s cluster=on user=%s password=%s %s" % (
            " ".join(cluster.seeds[:3]), TAILOR_USER, TAILOR_PASSWORD, params)

    def get(self, key):
        return self.cluster.get(key)

    def set(self, key, value, *opts):
        return self.cluster.set(key, value)


def vids_on_every_primary(cluster, per_primary=1):
    """{primary port: [vid, ...]}: fresh visitors whose slots land on each primary."""
    want = {n.port: [] for n in cluster.primaries()}
    while any(len(v) < per_primary for v in want.values()):
        vid = new_vid()
        port = cluster.primary_for_key(vid).port
        if len(want[port]) < per_primary:
            want[port].append(vid)
    return want


def start_shop(nginx, cluster, params="", workers=1):
    redis = ClusterRedis(cluster, params)
    scenario.start_shop(nginx, redis=redis.address, keys=nginx.keys.path, timeout="2s")
    return redis


def personalized(nginx, sign, vid, text):
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200, r
    return text.encode() in r.body


def metric(nginx, name):
    return scenario.status_metrics(nginx).get((name, ()), 0.0)


@pytest.fixture
def shop(nginx, healthy, keys, sign):
    nginx.keys = keys
    return nginx


def wait_personalized(nginx, sign, vid, text, what):
    wait_for(lambda: personalized(nginx, sign, vid, text), STARTUP_TIMEOUT, what)


def test_pages_are_personalized_for_visitors_on_every_shard(shop, healthy, sign):
    vids = vids_on_every_primary(healthy, per_primary=2)
    for port, vs in vids.items():
        for vid in vs:
            scenario.seed(healthy, vid, {"hero": "Hi %s" % vid[:6]})
    start_shop(shop, healthy)
    # the first request may come before the worker has its slot map: it fails open
    first = next(iter(vids.values()))[0]
    wait_personalized(shop, sign, first, "Hi %s" % first[:6], "the slot map loaded")
    for port, vs in vids.items():
        for vid in vs:
            assert personalized(shop, sign, vid, "Hi %s" % vid[:6]), "visitor on %d" % port
    assert metric(shop, "tailor_redis_cluster_slot_maps_total") >= 1
    assert metric(shop, "tailor_redis_connected_workers") == 1


def test_a_migrated_slot_is_followed_by_moved_and_keeps_personalization(shop, healthy, sign):
    vid = new_vid()
    scenario.seed(healthy, vid, {"hero": "Hi Moved"})
    start_shop(shop, healthy)
    wait_personalized(shop, sign, vid, "Hi Moved", "the first personalized page")

    slot = healthy.keyslot(vid)
    src = healthy.primary_for_slot(slot)
    dst = [p for p in healthy.primaries() if p is not src][0]
    healthy.move_slot(slot, dst)
    assert healthy.primary_for_slot(slot) is dst

    # the worker's map still names src: src answers MOVED, the module follows it
    assert personalized(shop, sign, vid, "Hi Moved")
    assert metric(shop, "tailor_redis_cluster_redirects_total") >= 1
    assert personalized(shop, sign, vid, "Hi Moved")


def test_a_slot_half_way_through_a_migration_is_followed_by_ask(shop, healthy, sign):
    vid = new_vid()
    scenario.seed(healthy, vid, {"hero": "Hi Asked"})
    # all three keys the visitor read names: the importing node takes a multi-key command
    # after ASKING only when it holds every key (else TRYAGAIN: a default page)
    healthy.set("tailor:{%s}:live" % vid, b"\x80")
    healthy.set("tailor:{%s}:caps" % vid, b"\x80")
    start_shop(shop, healthy)
    wait_personalized(shop, sign, vid, "Hi Asked", "the first personalized page")

    slot = healthy.keyslot(vid)
    src = healthy.primary_for_slot(slot)
    dst = [p for p in healthy.primaries() if p is not src][0]
    healthy.begin_migration(slot, src, dst)
    try:
        # the visitor's keys are on dst already, the slot still src's: src answers ASK
        healthy.migrate_keys(slot, src, dst)
        before = metric(shop, "tailor_redis_cluster_redirects_total")
        assert personalized(shop, sign, vid, "Hi Asked")
        assert metric(shop, "tailor_redis_cluster_redirects_total") > before
        assert healthy.primary_for_slot(slot) is src, "an ASK does not move the slot"
    finally:
        healthy.finish_migration(slot, dst)
    assert personalized(shop, sign, vid, "Hi Asked")


def test_a_primary_killed_under_load_costs_defaults_not_errors(shop, healthy, sign):
    vids = vids_on_every_primary(healthy)
    for vs in vids.values():
        scenario.seed(healthy, vs[0], {"hero": "Hi %s" % vs[0][:6]})
    start_shop(shop, healthy)
    cookies = {vs[0]: sign(vs[0]) for vs in vids.values()}
    for vid in cookies:
        wait_personalized(shop, sign, vid, "Hi %s" % vid[:6], "every shard personalized")

    statuses = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            for vid, c in cookies.items():
                r = shop.get("/index.html", headers=cookie_header("tailor_vid", c))
                statuses.append(r.status)

    t = threading.Thread(target=load)
    t.start()
    try:
        wait_for(lambda: len(statuses) > 20, IO_TIMEOUT, "load running")
        victim_vid = next(iter(vids.values()))[0]
        victim = healthy.primary_for_key(victim_vid)
        healthy.kill_primary(victim)
        # the promoted replica has the visitor's profile: personalization comes back
        wait_personalized(shop, sign, victim_vid, "Hi %s" % victim_vid[:6],
                          "personalization after the promotion")
        n = len(statuses)
        wait_for(lambda: len(statuses) > n + 10, IO_TIMEOUT, "load after the promotion")
    finally:
        stop.set()
        t.join(IO_TIMEOUT)
    assert statuses and all(s == 200 for s in statuses), sorted(set(statuses))
    for vid in cookies:
        assert personalized(shop, sign, vid, "Hi %s" % vid[:6])


def test_profile_reads_go_to_replicas_when_asked(shop, healthy, sign):
    vids = vids_on_every_primary(healthy)
    for vs in vids.values():
        scenario.seed(healthy, vs[0], {"hero": "Hi %s" % vs[0][:6]})
    for p in healthy.primaries():
        p.command("WAIT", "1", "5000")  # the replicas hold the profiles

    def replica_reads():
        total = 0
        for p in healthy.primaries():
            for n in healthy.replicas_for_slot(healthy.slots_of(p)[0]):
                stats = n.command("INFO", "commandstats").decode()
                for line in stats.splitlines():
                    if line.startswith("cmdstat_getrange:"):
                        total += int(line.split("calls=")[1].split(",")[0])
        return total

    before = replica_reads()
    start_shop(shop, healthy, params="replica_reads=on")
    for vs in vids.values():
        wait_personalized(shop, sign, vs[0], "Hi %s" % vs[0][:6], "a personalized page")
    assert replica_reads() > before, "the replicas answered the profile reads"


def test_a_wrong_password_costs_defaults_and_is_counted(shop, healthy, sign):
    vid = new_vid()
    scenario.seed(healthy, vid, {"hero": "Hi Nobody"})
    redis = ClusterRedis(healthy)
    address = redis.address.replace("password=%s" % TAILOR_PASSWORD, "password=wrong")
    scenario.start_shop(shop, redis=address, keys=shop.keys.path, timeout="2s")
    # every node refuses the password (under a sanitizer the 100 ms connect_timeout may
    # expire first: a failure too, and the next attempt gets the refusal)
    wait_for(lambda: "AUTH/SELECT/READONLY failed: WRONGPASS" in shop.read_log(), IO_TIMEOUT,
             "a refused AUTH logged")
    assert metric(shop, "tailor_redis_connect_failures_total") > 0
    r = shop.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200 and b"Hi Nobody" not in r.body
    assert metric(shop, "tailor_redis_connected_workers") == 0


def tailorctl(*args, env=None):
    if not TAILORCTL or not os.path.exists(TAILORCTL):
        pytest.skip("needs tailorctl")
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([TAILORCTL] + list(args), capture_output=True, timeout=IO_TIMEOUT,
                          env=e)


def test_tailorctl_erases_a_visitor_on_its_node_as_the_acl_user(healthy):
    vids = vids_on_every_primary(healthy)
    seed = healthy.seeds[0]
    for vs in vids.values():
        vid = vs[0]
        scenario.seed(healthy, vid, {"hero": "Hi"})
        healthy.set("tailor:{%s}:caps" % vid, b"\x80")
        # the password from the environment, the user on the command line; any node is a seed
        p = tailorctl("profile", "erase", vid, "--redis", seed, "--redis-user", TAILOR_USER,
                      env={"TAILOR_REDIS_PASSWORD": TAILOR_PASSWORD})
        assert p.returncode == 0, p.stderr
        assert b"erased 2 keys" in p.stdout, p.stdout
        assert healthy.get(profile_key(vid)) is None
        assert healthy.get("tailor:{%s}:caps" % vid) is None


def test_tailorctl_is_refused_without_the_right_password(healthy):
    p = tailorctl("profile", "erase", new_vid(), "--redis", healthy.seeds[0],
                  "--redis-user", TAILOR_USER, "--redis-password", "wrong")
    assert p.returncode == 1
    assert b"AUTH failed" in p.stderr, p.stderr
    # an ACL user with keys outside tailor:* is refused what it may not touch
    p = tailorctl("events", "tail", "--stream", "other:events", "--count", "1", "--from", "0",
                  "--redis", healthy.seeds[0], "--redis-user", TAILOR_USER,
                  "--redis-password", TAILOR_PASSWORD)
    assert p.returncode == 1 and b"NOPERM" in p.stderr, p.stderr


def test_tailorctl_follows_a_moved_slot(healthy):
    vid = new_vid()
    scenario.seed(healthy, vid, {"hero": "Hi"})
    slot = healthy.keyslot(vid)
    src = healthy.primary_for_slot(slot)
    # a seed that does not hold the visitor: the first DEL is answered with MOVED
    other = [p for p in healthy.primaries() if p is not src][0]
    healthy.move_slot(slot, other)
    p = tailorctl("profile", "erase", vid, "--redis", src.address, "--redis-user", TAILOR_USER,
                  "--redis-password", TAILOR_PASSWORD)
    assert p.returncode == 0, p.stderr
    assert b"erased 1 keys" in p.stdout, p.stdout
    assert healthy.get(profile_key(vid)) is None


def test_the_beacon_writes_the_caps_on_the_visitors_node(nginx, healthy, keys, sign):
    vids = vids_on_every_primary(healthy)
    redis = ClusterRedis(healthy)
    for vs in vids.values():
        popups.seed_cart(redis, vs[0])
    popups.start(nginx, redis, keys)
    for vs in vids.values():
        vid = vs[0]
        cookie = sign(vid)
        wait_for(lambda: popups.popup_ids(popups.page(nginx, cookie)) == [b"cart-rescue"],
                 STARTUP_TIMEOUT, "the pop-up on the page")
        r = popups.beacon(nginx, cookie, popups.offered(keys, cookie, "e=close&p=cart-rescue"))
        assert r.status == 204, r
        c = popups.caps(redis, vid)
        assert c is not None and "cart-rescue" in c["p"], c


@pytest.mark.parametrize("args,reason", [
    ("127.0.0.1:7000 127.0.0.1:7001", "has several addresses but no cluster=on"),
    ("unix:/tmp/redis.sock cluster=on", "cluster=on needs host:port seeds"),
    ("127.0.0.1:7000 cluster=on db=2", "cluster=on has only db 0"),
    ("127.0.0.1:7000 replica_reads=on", "replica_reads=on needs cluster=on"),
    ("127.0.0.1:7000 cluster=yes", 'invalid cluster "yes"'),
    ("127.0.0.1:7000 127.0.0.1:0 cluster=on", "tailor_redis"),
])
def test_nginx_t_refuses_a_bad_cluster_configuration(nginx, args, reason):
    nginx.write(scenario.tailor_http(redis=args))
    rc, out = nginx.test_config()
    assert rc != 0, out
    assert reason in out and "[emerg]" in out, out
    assert "%s:%d" % (nginx.conf_path, nginx.line_of("tailor_redis ")) in out, out


def test_reloads_under_load_close_every_node_connection_cleanly(shop, healthy, sign):
    vids = vids_on_every_primary(healthy)
    for vs in vids.values():
        scenario.seed(healthy, vs[0], {"hero": "Hi %s" % vs[0][:6]})
    start_shop(shop, healthy)
    cookies = {vs[0]: sign(vs[0]) for vs in vids.values()}
    for vid in cookies:
        wait_personalized(shop, sign, vid, "Hi %s" % vid[:6], "every shard personalized")
    statuses = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            for c in cookies.values():
                statuses.append(shop.get("/index.html",
                                         headers=cookie_header("tailor_vid", c)).status)

    t = threading.Thread(target=load)
    t.start()
    try:
        for _ in range(3):
            shop.reload()
    finally:
        stop.set()
        t.join(IO_TIMEOUT)
    assert statuses and all(s == 200 for s in statuses), sorted(set(statuses))
    for vid in cookies:
        wait_personalized(shop, sign, vid, "Hi %s" % vid[:6], "personalized after the reloads")


def test_a_replica_killed_under_replica_reads_hands_its_reads_to_the_primary(shop, healthy, sign):
    vid = new_vid()
    scenario.seed(healthy, vid, {"hero": "Hi Replica"})
    primary = healthy.primary_for_key(vid)
    primary.command("WAIT", "1", "5000")
    start_shop(shop, healthy, params="replica_reads=on")
    cookie = sign(vid)
    wait_personalized(shop, sign, vid, "Hi Replica", "a personalized page")

    bodies = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            r = shop.get("/index.html", headers=cookie_header("tailor_vid", cookie))
            bodies.append((r.status, b"Hi Replica" in r.body))

    t = threading.Thread(target=load)
    t.start()
    try:
        wait_for(lambda: len(bodies) > 20, IO_TIMEOUT, "load running")
        for replica in healthy.replicas_for_slot(healthy.keyslot(vid)):
            replica.kill()
        n = len(bodies)
        wait_for(lambda: len(bodies) > n + 20, IO_TIMEOUT, "load after the kill")
    finally:
        stop.set()
        t.join(IO_TIMEOUT)
    # reads in flight on the replica when it died went to the primary: none fell back
    assert bodies and all(b == (200, True) for b in bodies), \
        [b for b in bodies if b != (200, True)][:5]


def test_nginx_t_accepts_events_with_a_cluster(nginx, keys):
    # a batch goes split by slot and shard (test_events_cluster.py has them flowing)
    nginx.write(scenario.tailor_http(redis="127.0.0.1:7000 cluster=on", keys=keys.path,
                                     location_extra="tailor_events on;"))
    rc, out = nginx.test_config()
    assert rc == 0, out


@pytest.mark.parametrize("shards,reason", [("0", "between 1 and 1024"),
                                           ("1025", "between 1 and 1024"),
                                           ("many", "invalid number")])
def test_nginx_t_refuses_a_bad_shard_count(nginx, keys, shards, reason):
    nginx.write(scenario.tailor_http(redis="127.0.0.1:7000 cluster=on", keys=keys.path,
                                     http_extra="tailor_events_stream_shards %s;" % shards,
                                     location_extra="tailor_events on;"))
    rc, out = nginx.test_config()
    assert rc != 0, out
    assert reason in out and "[emerg]" in out, out
    assert "%s:%d" % (nginx.conf_path, nginx.line_of("tailor_events_stream_shards")) in out, out
