# Spool directories whose worker slot no longer exists are replayed: events
# spooled by four workers while Redis is down reach the stream exactly once,
# in each producer's order, after nginx is restarted with two workers; the two
# live workers adopt w2 and w3 (one each at most at a time, under the spool's
# flock), replay them and remove them. Before, only a worker's own slot's
# names (w<N>, w<N>-<i>) were ever looked at, so w2 and w3 stayed on disk.

import os

import pytest

from env import module_has, wait_for
from scenario import cookie_header
from test_events import counter, events_metrics, start, stream_entries
from visitor import new_vid

if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)

BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0 Safari/537.36")
PAGE_VIEWS = 240


def segments(spool, name):
    d = os.path.join(spool, name)
    if not os.path.isdir(d):
        return []
    return [f for f in os.listdir(d) if f.endswith(".tspool")]


def restart_with(nginx, workers):
    nginx.stop()
    nginx.worker_processes = workers
    nginx.conf_text = nginx.conf_text.replace("worker_processes 4;",
                                              "worker_processes %d;" % workers)
    nginx.write_file("conf/nginx.conf", nginx.conf_text)
    nginx.start()


def test_spools_of_slots_gone_after_a_restart_with_fewer_workers_are_replayed_once(
        nginx_factory, redis, keys, sign, workdir):
    spool = os.path.join(workdir, "spool")
    nginx = nginx_factory(worker_processes=4)
    start(nginx, redis, keys, spool=spool)
    # reuseport: the kernel spreads connections over all four workers, so each spools some
    nginx.conf_text = nginx.conf_text.replace("listen 127.0.0.1:%d;" % nginx.port,
                                              "listen 127.0.0.1:%d reuseport;" % nginx.port)
    assert "reuseport" in nginx.conf_text
    nginx.write_file("conf/nginx.conf", nginx.conf_text)
    nginx.stop()
    nginx.start()
    nginx.allow_log(r"\[alert\].*redis")

    redis.stop()
    cookie = cookie_header("tailor_vid", sign(new_vid()))
    cookie["User-Agent"] = BROWSER
    for n in range(PAGE_VIEWS):
        r = nginx.get("/product.html?sku=S%d&price=9.50&n=%d" % (n % 7, n), headers=cookie)
        assert r.status == 200

    # the four workers exit with their queues in w0..w3; two come back
    restart_with(nginx, 2)
    # a slot's directory is w<N>, or w<N>-<i> when an exiting worker of the
    # reuseport restart above still held w<N> as the new one started
    orphans = [d for d in os.listdir(spool)
               if d.split("-")[0] in ("w2", "w3") and segments(spool, d)]
    assert {d.split("-")[0] for d in orphans} == {"w2", "w3"}, \
        "workers 2 and 3 spooled events: %s" % os.listdir(spool)

    redis.start()
    entries = wait_for(lambda: (lambda e: e if len(e) >= PAGE_VIEWS else None)(
        stream_entries(redis)), 60, "every spooled event in the stream")
    wait_for(lambda: not any(os.path.exists(os.path.join(spool, d)) for d in orphans), 30,
             "the orphaned spool directories removed")

    ns = [e[2]["props"]["n"] for e in entries]
    assert sorted(ns) == list(range(PAGE_VIEWS)), "each page view's event exactly once"
    by_src = {}
    for e in entries:
        by_src.setdefault(e[2]["src"], []).append(e[2]["seq"])
    assert len(by_src) == 4, "events of all four old workers"
    for src, seqs in by_src.items():
        assert seqs == sorted(seqs), "each producer's events in order: " + src

    m = events_metrics(nginx)
    assert counter(m, "tailor_events_replayed_total") == PAGE_VIEWS
    assert counter(m, "tailor_events_duplicates_total") == 0
    assert counter(m, "tailor_events_dropped_total") == 0
    assert counter(m, "tailor_events_spool_pending") == 0
    assert sorted(d for d in os.listdir(spool) if d.startswith("w")) == ["w0", "w1"]
    log = nginx.read_log()
    for name in orphans:
        assert "another worker left in \"%s\"" % os.path.join(spool, name) in log
