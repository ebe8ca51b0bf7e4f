# Per-client limits (issue 14, item 3): one client cannot make the module mint
# ids or write beacons without bound by dropping its cookie each time. A
# tailor_limit_zone lives in shared memory, so the limit holds whichever
# worker a connection lands on (two workers, reuseport spreads the
# connections). The client is $remote_addr as realip sets it, so tests speak
# for many clients through X-Forwarded-For from 127.0.0.1.

import time

import pytest

from env import IO_TIMEOUT, VALGRIND, module_has, not_under_valgrind, wait_for
from metrics_text import metric
from msgpack_codec import msgpack_unpack
from visitor import new_vid
import scenario
from scenario import DEFAULT_HERO, PAGE
from test_metrics_families import families
from test_popups import offered

if not module_has("tailor_limit_zone"):
    pytest.skip("module built without tailor_limit_zone", allow_module_level=True)

BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0 Safari/537.36")

POPUP_PACK = """\
local t = require "tailor"
t.popup "browse-help" {
  trigger = t.linger(20), intent = "browse",
  html = [[<p>Need a hand?</p>]],
  caps = { per_visit = false, per_day = false, cooldown_hours = false,
           stop_after_conversion = false },
}
"""

REALIP = """
    set_real_ip_from 127.0.0.1;
    real_ip_header   X-Forwarded-For;
    log_format limits '$pid $remote_addr $status $tailor_status [$tailor_vid]';
"""


def start(nginx, redis, keys, zones, uses, events=False, beacon=False):
    """A shop whose / location logs "$pid $remote_addr $status $tailor_status [$tailor_vid]"
    to logs/limits.log; `zones` and `uses` are http-level directives."""
    nginx.write_file("html/index.html", PAGE)
    extra = REALIP + zones + uses
    if events:
        extra += ("\n    tailor_events on;\n    tailor_events_stream tailor:events;"
                  "\n    tailor_events_flush_interval 5ms;")
    if beacon:
        nginx.write_file("rules.lua", POPUP_PACK.encode())
        extra += "\n    tailor_rules %s;" % nginx.path("rules.lua")
    http = scenario.tailor_http(redis=redis.address, keys=keys.path, http_extra=extra,
                                location_extra="access_log logs/limits.log limits;")
    # reuseport: each worker has its own socket, the kernel spreads connections
    http = http.replace("listen 127.0.0.1:{{PORT}};", "listen 127.0.0.1:{{PORT}} reuseport;")
    if beacon:
        http = http.replace(
            "        location /plain/ {",
            "        location = /tailor/beacon { tailor_popup_beacon rate=1000r/m timeout=%s; }"
            "\n        location /plain/ {" % ("30s" if VALGRIND else "5s"), 1)
    nginx.write(http)
    nginx.start()
    return nginx


def page(nginx, client, cookie=None):
    headers = {"User-Agent": BROWSER, "X-Forwarded-For": client}
    if cookie:
        headers["Cookie"] = "tailor_vid=" + cookie
    r = nginx.get("/index.html", headers=headers)
    assert r.status == 200, r
    assert DEFAULT_HERO in r.body
    return r


def minted(r):
    return [c for c in scenario.set_cookies(r)]


def log_lines(nginx, n):
    def enough():
        lines = nginx.read_log("limits.log").splitlines()
        return lines if len(lines) >= n else None
    return [line.split(" ", 4) for line in wait_for(enough, IO_TIMEOUT, "%d log lines" % n)]


def allowed(burst, per_second, started):
    """What a GCRA zone may pass to one client since `started`: burst + 1 at
    once, then one per interval."""
    return 1 + burst + int((time.monotonic() - started) * per_second)


def status(nginx):
    return scenario.status_metrics(nginx)


# ---------------------------------------------------------------------------
# new ids

def test_one_client_mints_at_most_burst_plus_rate_ids_across_workers(nginx_factory, redis,
                                                                     keys):
    nginx = nginx_factory(worker_processes=2)
    start(nginx, redis, keys, zones="tailor_limit_zone ids:1m rate=1r/m burst=4;",
          uses="tailor_limit_new_ids ids;", events=True)
    started = time.monotonic()
    ids = sum(len(minted(page(nginx, "192.0.2.10"))) for _ in range(40))
    assert 5 <= ids <= allowed(4, 1 / 60, started), ids

    lines = log_lines(nginx, 40)
    if not VALGRIND:
        assert len({pid for pid, *_ in lines}) == 2, "both workers served the client"
    outcomes = [outcome for _, _, _, outcome, _ in lines]
    assert outcomes.count("new") == ids
    assert outcomes.count("limited") == 40 - ids
    assert all(vid.strip() in ("[]", "[-]")
               for _, _, _, outcome, vid in lines if outcome == "limited"), "no id"

    # another client is not held back by the first one's budget
    assert minted(page(nginx, "192.0.2.11")), "a second client gets an id"

    m = status(nginx)
    assert metric(m, "tailor_limit_rejected_total", zone="ids", use="new_id") == 40 - ids
    assert metric(m, "tailor_limit_passed_total", zone="ids", use="new_id") == ids + 1
    assert metric(m, "tailor_outcomes_total", outcome="limited") == 40 - ids
    assert metric(m, "tailor_limit_clients", zone="ids") == 2
    fam, problems = families(nginx.get("/tailor-status").text)
    assert not problems, problems
    for name in ("tailor_limit_passed_total", "tailor_limit_rejected_total",
                 "tailor_limit_evicted_total", "tailor_limit_clients"):
        assert fam[name]["help"] == 1 and fam[name]["samples"] >= 1, name
    time.sleep(0.3)  # the events flush interval is 5 ms
    assert redis.command("DBSIZE") == 0, "a limited page writes nothing (nor a minted one)"
    # logged, at most once per clock second per worker: t seconds of requests
    # span at most int(t) + 2 clock seconds (0.3 s can straddle a second's turn)
    logged = nginx.read_log().count("limiting new visitor ids by zone \"ids\"")
    assert 1 <= logged <= 2 * (2 + int(time.monotonic() - started)), logged


def test_a_known_visitor_is_never_limited(nginx, redis, keys, sign):
    start(nginx, redis, keys, zones="tailor_limit_zone ids:1m rate=1r/m burst=0;",
          uses="tailor_limit_new_ids ids;")
    assert minted(page(nginx, "192.0.2.20"))
    assert not minted(page(nginx, "192.0.2.20")), "over the limit"
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    r = nginx.get("/index.html", headers={"User-Agent": BROWSER, "X-Forwarded-For": "192.0.2.20",
                                          "Cookie": "tailor_vid=" + sign(vid)})
    assert b"Hi Ann" in r.body, "the limit is on minting ids, not on visitors"


def test_after_the_window_the_client_gets_ids_again(nginx, redis, keys):
    start(nginx, redis, keys, zones="tailor_limit_zone ids:1m rate=2r/s burst=1;",
          uses="tailor_limit_new_ids ids;")
    started = time.monotonic()
    ids = sum(len(minted(page(nginx, "192.0.2.30"))) for _ in range(10))
    assert 2 <= ids <= allowed(1, 2, started)
    time.sleep(1.1)  # two intervals: the bucket has drained
    assert minted(page(nginx, "192.0.2.30")), "an id again after the window"


def test_an_ipv6_client_is_limited_by_its_slash_64(nginx, redis, keys):
    start(nginx, redis, keys, zones="tailor_limit_zone ids:1m rate=1r/m burst=1;",
          uses="tailor_limit_new_ids ids;")
    # every address of one /64: one client
    ids = sum(len(minted(page(nginx, "2001:db8:1:2::%x" % n))) for n in range(1, 9))
    assert ids == 2
    assert minted(page(nginx, "2001:db8:1:3::1")), "the next /64 is another client"
    # an IPv4-mapped address is its IPv4 client
    assert minted(page(nginx, "192.0.2.40"))
    assert minted(page(nginx, "::ffff:192.0.2.40"))
    assert not minted(page(nginx, "::ffff:192.0.2.40"))


def test_without_a_zone_nothing_is_limited(nginx, redis, keys):
    start(nginx, redis, keys, zones="tailor_limit_zone ids:1m rate=1r/m burst=0;",
          uses="")
    assert all(minted(page(nginx, "192.0.2.50")) for _ in range(5))
    m = status(nginx)
    assert metric(m, "tailor_limit_passed_total", zone="ids") == 0


def test_a_dry_run_zone_counts_and_logs_but_refuses_nothing(nginx, redis, keys, sign):
    start(nginx, redis, keys, zones="tailor_limit_zone ids:1m rate=1r/m burst=1 dry_run;",
          uses="tailor_limit_new_ids ids;\n    tailor_limit_beacon ids;", beacon=True)
    assert all(minted(page(nginx, "192.0.2.90")) for _ in range(5))
    assert beacon(nginx, keys, "192.0.2.90", sign(new_vid())).status == 204
    m = status(nginx)
    assert metric(m, "tailor_limit_rejected_total", zone="ids", use="new_id") == 3
    assert metric(m, "tailor_limit_rejected_total", zone="ids", use="beacon") == 1
    assert metric(m, "tailor_popup_beacons_limited_total") == 0
    assert metric(m, "tailor_outcomes_total", outcome="limited") == 0
    assert "dry run: let through" in nginx.read_log()


@not_under_valgrind()
def test_a_reload_keeps_the_clients_buckets(nginx, redis, keys):
    start(nginx, redis, keys, zones="tailor_limit_zone ids:1m rate=1r/m burst=1;",
          uses="tailor_limit_new_ids ids;")
    assert sum(len(minted(page(nginx, "192.0.2.60"))) for _ in range(4)) == 2
    nginx.reload()
    assert not minted(page(nginx, "192.0.2.60")), "still over the limit after a reload"
    assert metric(status(nginx), "tailor_limit_rejected_total", zone="ids") == 3


def test_a_full_zone_forgets_its_oldest_clients_and_stays_bounded(nginx, redis, keys):
    # the smallest zone, 8 pages: it holds a few hundred clients
    start(nginx, redis, keys, zones="tailor_limit_zone ids:32k rate=1r/m burst=0;",
          uses="tailor_limit_new_ids ids;")
    n = 600
    for i in range(n):
        page(nginx, "10.%d.%d.1" % (i // 256, i % 256))
    m = status(nginx)
    clients = metric(m, "tailor_limit_clients", zone="ids")
    evicted = metric(m, "tailor_limit_evicted_total", zone="ids")
    assert 0 < clients < n
    assert evicted == n - clients, "every client beyond the zone's room pushed out the oldest"
    # the newest client is still remembered
    assert not minted(page(nginx, "10.%d.%d.1" % ((n - 1) // 256, (n - 1) % 256)))


# ---------------------------------------------------------------------------
# beacons

def beacon(nginx, keys, client, cookie):
    """A close of `browse-help` with the token a page would have given it."""
    return nginx.get("/tailor/beacon?" + offered(keys, cookie, "e=close&p=browse-help"),
                     method="POST",
                     headers={"User-Agent": BROWSER, "X-Forwarded-For": client,
                              "Sec-Fetch-Site": "same-origin", "Cookie": "tailor_vid=" + cookie})


def stream_vids(redis):
    vids = set()
    for _, kv in redis.command("XRANGE", "tailor:events", "-", "+"):
        fields = {kv[i].decode(): kv[i + 1] for i in range(0, len(kv), 2)}
        vids.add(msgpack_unpack(fields["e"])["vid"])
    return vids


def test_beacons_over_the_limit_get_429_and_write_nothing(nginx_factory, redis, keys, sign):
    nginx = nginx_factory(worker_processes=2)
    start(nginx, redis, keys, zones="tailor_limit_zone beacons:1m rate=1r/m burst=2;",
          uses="tailor_limit_beacon beacons;", events=True, beacon=True)
    started = time.monotonic()
    # a fresh signed id per beacon: the per-visitor rate never applies
    vids = [new_vid() for _ in range(12)]
    answers = [beacon(nginx, keys, "192.0.2.70", sign(v)).status for v in vids]
    recorded = [v for v, s in zip(vids, answers) if s == 204]
    refused = [v for v, s in zip(vids, answers) if s == 429]
    assert len(recorded) + len(refused) == len(vids), answers
    assert 3 <= len(recorded) <= allowed(2, 1 / 60, started), answers

    other = new_vid()
    assert beacon(nginx, keys, "192.0.2.71", sign(other)).status == 204, "another client"

    wait_for(lambda: stream_vids(redis) >= set(recorded) | {other} or None, IO_TIMEOUT,
             "the recorded beacons' events")
    for v in refused:
        assert redis.command("KEYS", "tailor:{%s}:*" % v) == [], v
    assert not stream_vids(redis) & set(refused), "no event for a refused beacon"
    for v in recorded:
        assert redis.command("EXISTS", "tailor:{%s}:caps" % v) == 1

    m = status(nginx)
    assert metric(m, "tailor_limit_rejected_total", zone="beacons", use="beacon") == len(refused)
    assert metric(m, "tailor_popup_beacons_limited_total") == len(refused)
    assert "limiting pop-up beacons by zone \"beacons\"" in nginx.read_log()


def test_one_zone_can_hold_both_ids_and_beacons(nginx, redis, keys, sign):
    start(nginx, redis, keys, zones="tailor_limit_zone client:1m rate=1r/m burst=1;",
          uses="tailor_limit_new_ids client;\n    tailor_limit_beacon client;", beacon=True)
    assert minted(page(nginx, "192.0.2.80"))
    assert beacon(nginx, keys, "192.0.2.80", sign(new_vid())).status == 204
    assert beacon(nginx, keys, "192.0.2.80", sign(new_vid())).status == 429
    assert not minted(page(nginx, "192.0.2.80")), "one budget for both"


# ---------------------------------------------------------------------------
# configuration

def conf(nginx, redis, keys, zones, uses):
    http = scenario.tailor_http(redis=redis.address, keys=keys.path, http_extra=zones,
                                location_extra=uses)
    nginx.write(http)


@pytest.mark.parametrize("zones,uses,needle,reason", [
    ("", "tailor_limit_new_ids nowhere;", "tailor_limit_new_ids",
     'unknown tailor_limit_zone "nowhere"'),
    ("tailor_limit_zone a:1m rate=1r/m;", "tailor_limit_beacon b;", "tailor_limit_beacon",
     'unknown tailor_limit_zone "b"'),
    ("tailor_limit_zone ids:1m;", "", "tailor_limit_zone", "needs rate="),
    ("tailor_limit_zone ids:1m rate=10;", "", "tailor_limit_zone", "invalid rate"),
    ("tailor_limit_zone ids:1m rate=0r/s;", "", "tailor_limit_zone", "invalid rate"),
    ("tailor_limit_zone ids:1m rate=10r/h;", "", "tailor_limit_zone", "invalid rate"),
    ("tailor_limit_zone ids:1m rate=1r/s burst=-1;", "", "tailor_limit_zone", "invalid burst"),
    ("tailor_limit_zone ids:1m rate=1r/s delay=2;", "", "tailor_limit_zone",
     "invalid parameter"),
    ("tailor_limit_zone ids rate=1r/s;", "", "tailor_limit_zone", "expected name:size"),
    ("tailor_limit_zone ids:lots rate=1r/s;", "", "tailor_limit_zone", "invalid zone size"),
    ("tailor_limit_zone ids:4k rate=1r/s;", "", "tailor_limit_zone", "is too small"),
    ("tailor_limit_zone i.d:1m rate=1r/s;", "", "tailor_limit_zone", "invalid zone name"),
    ("tailor_limit_zone ids:1m rate=1r/s;\n    tailor_limit_zone ids:1m rate=2r/s;", "",
     "rate=2r/s", 'duplicate tailor_limit_zone "ids"'),
    ("tailor_limit_zone ids:1m rate=1r/s;", "tailor_limit_new_ids ids; tailor_limit_new_ids off;",
     "tailor_limit_new_ids", "is duplicate"),
])
def test_nginx_t_names_the_line_of_a_bad_limit(nginx, redis, keys, zones, uses, needle, reason):
    conf(nginx, redis, keys, zones, uses)
    rc, out = nginx.test_config()
    assert rc != 0, out
    assert reason in out, out
    # the test's temp dir, in paths of the conf, is named after its parameters
    assert "nginx.conf:%d" % nginx.line_of(" " + needle) in out, out


def test_a_zone_may_be_named_before_it_is_defined(nginx, redis, keys):
    conf(nginx, redis, keys, "tailor_limit_new_ids later;\n    "
         "tailor_limit_zone later:1m rate=5r/s burst=10;", "tailor_limit_new_ids off;")
    rc, out = nginx.test_config()
    assert rc == 0, out
