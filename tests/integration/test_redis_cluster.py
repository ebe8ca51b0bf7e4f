# Redis Cluster end to end: a real cluster (3 primaries, 3 replicas, every node behind AUTH
# with an ACL user for Tailor), nginx with `tailor_redis ... cluster=on`. Personalized pages
# for visitors on every shard; a slot migrated under the module (MOVED), one caught half way
# (ASK); a primary killed under load (no error page, personalization back after the
# promotion); reads from replicas; a wrong password; the beacon and `tailorctl profile erase`
# on the visitor's node. One cluster serves the whole file (it starts in ~2 s); each test
# leaves it with every slot served. Waits poll with deadlines, never sleep.

import pytest

from env import IO_TIMEOUT, STARTUP_TIMEOUT, wait_for
from redis_cluster_fixtures import cluster, healthy  # noqa: F401 (fixtures)
from redis_cluster_fixtures import (TAILOR_PASSWORD, TAILOR_USER, ClusterRedis, Load,
                                    another_primary, beacon_from_each, move_slot_away,
                                    popup_shop, tailorctl, vids_on_every_primary)
from visitor import new_vid, profile_key
import scenario
from scenario import cookie_header
import test_popups as popups


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


def personalized_on_every_shard(shop, cluster, sign):
    """A visitor on each primary with a profile ("Hi <vid>"), the shop started, and each one's
    page personalized; returns ({primary port: [vid]}, {vid: signed cookie})."""
    vids = vids_on_every_primary(cluster)
    for vs in vids.values():
        scenario.seed(cluster, vs[0], {"hero": "Hi %s" % vs[0][:6]})
    start_shop(shop, cluster)
    cookies = {vs[0]: sign(vs[0]) for vs in vids.values()}
    for vid in cookies:
        wait_personalized(shop, sign, vid, "Hi %s" % vid[:6], "every shard personalized")
    return vids, cookies


def page_status(nginx, cookies, n):
    """The status of the page for the n-th of `cookies` (visitor: signed cookie), round robin."""
    c = list(cookies.values())[n % len(cookies)]
    return nginx.get("/index.html", headers=cookie_header("tailor_vid", c)).status


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

    move_slot_away(healthy, vid)

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
    dst = another_primary(healthy, src)
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
    vids, cookies = personalized_on_every_shard(shop, healthy, sign)

    with Load(lambda n: page_status(shop, cookies, n)) as load:
        load.wait(20, IO_TIMEOUT, "load running")
        victim_vid = next(iter(vids.values()))[0]
        victim = healthy.primary_for_key(victim_vid)
        healthy.kill_primary(victim)
        # the promoted replica has the visitor's profile: personalization comes back
        wait_personalized(shop, sign, victim_vid, "Hi %s" % victim_vid[:6],
                          "personalization after the promotion")
        load.wait(10, IO_TIMEOUT, "load after the promotion")
    statuses = load.done
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
    # a seed that does not hold the visitor: the first DEL is answered with MOVED
    src = move_slot_away(healthy, vid)
    p = tailorctl("profile", "erase", vid, "--redis", src.address, "--redis-user", TAILOR_USER,
                  "--redis-password", TAILOR_PASSWORD)
    assert p.returncode == 0, p.stderr
    assert b"erased 1 keys" in p.stdout, p.stdout
    assert healthy.get(profile_key(vid)) is None


def test_the_beacon_writes_the_caps_on_the_visitors_node(nginx, healthy, keys, sign):
    redis, vids = popup_shop(nginx, healthy, keys)
    for vid in beacon_from_each(nginx, keys, sign, vids, "e=close&p=cart-rescue"):
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
    vids, cookies = personalized_on_every_shard(shop, healthy, sign)
    with Load(lambda n: page_status(shop, cookies, n)) as load:
        for _ in range(3):
            shop.reload()
    statuses = load.done
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

    def request(n):
        r = shop.get("/index.html", headers=cookie_header("tailor_vid", cookie))
        return r.status, b"Hi Replica" in r.body

    with Load(request) as load:
        load.wait(20, IO_TIMEOUT, "load running")
        for replica in healthy.replicas_for_slot(healthy.keyslot(vid)):
            replica.kill()
        load.wait(20, IO_TIMEOUT, "load after the kill")
    bodies = load.done
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
