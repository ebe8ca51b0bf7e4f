# Redis stopped, paused (SIGSTOP) or answering garbage: the page still arrives,
# with its default content, well within the budget plus a wide margin, and the
# outcome ($tailor_status and the status counters) says why.

import time

import pytest

from env import not_under_valgrind, wait_for
from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header


BUDGET = "20ms"
MARGIN = 1.0    # seconds: the page must not wait for Redis, but machines are noisy


def timed_get(nginx, cookie):
    t0 = time.monotonic()
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", cookie))
    return r, time.monotonic() - t0


def assert_default_fast(r, elapsed):
    assert r.status == 200
    assert r.body == PAGE, "default content"
    assert elapsed < MARGIN, "page arrived in %.3fs, budget %s" % (elapsed, BUDGET)


def test_redis_stopped(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Personal"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout=BUDGET)
    cookie = sign(vid)
    assert b"Personal" in nginx.get("/index.html",
                                    headers=cookie_header("tailor_vid", cookie)).body
    redis.stop()
    seen = set()
    for _ in range(5):
        r, elapsed = timed_get(nginx, cookie)
        assert_default_fast(r, elapsed)
        seen.add(scenario.last_outcome(nginx))
    assert seen <= {"down", "error"} and "down" in seen, seen
    assert scenario.outcome_count(scenario.status_metrics(nginx), "down") >= 1


def test_redis_restarted_recovers(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout=BUDGET)
    cookie = sign(vid)
    redis.kill()
    r, elapsed = timed_get(nginx, cookie)
    assert_default_fast(r, elapsed)
    redis.start()
    scenario.seed(redis, vid, {"hero": "Back again"})
    # reconnect backoff is 100ms doubling to 5s: poll, bounded
    wait_for(lambda: b"Back again" in timed_get(nginx, cookie)[0].body, 30,
                     "personalization after Redis came back")


@not_under_valgrind()
def test_redis_paused(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Personal"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout=BUDGET)
    cookie = sign(vid)
    assert b"Personal" in timed_get(nginx, cookie)[0].body
    redis.pause()
    try:
        seen = set()
        for _ in range(5):
            r, elapsed = timed_get(nginx, cookie)
            assert_default_fast(r, elapsed)
            seen.add(scenario.last_outcome(nginx))
        assert "timeout" in seen and seen <= {"timeout", "down", "error"}, seen
        assert scenario.outcome_count(scenario.status_metrics(nginx), "timeout") >= 1
    finally:
        redis.resume()
    wait_for(lambda: b"Personal" in timed_get(nginx, cookie)[0].body, 30,
                     "personalization after SIGCONT")


@not_under_valgrind()
@pytest.mark.parametrize("mode", ["random", "wrong_type", "wrong_array", "error",
                                  "incomplete", "silent", "close"])
def test_redis_answers_garbage(nginx, fake_redis, keys, sign, mode):
    fake = fake_redis(mode, seed=1)
    scenario.start_shop(nginx, redis=fake.address, keys=keys.path, timeout=BUDGET)
    cookie = sign(new_vid())
    seen = set()
    for _ in range(5):
        r, elapsed = timed_get(nginx, cookie)
        assert_default_fast(r, elapsed)
        seen.add(scenario.last_outcome(nginx))
    assert seen <= {"error", "timeout", "down", "bad-profile"}, seen
    want = {"incomplete": "timeout", "silent": "timeout"}.get(mode, "error")
    metrics = scenario.status_metrics(nginx)
    assert sum(scenario.outcome_count(metrics, o) for o in seen) >= 1
    assert want in seen or "down" in seen, (mode, seen)
