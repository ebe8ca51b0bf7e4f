# The module's own endpoints (tailor_status, tailor_events_status) under a
# server-wide "tailor on": a metrics scrape is nobody's page view. It used to
# run the access phase like a page: every scrape counted in
# tailor_requests_total and the outcome counters, and a scraper without a
# cookie was minted a visitor id. "tailor" in the endpoint's own location,
# before or after the endpoint directive, neither turns it on nor fails.

import pytest

import scenario
from metrics_text import metric, parse_metrics

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}};
        root html;
        tailor on;
        tailor_timeout 1s;

        location = /tailor-status { tailor_status; }
        location = /events-status { tailor_events_status; }
        location = /status-then-off { tailor_status; tailor off; }
        location = /on-then-status { tailor on; tailor_status; }
    }
"""


def requests_total(nginx):
    return metric(parse_metrics(nginx.get("/tailor-status").text), "tailor_requests_total")


@pytest.fixture
def site(nginx, redis, keys):
    nginx.write_file("html/index.html", scenario.PAGE)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path)
    nginx.start()
    return nginx


@pytest.mark.parametrize("uri", ["/tailor-status", "/events-status", "/status-then-off",
                                 "/on-then-status"])
def test_a_scrape_is_not_a_visit(site, uri):
    before = requests_total(site)
    for _ in range(3):
        r = site.get(uri)
        assert r.status == 200, r
        assert not r.header_all("Set-Cookie"), "%s minted a visitor id" % uri
    # the first read of the counters was a scrape too
    assert requests_total(site) == before


def test_the_pages_beside_them_are_still_personalized(site):
    before = requests_total(site)
    r = site.get("/index.html")
    assert r.status == 200
    assert scenario.set_cookies(r), "a new visitor on a page gets an id"
    assert requests_total(site) == before + 1
