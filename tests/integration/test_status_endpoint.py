# The status endpoint serves Prometheus text with the counters summed over
# workers, and they say what happened to the requests before.

from concurrent.futures import ThreadPoolExecutor

from metrics_text import parse_metrics
from visitor import new_vid
import scenario
from scenario import cookie_header



def test_status_counts_outcomes(nginx_factory, redis, keys, sign):
    nginx = nginx_factory(worker_processes=2)
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s")
    r = nginx.get("/tailor-status")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain")
    before = parse_metrics(r.text)

    cookie = cookie_header("tailor_vid", sign(vid))
    for _ in range(3):
        nginx.get("/index.html", headers=cookie)                                 # hit
    for _ in range(2):
        nginx.get("/index.html")                                                 # new
    nginx.get("/index.html", headers={"Sec-GPC": "1"})                           # gpc
    nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(new_vid())))  # miss

    after = scenario.status_metrics(nginx)
    for outcome, n in (("hit", 3), ("new", 2), ("gpc", 1), ("miss", 1)):
        got = scenario.outcome_count(after, outcome) - scenario.outcome_count(before, outcome)
        assert got == n, "%s: %s more, expected %d" % (outcome, got, n)


def test_status_is_not_personalized_or_logged_as_a_visit(nginx, redis, keys):
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path)
    r = nginx.get("/tailor-status")
    assert r.status == 200 and not r.header_all("Set-Cookie")
    parse_metrics(r.text)   # parses as Prometheus text


def requests_total(nginx):
    return scenario.status_metrics(nginx).get(("tailor_requests_total", ()), 0.0)


def test_counters_are_summed_over_workers_and_survive_a_reload(nginx_factory, redis, keys):
    # each worker counts in its own slot of the zone; the status sums them
    nginx = nginx_factory(worker_processes=2)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s")
    before = requests_total(nginx)

    def pages(n):
        # concurrent connections, so that both workers take some
        with ThreadPoolExecutor(8) as pool:
            for r in pool.map(lambda _: nginx.get("/index.html"), range(n)):
                assert r.status == 200, r

    pages(40)
    assert requests_total(nginx) - before == 40
    nginx.reload()
    pages(40)
    assert requests_total(nginx) - before == 80
