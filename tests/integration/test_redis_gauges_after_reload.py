# The connection gauges stay true across nginx -s reload. A worker slot's Redis
# counters live in shared memory, and after a reload the new worker of a slot
# writes the same block as the old one, which keeps running until its last
# request ends. When that old worker finally exits it closes its connections;
# it used to set the slot's gauges to "not connected, nothing in flight" then,
# although the new worker's connections were up: tailor_redis_connected_workers
# and tailor_events_redis_connected_workers read 0 until the next reconnect, so
# an alert on them fired after every reload that had a request in flight.

import os
import signal
import threading

import pytest

from env import IO_TIMEOUT, module_has, wait_for
from metrics_text import metric, parse_metrics
from scenario import PAGE
from test_events import start

if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)

GAUGES = (("/tailor-status", "tailor_redis_connected_workers"),
          ("/events-status", "tailor_events_redis_connected_workers"))


def gauge(nginx, path, name):
    r = nginx.get(path)
    assert r.status == 200, r
    return metric(parse_metrics(r.text), name)


def all_connected(nginx):
    return all(gauge(nginx, path, name) == 1 for path, name in GAUGES)


def test_an_old_worker_exiting_after_a_reload_leaves_the_gauges_to_the_new_one(
        nginx, redis, keys, backend):
    b = backend(body=PAGE, chunk_size=64, stall_at=128, chunked=False)
    start(nginx, redis, keys, backend=b.address)
    wait_for(lambda: all_connected(nginx), IO_TIMEOUT, "both connections up")

    # a request in flight keeps the old worker alive past the new one's start
    done = []
    slow = threading.Thread(target=lambda: done.append(nginx.get("/up/index.html")), daemon=True)
    slow.start()
    assert b.stalled.wait(IO_TIMEOUT), "the request reached the backend"
    old = set(nginx.workers())
    os.kill(nginx.master_pid, signal.SIGHUP)  # nginx.reload() would wait for the old worker
    wait_for(lambda: set(nginx.workers()) - old, IO_TIMEOUT, "the new worker")
    wait_for(lambda: all_connected(nginx), IO_TIMEOUT, "the new worker's connections up")
    assert old & set(nginx.workers()), "the old worker still serves its request"

    b.resume()
    slow.join(IO_TIMEOUT)
    assert done and done[0].status == 200, done
    wait_for(lambda: not old & set(nginx.workers()), IO_TIMEOUT, "the old worker gone")

    for path, name in GAUGES:
        assert gauge(nginx, path, name) == 1, "%s after the old worker exited" % name
