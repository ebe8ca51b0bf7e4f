# Whatever a Redis server (or something pretending to be one) sends, no worker crashes or
# stalls, and one visitor's data does not hurt another's page (issue 11, items 11-13).
#
# A crashed worker is seen in error.log ("exited on signal", which the master writes at
# [alert]) and in /proc (the worker pids change, or one is a zombie); a stalled one is seen
# from the hostile server's side: nginx keeps reading a reply it should have refused.
# Timings only bound how long a test waits.

from concurrent.futures import ThreadPoolExecutor

import pytest

from env import IO_TIMEOUT, wait_for
from tcp_server import TcpServer
from visitor import new_vid, profile_key
import scenario
from scenario import PAGE, cookie_header


EVENTS = """tailor_events on;
    tailor_events_flush_interval 5ms;"""


class Hostile(TcpServer):
    """A TCP server on a free loopback port that runs `behaviour(conn, server)` for every
    connection it accepts. `closed` counts connections the peer (nginx) closed or reset;
    `sent` the bytes written to each connection, in accept order."""

    def __init__(self, behaviour):
        super().__init__()
        self.behaviour = behaviour
        self.closed = 0
        self.sent = []

    def _accepted(self, idx):
        self.sent.append(0)

    def send(self, s, idx, data):
        s.sendall(data)
        with self._lock:
            self.sent[idx] += len(data)

    def _serve(self, s, idx):
        try:
            self.behaviour(self, s, idx)
        except OSError:
            with self._lock:
                self.closed += 1
            return
        finally:
            try:
                s.close()
            except OSError:
                pass

    def peer_closed(self):
        with self._lock:
            self.closed += 1


def read_commands(s):
    """One read of what nginx sent; None when nginx closed the connection."""
    data = s.recv(65536)
    return data or None


def unsolicited(server, s, idx):
    # a reply before anything was asked, then one more reply than commands each time
    server.send(s, idx, b":1\r\n")
    while True:
        data = read_commands(s)
        if data is None:
            server.peer_closed()
            return
        n = data.count(b"*") + 1
        server.send(s, idx, b":1\r\n" * n)


def error_greeting(server, s, idx):
    # what a Redis at maxclients says to a new connection, then it hangs up
    server.send(s, idx, b"-ERR max number of clients reached\r\n")
    while read_commands(s) is not None:
        pass
    server.peer_closed()


def wrong_types(server, s, idx):
    # every read answered with an integer, a nested array and a status, in turn; some are
    # replies to commands, the rest arrive unasked
    replies = [b":42\r\n", b"*2\r\n*1\r\n:1\r\n$-1\r\n", b"+OK\r\n", b"*1\r\n*1\r\n*1\r\n:1\r\n"]
    i = 0
    while True:
        data = read_commands(s)
        if data is None:
            server.peer_closed()
            return
        out = b""
        for _ in range(data.count(b"*") + 1):
            out += replies[i % len(replies)]
            i += 1
        server.send(s, idx, out)


HUGE_LIMIT = 64 * 1024 * 1024


def huge_array(server, s, idx):
    # `*2147483647` and then elements as fast as the peer takes them
    if read_commands(s) is None:
        server.peer_closed()
        return
    server.send(s, idx, b"*2147483647\r\n")
    chunk = b":1\r\n" * 16384
    while server.sent[idx] < HUGE_LIMIT:
        server.send(s, idx, chunk)
    # the peer read 64 MB of one reply and did not hang up: stay open, quiet
    while read_commands(s) is not None:
        pass
    server.peer_closed()


def deep_array(server, s, idx):
    # nesting past what any reply of ours has
    while True:
        data = read_commands(s)
        if data is None:
            server.peer_closed()
            return
        out = b""
        for _ in range(data.count(b"*") + 1):
            out += b"*1\r\n" * 7 + b":1\r\n"
        server.send(s, idx, out)


@pytest.fixture
def hostile():
    started = []

    def make(behaviour):
        h = Hostile(behaviour).start()
        started.append(h)
        return h

    yield make
    for h in started:
        h.stop()


def proc_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    return st[st.rindex(")") + 2]


def assert_workers_survived(nginx, before):
    log = nginx.read_log()
    assert "exited on signal" not in log, nginx.log_tail()
    assert nginx.workers() == before, "workers %s became %s" % (before, nginx.workers())
    for pid in before:
        assert proc_state(pid) in "RS", "worker %d is in state %s" % (pid, proc_state(pid))


def start(nginx, address, keys, events=True):
    scenario.start_shop(nginx, redis=address, keys=keys.path, timeout="50ms",
                        http_extra=EVENTS if events else "")


def drive(nginx, sign, n=30):
    """Personalizable page views (profile reads, events): each gets the default page."""
    vid = new_vid()
    cookie = sign(vid)
    for _ in range(n):
        r = nginx.get("/index.html", headers=cookie_header("tailor_vid", cookie))
        assert r.status == 200 and r.body == PAGE
    return vid


@pytest.mark.parametrize("behaviour,logged", [
    (unsolicited, "reply refused: a reply no command waits for"),
    (wrong_types, "reply refused: a reply no command waits for"),
    (deep_array, "reply refused: arrays nested too deep"),
    (error_greeting, "connection lost: ERR max number of clients reached"),
], ids=["unsolicited", "wrong-types", "deep-array", "error-greeting"])
def test_replies_nobody_asked_for_or_of_the_wrong_type_crash_no_worker(nginx_factory, hostile,
                                                                       keys, sign, behaviour,
                                                                       logged):
    """Item 11: hiredis 0.14 asserts on a reply with no command waiting for it."""
    server = hostile(behaviour)
    nginx = nginx_factory(worker_processes=2)
    start(nginx, server.address, keys)
    before = nginx.workers()
    wait_for(lambda: server.connections >= 4, IO_TIMEOUT,
                     "both workers' profile and events connections")
    drive(nginx, sign)
    # the module hung up on the liar and tried again
    wait_for(lambda: server.closed >= 2, IO_TIMEOUT, "connections closed by nginx")
    drive(nginx, sign, 5)
    assert_workers_survived(nginx, before)
    assert logged in nginx.read_log()


def test_a_declared_two_billion_element_array_is_refused_at_its_header(nginx, hostile, keys,
                                                                       sign):
    """Item 12: `*2147483647` kept workers parsing for seconds; the element count is capped, so
    the connection is dropped before the elements are read."""
    server = hostile(huge_array)
    start(nginx, server.address, keys, events=False)
    before = nginx.workers()
    wait_for(lambda: server.connections >= 1, IO_TIMEOUT, "the profile connection")
    vid = new_vid()
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200 and r.body == PAGE
    wait_for(lambda: server.closed >= 1, 30, "nginx to hang up on the huge array")
    # nginx stopped reading at the header: what it took is what the socket buffers hold,
    # far from the 64 MB a worker parsing element by element would have swallowed
    assert server.sent[0] < HUGE_LIMIT // 2, server.sent
    r = nginx.get("/plain/index.html")
    assert r.status == 200
    assert_workers_survived(nginx, before)
    assert "reply refused: too many elements" in nginx.read_log()


SIXTEEN_MB = 16 * 1024 * 1024


def net_output_bytes(redis):
    info = redis.command("INFO", "stats").decode()
    for line in info.splitlines():
        if line.startswith("total_net_output_bytes:"):
            return int(line.split(":")[1])
    raise AssertionError("no total_net_output_bytes in INFO")


def test_an_oversize_profile_is_refused_without_fetching_it_or_hurting_others(nginx, redis,
                                                                              keys, sign):
    """Item 13: a 16 MB value went over max_reply and reset the shared connection, so other
    visitors got the default page while it reconnected."""
    big = new_vid()
    redis.set(profile_key(big), b"\x81" + b"x" * SIXTEEN_MB)
    others = [new_vid() for _ in range(8)]
    for i, vid in enumerate(others):
        scenario.seed(redis, vid, {"hero": "Hello %d" % i})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s")
    before = nginx.workers()

    sent = net_output_bytes(redis)
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(big)))
    assert r.status == 200 and r.body == PAGE
    assert scenario.last_outcome(nginx) == "bad-profile"
    assert net_output_bytes(redis) - sent < 1024 * 1024, "the oversize value was sent whole"

    # the big visitor in the middle of everyone else's traffic, on the one connection
    def page(vid):
        return vid, nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))

    crowd = (others + [big]) * 4
    with ThreadPoolExecutor(max_workers=9) as pool:
        results = list(pool.map(page, crowd))
    for vid, r in results:
        assert r.status == 200
        if vid == big:
            assert r.body == PAGE
        else:
            i = others.index(vid)
            assert ("Hello %d" % i).encode() in r.body, "visitor %d got the default page" % i

    m = scenario.status_metrics(nginx)
    assert m.get(("tailor_redis_reply_resets_total", ()), 0) == 0
    assert m.get(("tailor_redis_disconnects_total", ()), 0) == 0
    assert_workers_survived(nginx, before)
