# Different visitors on one HTTP/2 connection, as a CDN's edge multiplexes its clients'
# requests to the origin: each stream is its own request, with its own cookie, profile read
# and page, and nothing of one visitor reaches another's stream. Redis is paused
# (CLIENT PAUSE) while the streams arrive, so every one of them waits for its profile at once,
# parked in the access phase, and they are woken and answered together. (curl 7.88 does not
# multiplex h2c reliably; the streams are driven with python3-h2.)

import socket

import pytest

import scenario
from env import IO_TIMEOUT
from scenario import PAGE, cookie_header
from visitor import new_vid

h2_connection = pytest.importorskip("h2.connection", reason="needs python3-h2")
h2_config = pytest.importorskip("h2.config")
h2_events = pytest.importorskip("h2.events")

SITE = """
    tailor_redis {{REDIS}} connect_timeout=100ms;
    tailor_keys {{KEYS}};

    server {
        listen 127.0.0.1:{{PORT}} http2;
        root html;

        location / {
            tailor on;
            tailor_timeout 3s;
        }
    }
"""

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"


def fetch_multiplexed(port, requests):
    """Sends every (path, headers) of `requests` as its own stream on one h2c connection
    before reading anything; returns [(status, headers, body)] in the requests' order."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    conn = h2_connection.H2Connection(
        h2_config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    streams = []
    for path, headers in requests:
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, [(":method", "GET"), (":path", path), (":scheme", "http"),
                                (":authority", "localhost"), ("user-agent", UA)] + headers,
                          end_stream=True)
        streams.append(sid)
    sock.sendall(conn.data_to_send())

    got = {sid: {"status": None, "headers": [], "body": b"", "done": False} for sid in streams}
    try:
        while not all(s["done"] for s in got.values()):
            data = sock.recv(65536)
            assert data, "the connection closed with streams open: %r" % got
            for ev in conn.receive_data(data):
                if isinstance(ev, h2_events.ResponseReceived):
                    got[ev.stream_id]["headers"] = ev.headers
                    got[ev.stream_id]["status"] = int(dict(ev.headers)[":status"])
                elif isinstance(ev, h2_events.DataReceived):
                    got[ev.stream_id]["body"] += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2_events.StreamEnded):
                    got[ev.stream_id]["done"] = True
                elif isinstance(ev, h2_events.StreamReset):
                    raise AssertionError("stream %d reset: %r" % (ev.stream_id, ev))
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()
    return [(got[s]["status"], got[s]["headers"], got[s]["body"]) for s in streams]


def header_values(headers, name):
    return [v for k, v in headers if k == name]


@pytest.fixture
def site(nginx, redis, keys):
    nginx.write_file("html/index.html", PAGE)
    nginx.write(SITE, REDIS=redis.address, KEYS=keys.path)
    nginx.start()
    return nginx


def test_visitors_multiplexed_on_one_connection_each_get_their_own_page(site, redis, sign):
    vids = [new_vid() for _ in range(12)]
    for i, vid in enumerate(vids):
        scenario.seed(redis, vid, {"hero": "Hi visitor %02d" % i})
    requests = []
    for vid in vids:
        cookie = cookie_header("tailor_vid", sign(vid))["Cookie"]
        requests.append(("/index.html", [("cookie", cookie)]))
    requests.insert(4, ("/index.html", []))  # two new visitors among them
    requests.insert(9, ("/index.html", []))

    for paused in (True, False):
        if paused:
            # every stream's profile read waits: they are all parked at once
            assert redis.command("CLIENT", "PAUSE", "400", "ALL") in ("OK", b"OK")
        answers = fetch_multiplexed(site.port, requests)

        known = [a for (_, h), a in zip(requests, answers) if h]
        new = [a for (_, h), a in zip(requests, answers) if not h]
        for i, (status, headers, body) in enumerate(known):
            assert status == 200, (i, status)
            mine = b"Hi visitor %02d" % i
            assert mine in body, (i, body[:400])
            assert body.count(b"Hi visitor") == 1, "only this visitor's fill: %r" % body[:400]
            assert body.endswith(PAGE[-20:]), "whole: %r" % body[-60:]
            assert header_values(headers, "cache-control") == ["private"], headers
            assert header_values(headers, "set-cookie") == [], headers
        minted = []
        for status, headers, body in new:
            assert status == 200
            assert b"Welcome, shopper" in body and b"Hi visitor" not in body
            cookies = header_values(headers, "set-cookie")
            assert len(cookies) == 1 and cookies[0].startswith("tailor_vid="), headers
            minted.append(cookies[0].split(";")[0])
        assert len(set(minted)) == 2, "each new visitor its own id: %r" % minted
