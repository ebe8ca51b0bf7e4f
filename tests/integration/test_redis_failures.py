# Redis stopped, paused (SIGSTOP) or answering garbage: the page still arrives,
# with its default content, while Redis is still away, and the outcome
# ($tailor_status and the status counters) says why. That the page is served
# while Redis cannot answer, with the outcome "timeout" when it stays silent,
# shows the request did not wait for Redis past its budget, without timing it.

from collections import Counter

import pytest

from env import not_under_valgrind, wait_for
from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header


# Long enough that a loaded (or sanitized) machine still answers a healthy
# read in time, short enough that five silent reads stay quick: the tests
# assert outcomes, never how long anything took.
BUDGET = "300ms"


def get_page(nginx, cookie):
    return nginx.get("/index.html", headers=cookie_header("tailor_vid", cookie))


def assert_default(r):
    assert r.status == 200
    assert r.body == PAGE, "default content"


def default_pages(nginx, cookie, n=5):
    """n requests, each served the default page: a Counter of their outcomes,
    checked against the status counters, which must have moved by as much."""
    before = scenario.status_metrics(nginx)
    seen = Counter()
    for _ in range(n):
        assert_default(get_page(nginx, cookie))
        seen[scenario.last_outcome(nginx)] += 1
    after = scenario.status_metrics(nginx)
    for outcome, count in seen.items():
        moved = scenario.outcome_count(after, outcome) - scenario.outcome_count(before, outcome)
        assert moved == count, "%s: counter moved by %s, logged %d" % (outcome, moved, count)
    return seen


def test_redis_stopped(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Personal"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout=BUDGET)
    cookie = sign(vid)
    assert b"Personal" in nginx.get("/index.html",
                                    headers=cookie_header("tailor_vid", cookie)).body
    redis.stop()
    seen = default_pages(nginx, cookie)
    assert set(seen) <= {"down", "error"} and "down" in seen, seen


def test_redis_restarted_recovers(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout=BUDGET)
    cookie = sign(vid)
    redis.kill()
    assert_default(get_page(nginx, cookie))
    assert scenario.last_outcome(nginx) in {"down", "error"}
    redis.start()
    scenario.seed(redis, vid, {"hero": "Back again"})
    # reconnect backoff is 100ms doubling to 5s: poll, bounded
    wait_for(lambda: b"Back again" in get_page(nginx, cookie).body, 30,
             "personalization after Redis came back")


@not_under_valgrind()
def test_redis_paused(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Personal"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout=BUDGET)
    cookie = sign(vid)
    assert b"Personal" in get_page(nginx, cookie).body
    redis.pause()
    try:
        # served while Redis is still paused: the deadline answered, not Redis
        seen = default_pages(nginx, cookie)
        assert "timeout" in seen and set(seen) <= {"timeout", "down", "error"}, seen
    finally:
        redis.resume()
    wait_for(lambda: b"Personal" in get_page(nginx, cookie).body, 30,
             "personalization after SIGCONT")


@not_under_valgrind()
@pytest.mark.parametrize("mode", ["random", "wrong_type", "wrong_array", "error",
                                  "incomplete", "silent", "close"])
def test_redis_answers_garbage(nginx, fake_redis, keys, sign, mode):
    fake = fake_redis(mode, seed=1)
    scenario.start_shop(nginx, redis=fake.address, keys=keys.path, timeout=BUDGET)
    cookie = sign(new_vid())
    seen = default_pages(nginx, cookie)
    assert set(seen) <= {"error", "timeout", "down", "bad-profile"}, seen
    want = {"incomplete": "timeout", "silent": "timeout"}.get(mode, "error")
    assert want in seen or "down" in seen, (mode, seen)
