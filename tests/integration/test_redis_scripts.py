# Redis forgets its scripts (a restart, SCRIPT FLUSH, a failover): the visitor read and the
# events batch answer NOSCRIPT by sending the same command as EVAL, through the glue's one
# fallback (ngx_http_tailor_redis_eval_fallback); nobody notices.

import pytest

from env import IO_TIMEOUT, module_has, wait_for
from metrics_text import metric, parse_metrics
from visitor import new_vid
import scenario
from scenario import cookie_header


if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)


STREAM = "tailor:events"


def events_status(nginx):
    r = nginx.get("/events-status")
    assert r.status == 200, r
    return parse_metrics(r.text)


def test_reads_and_event_batches_survive_a_script_flush(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Welcome back"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s",
                        http_extra="tailor_events on;\n    tailor_events_flush_interval 5ms;",
                        location_extra="location = /events-status { tailor_events_status; }")
    cookie = cookie_header("tailor_vid", sign(vid))

    # a fresh Redis has never seen the read script: the first read falls back to EVAL
    assert b"Welcome back" in nginx.get("/index.html", headers=cookie).body
    assert scenario.last_outcome(nginx) == "hit"
    wait_for(lambda: redis.command("XLEN", STREAM) >= 1, IO_TIMEOUT,
                     "the first page view in the stream")

    for round_ in range(3):
        assert redis.command("SCRIPT", "FLUSH") == "OK"
        r = nginx.get("/index.html", headers=cookie)
        assert b"Welcome back" in r.body, "round %d: read after SCRIPT FLUSH" % round_
        assert scenario.last_outcome(nginx) == "hit"
        wait_for(lambda: redis.command("XLEN", STREAM) >= 2 + round_,
                         IO_TIMEOUT, "page view %d in the stream" % (2 + round_))

    m = events_status(nginx)
    assert metric(m, "tailor_events_failed_batches_total") == 0
    assert metric(m, "tailor_events_flushed_total") == 4
    assert metric(m, "tailor_events_duplicates_total") == 0
