# redis_cluster_fixtures: what the Redis Cluster test files share. One real cluster per test
# file (3 primaries, 3 replicas, behind AUTH with an ACL user for Tailor), restored before
# and after each test; the `redis` that scenario and the pop-up helpers expect, over it;
# visitors on every primary; a slot moved away; the pop-up beacon from each; tailorctl; a load of requests
# from background threads.
#
# A test file takes the fixtures by importing them:
#   from redis_cluster_fixtures import cluster, healthy  # noqa: F401 (fixtures)

import os
import subprocess
import threading

import pytest

from env import IO_TIMEOUT, STARTUP_TIMEOUT, TAILORCTL, wait_for
from redis_cluster import RedisCluster
from tempdirs import make_tempdir, remove_tree
from visitor import new_vid
import test_popups as popups

PASSWORD = "cluster-admin-pw"
TAILOR_USER = "tailor"
TAILOR_PASSWORD = "tailor-pw"


@pytest.fixture(scope="module")
def cluster():
    """One cluster serves the whole file (it starts in ~2 s)."""
    d = make_tempdir("redis-cluster")
    c = RedisCluster(d, password=PASSWORD,
                     acl_users=["%s on >%s ~tailor:* &* +@all" % (TAILOR_USER, TAILOR_PASSWORD)])
    try:
        c.start()
        yield c
    finally:
        c.stop()
        remove_tree(d)


def _restore(cluster):
    for n in cluster.nodes:
        if not n.alive():
            cluster.restart(n)
    cluster.wait_ok()


@pytest.fixture
def healthy(cluster):
    """The cluster with every node running and every slot served, before and after a test;
    it starts empty."""
    _restore(cluster)
    cluster.flushall()
    yield cluster
    _restore(cluster)


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


def another_primary(cluster, node):
    """A primary other than `node`."""
    return [p for p in cluster.primaries() if p is not node][0]


def move_slot_away(cluster, key):
    """Moves the slot of `key` to another primary; returns the primary it left."""
    slot = cluster.keyslot(key)
    src = cluster.primary_for_slot(slot)
    dst = another_primary(cluster, src)
    cluster.move_slot(slot, dst)
    assert cluster.primary_for_slot(slot) is dst
    return src


def popup_shop(nginx, cluster, keys, **start):
    """The pop-up shop (test_popups.start with `start`) over the cluster, and a visitor with
    a cart on each primary; returns (redis, [vid, ...])."""
    redis = ClusterRedis(cluster)
    vids = [vs[0] for vs in vids_on_every_primary(cluster).values()]
    for vid in vids:
        popups.seed_cart(redis, vid)
    popups.start(nginx, redis, keys, **start)
    return redis, vids


def beacon_from_each(nginx, keys, sign, vids, query):
    """Each visitor of popup_shop gets the cart-rescue pop-up on its page, then reports
    `query` ("e=close&p=cart-rescue") on the beacon; yields the vid."""
    for vid in vids:
        cookie = sign(vid)
        wait_for(lambda: popups.popup_ids(popups.page(nginx, cookie)) == [b"cart-rescue"],
                 STARTUP_TIMEOUT, "the pop-up on the page")
        r = popups.beacon(nginx, cookie, popups.offered(keys, cookie, query))
        assert r.status == 204, r
        yield vid


def tailorctl(*args, env=None, timeout=IO_TIMEOUT):
    """Runs tailorctl (the test skips without it) with `env` added to the environment."""
    if not TAILORCTL or not os.path.exists(TAILORCTL):
        pytest.skip("needs tailorctl")
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([TAILORCTL] + list(args), capture_output=True, timeout=timeout, env=e)


class Load:
    """Calls request(n) for n = first, first + 1, ... from `threads` threads for as long
    as the `with` block runs. `done` holds what the calls returned, in the order they
    returned; an AssertionError ends its thread and is kept in `errors`.

        with Load(lambda n: get(n), threads=6) as load:
            load.wait(200, IO_TIMEOUT, "load running")
            ...  # break something
            load.wait(200, IO_TIMEOUT, "load after the failure")
    """

    def __init__(self, request, threads=1, first=0):
        self.done = []
        self.errors = []
        self._request = request
        self._next = first
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(IO_TIMEOUT)
        return False

    def _run(self):
        while not self._stop.is_set():
            with self._lock:
                n = self._next
                self._next += 1
            try:
                result = self._request(n)
            except AssertionError as e:
                self.errors.append(e)
                return
            with self._lock:
                self.done.append(result)

    def wait(self, more, timeout, what):
        """Returns once more than `more` further calls have returned."""
        n = len(self.done)
        wait_for(lambda: len(self.done) > n + more, timeout, what)
