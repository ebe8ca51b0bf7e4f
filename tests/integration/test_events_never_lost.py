# Events are never lost with the default configuration (no tailor_events_spool,
# no queue or batch directives): plain load of a returning visitor's page views
# at wrk's rate drops nothing (a new visitor's first page emits nothing until
# its id comes back: docs/privacy.md); a queue too small for the load spills to the spool instead of
# dropping; and a Redis that refuses every batch (maxmemory) is asked again
# with a doubling delay, not every flush interval, and gets everything once it
# takes writes again. The counters of tailor_events_status say so. (A Redis
# killed under load with the default configuration:
# test_events.py::test_redis_killed_under_load_loses_nothing[kill-default].)

import os
import shutil
import subprocess
import time

import pytest

from env import IO_TIMEOUT, module_has, wait_for
from scenario import cookie_header
from test_events import counter, events_metrics, start, STREAM
from visitor import new_vid

if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)


def xlen(redis):
    return redis.command("XLEN", STREAM)


def wrk(nginx, seconds, connections, cookie, path="/product.html?sku=S1&price=9.50"):
    """Requests wrk made, every one a page view of the visitor `cookie` names."""
    if not shutil.which("wrk"):
        pytest.skip("needs wrk")
    p = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds,
                        "-H", "Cookie: tailor_vid=%s" % cookie,
                        "http://127.0.0.1:%d%s" % (nginx.port, path)],
                       capture_output=True, text=True, timeout=seconds + 30)
    assert p.returncode == 0, p.stderr
    for line in p.stdout.splitlines():
        if "requests in" in line:
            return int(line.split()[0])
    raise AssertionError(p.stdout)


def settled(nginx, redis):
    """Waits until every emitted event is in the stream, with nothing queued or spooled."""
    def done():
        m = events_metrics(nginx)
        emitted = counter(m, "tailor_events_emitted_total")
        if (counter(m, "tailor_events_queued") == 0
                and counter(m, "tailor_events_spool_pending") == 0
                and xlen(redis) >= emitted - counter(m, "tailor_events_dropped_total")):
            return m
        return None
    return wait_for(done, 30, "events delivered")


def nginx_has_spool(nginx):
    return os.path.isdir(nginx.path("tailor-spool"))


def report(m):
    print({k[0][len("tailor_events_"):]: v for k, v in m.items()
           if k[0].startswith("tailor_events_")})


def test_page_views_at_wrk_rate_drop_nothing(nginx_factory, redis, keys, sign):
    nginx = nginx_factory(worker_processes=2)
    start(nginx, redis, keys)
    requests = wrk(nginx, 4, 50, sign(new_vid()))
    m = settled(nginx, redis)
    report(m)
    assert counter(m, "tailor_events_dropped_total") == 0
    # wrk counts the requests it finished; the few it cut at the end were served too
    assert counter(m, "tailor_events_emitted_total") >= requests
    assert counter(m, "tailor_events_flushed_total") == counter(m, "tailor_events_emitted_total")
    assert xlen(redis) == counter(m, "tailor_events_emitted_total")


def test_a_queue_too_small_for_the_load_spills_to_the_spool(nginx_factory, redis, keys, sign):
    nginx = nginx_factory(worker_processes=2)
    start(nginx, redis, keys, extra="tailor_events_queue 16; tailor_events_batch 8;")
    wrk(nginx, 3, 50, sign(new_vid()))
    m = settled(nginx, redis)
    report(m)
    assert counter(m, "tailor_events_spooled_total") > 0, "the queue filled up"
    assert counter(m, "tailor_events_dropped_total") == 0
    assert counter(m, "tailor_events_duplicates_total") == 0, "copies of a batch are not resent"
    assert counter(m, "tailor_events_flushed_total") == counter(m, "tailor_events_emitted_total")
    # the stream holds each event once
    entries = redis.command("XRANGE", STREAM, "-", "+")
    assert len(entries) == counter(m, "tailor_events_emitted_total")
    assert len({bytes(kv[kv.index(b"e") + 1]) for _, kv in entries}) == len(entries)


def test_batches_carry_at_most_the_visitor_cap_and_lose_nothing(nginx_factory, redis, keys, sign,
                                                                 tmp_path):
    """50 visitors in turn at wrk's rate, tailor_events_batch_visitors 4: every batch holds
    4 visitors' worth at most (one wrk thread takes them in turn: a visitor comes back only 50
    requests later, so a visitor is one event), where a returning visitor that carries
    nginx's edit of its map counts a quarter: 16 events at most, and every event arrives
    once."""
    if not shutil.which("wrk"):
        pytest.skip("needs wrk")
    nginx = nginx_factory(worker_processes=2)
    start(nginx, redis, keys, extra="tailor_events_batch_visitors 4;")
    script = tmp_path / "visitors.lua"
    cookies = ",".join('"tailor_vid=%s"' % sign(new_vid()) for _ in range(50))
    script.write_text("local c = {%s}\nlocal i = 0\n"
                      "request = function()\n  i = i %% #c + 1\n"
                      "  wrk.headers[\"Cookie\"] = c[i]\n  return wrk.format()\nend\n" % cookies)
    p = subprocess.run(["wrk", "-t1", "-c20", "-d2s", "-s", str(script),
                        "http://127.0.0.1:%d/product.html?sku=S1&price=9.50" % nginx.port],
                       capture_output=True, text=True, timeout=40)
    assert p.returncode == 0, p.stderr
    m = settled(nginx, redis)
    report(m)
    batches = counter(m, "tailor_events_batches_total")
    emitted = counter(m, "tailor_events_emitted_total")
    assert emitted > 500, "load"
    assert counter(m, "tailor_events_batch_events_total") <= 4 * 4 * batches
    assert counter(m, "tailor_events_flushed_total") == emitted
    assert counter(m, "tailor_events_dropped_total") == 0
    assert counter(m, "tailor_events_duplicates_total") == 0
    assert counter(m, "tailor_events_invalid_total") == 0
    entries = redis.command("XRANGE", STREAM, "-", "+")
    assert len(entries) == emitted
    assert len({bytes(kv[kv.index(b"e") + 1]) for _, kv in entries}) == len(entries)


@pytest.mark.parametrize("value", ["0", "4097", "many"])
def test_a_visitor_cap_out_of_range_fails_nginx_t_with_file_and_line(nginx, keys, value):
    nginx.write(http="""
    tailor_keys %s;
    tailor_redis 127.0.0.1:1;
    tailor_events_batch_visitors %s;
    server { listen 127.0.0.1:{{PORT}}; location / { tailor on; tailor_events on; } }
    """ % (keys.path, value))
    rc, out = nginx.test_config()
    assert rc != 0 and "[emerg]" in out, out
    line = nginx.line_of("tailor_events_batch_visitors")
    assert "%s:%d" % (nginx.conf_path, line) in out, "file and line named: " + out


def test_a_redis_at_maxmemory_is_asked_again_with_backoff(nginx_factory, redis, keys, sign):
    nginx = nginx_factory(worker_processes=1)
    start(nginx, redis, keys)
    cookie = cookie_header("tailor_vid", sign(new_vid()))
    nginx.allow_log(r"batch of \d+ events failed: OOM")
    assert nginx.get("/product.html?sku=S1", headers=cookie).status == 200
    wait_for(lambda: xlen(redis) == 1, IO_TIMEOUT, "the first event")

    redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction")
    redis.command("CONFIG", "SET", "maxmemory", "1")
    refused_since = time.monotonic()
    sent = 1
    for _ in range(30):  # 3 s of page views while every batch is refused
        assert nginx.get("/product.html?sku=S1", headers=cookie).status == 200
        sent += 1
        time.sleep(0.1)
    m = events_metrics(nginx)
    refused_for = time.monotonic() - refused_since
    report(m)
    failed = counter(m, "tailor_events_failed_batches_total")
    assert failed > 0, "the batches were refused"
    # every 10 ms (the flush interval) would be ~100 a second; doubling up to
    # 1 s is 8 tries in the first 1.27 s (10, 20, ... 640 ms apart), then one
    # a second: ~10 in the 3 s a quiet machine takes, more on a loaded one
    assert failed <= 9 + int(refused_for), "failed batches backed off (%d in %.1f s)" % (
        failed, refused_for)
    assert counter(m, "tailor_events_backoff_ms_total") > 0

    redis.command("CONFIG", "SET", "maxmemory", "0")
    wait_for(lambda: xlen(redis) == sent, IO_TIMEOUT, "every event once Redis takes writes")
    m = events_metrics(nginx)
    assert counter(m, "tailor_events_dropped_total") == 0
    assert counter(m, "tailor_events_flushed_total") == sent


def test_spool_off_opens_no_spool_and_events_still_flow(nginx, redis, keys, sign):
    start(nginx, redis, keys, extra="tailor_events_spool off;")
    cookie = cookie_header("tailor_vid", sign(new_vid()))
    assert nginx.get("/product.html?sku=S1", headers=cookie).status == 200
    wait_for(lambda: xlen(redis) == 1, IO_TIMEOUT, "the event")
    assert not nginx_has_spool(nginx), "no default spool when it is off"


def test_the_default_spool_is_under_the_prefix(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    cookie = cookie_header("tailor_vid", sign(new_vid()))
    assert nginx.get("/product.html?sku=S1", headers=cookie).status == 200
    wait_for(lambda: xlen(redis) == 1, IO_TIMEOUT, "the event")
    assert nginx_has_spool(nginx)
