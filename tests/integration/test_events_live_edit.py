# A returning visitor's live map is edited in nginx and stored by compare-and-set: the
# request's read of the map travels with its events, LiveBatch applies them to it
# (LiveMapEdit), and the live script stores that edit when the stored map is still the one
# read. Real nginx and redis-server: the counters say the edits were sent and taken, and the map
# holds what the script's own edits would have left (the views newest first, last_seen moved).
# A map another writer changed (its revision moved on) since the request read it is edited by
# the script itself.

from env import module_has, wait_for
from msgpack_codec import msgpack_unpack
from scenario import cookie_header
from test_events import counter, events_metrics, start
from visitor import new_vid

import pytest

if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)


def flushed(nginx, before):
    """Waits until the events emitted since `before` (a metrics dict) are all flushed."""
    def done():
        m = events_metrics(nginx)
        emitted = counter(m, "tailor_events_emitted_total")
        if (emitted > counter(before, "tailor_events_emitted_total")
                and counter(m, "tailor_events_flushed_total") == emitted):
            return m
        return None
    return wait_for(done, 10, "events flushed")


def view(nginx, cookie, sku):
    m = events_metrics(nginx)
    r = nginx.get("/product.html?sku=%s&price=9.50&cat=coffee" % sku, headers=cookie)
    assert r.status == 200, r
    return flushed(nginx, m)


def live_map(redis, vid):
    return msgpack_unpack(redis.get("tailor:{%s}:live" % vid))


def test_a_returning_visitors_views_go_through_nginxs_edit(nginx, redis, keys, sign):
    vid = new_vid()
    cookie = cookie_header("tailor_vid", sign(vid))
    start(nginx, redis, keys)
    skus = ["S%d" % i for i in range(25)]
    for sku in skus:
        m = view(nginx, cookie, sku)
    sent = counter(m, "tailor_events_live_edits_sent_total")
    taken = counter(m, "tailor_events_live_edits_taken_total")
    # the first view writes the map, the second lays it out for edits; each later one is
    # edited in nginx (a new visit would not be, but the views are seconds apart)
    assert sent >= len(skus) - 2, m
    assert taken == sent, "nothing else wrote the map: every compare-and-set succeeded"
    live = live_map(redis, vid)
    assert [v["sku"] for v in live["viewed"]] == list(reversed(skus))[:20]
    assert all(v["price"] == 950 and v["category"] == "coffee" for v in live["viewed"])
    assert live["last_seen"] >= live["first_seen"] > 0
    assert live["visits"] == 1
    assert live["rev"] == len(skus), "each view wrote the map once, and moved its revision on"
    assert redis.command("TTL", "tailor:{%s}:live" % vid) > 89 * 86400


def test_a_map_changed_behind_nginxs_back_is_edited_by_the_script(nginx, redis, keys, sign):
    """A flush interval of 1.5 s leaves time, after a view's response and before its batch, to
    change the map the request read, as another worker's batch would."""
    vid = new_vid()
    cookie = cookie_header("tailor_vid", sign(vid))
    start(nginx, redis, keys, interval="1500ms")
    for sku in ("A", "B", "C"):
        m = view(nginx, cookie, sku)
    sent = counter(m, "tailor_events_live_edits_sent_total")
    taken = counter(m, "tailor_events_live_edits_taken_total")
    assert taken == sent >= 1, m

    key = "tailor:{%s}:live" % vid
    r = nginx.get("/product.html?sku=D&price=9.50&cat=coffee", headers=cookie)
    assert r.status == 200, r
    # another writer's map: visits changed, and its revision moved on, as every writer's does
    stored = redis.get(key)
    assert stored[3:8] == b"\xa3rev\xce" and stored.count(b"\xa6visits\x01") == 1
    rev = int.from_bytes(stored[8:12], "big")
    changed = stored[:8] + (rev + 1).to_bytes(4, "big") + stored[12:]
    redis.command("SET", key, changed.replace(b"\xa6visits\x01", b"\xa6visits\x02"))
    m = flushed(nginx, m)

    assert counter(m, "tailor_events_live_edits_sent_total") == sent + 1
    assert counter(m, "tailor_events_live_edits_taken_total") == taken, "the read was stale"
    live = live_map(redis, vid)
    assert live["visits"] == 2, "the script edited the map as stored, not as read"
    assert [v["sku"] for v in live["viewed"]] == ["D", "C", "B", "A"]
