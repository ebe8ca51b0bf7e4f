# A returning visitor's live map is edited in nginx and stored by compare-and-set: the
# request's read of the map travels with its events, LiveBatch applies them to it
# (LiveMapEdit), and the live script stores that edit when the stored map is still the one
# read. Real nginx and redis-server: the counters say the edits were sent and taken, and the map
# holds what the script's own edits would have left (the views newest first, last_seen moved).
# A map another writer changed (its revision moved on) since the request read it is edited as
# stored: by nginx again, under WATCH (tailor_events_watch on, the default), or by the script.

import struct
import time

from env import module_has, wait_for
from msgpack_codec import msgpack_pack, msgpack_unpack
from scenario import cookie_header
from test_events import PAGE, counter, events_metrics, start
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
    # the first write's revision is its time; each view wrote the map once and moved it on
    assert live["rev"] == live["first_seen"] + len(skus)
    assert redis.command("TTL", "tailor:{%s}:live" % vid) > 89 * 86400


@pytest.mark.parametrize("watch", ["on", "off"])
def test_a_map_changed_behind_nginxs_back_is_edited_as_stored(nginx, redis, keys, sign, watch):
    """A flush interval of 1.5 s leaves time, after a view's response and before its batch, to
    change the map the request read, as another worker's batch would. With tailor_events_watch
    on, nginx edits the stored map again under WATCH; off, the script edits it."""
    vid = new_vid()
    cookie = cookie_header("tailor_vid", sign(vid))
    start(nginx, redis, keys, interval="1500ms", extra="tailor_events_watch %s;" % watch)
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
    assert live["visits"] == 2, "the map was edited as stored, not as read"
    assert [v["sku"] for v in live["viewed"]] == ["D", "C", "B", "A"]
    watched = counter(m, "tailor_events_watched_batches_total")
    assert (watched >= 1) if watch == "on" else (watched == 0), m


def laid_out(t, viewed, cart):
    """A live map in the script's layout: header, rev, viewed, v, then first_seen, last_seen,
    visits, acquisition, and `cart` last (the keys after v come in cmsgpack's order)."""
    u32 = lambda x: b"\xce" + struct.pack(">I", x)
    out = b"\xde\x00\x08" + b"\xa3rev" + u32(t) + b"\xa6viewed" + msgpack_pack(viewed)
    out += b"\xa1v\x01" + b"\xaafirst_seen" + u32(t - 60) + b"\xa9last_seen" + u32(t)
    out += msgpack_pack("visits") + msgpack_pack(1) + msgpack_pack("acquisition") + b"\x80"
    return out + msgpack_pack("cart") + msgpack_pack(cart)


def test_a_map_cut_by_the_read_bound_is_never_stored_as_the_map(nginx, redis, keys, sign):
    """A map whose cart runs past tailor_max_profile: the read's GETRANGE brings back only its
    start, which holds everything a product view edits (the page gets the default, outcome
    bad-profile, and its events still go). nginx must not edit that start as if it were the
    map, or the script would store it, cart cut off: the events go without an edit, and the
    script edits the whole map."""
    vid = new_vid()
    cookie = cookie_header("tailor_vid", sign(vid))
    t = int(time.time()) - 5
    cart = [{"sku": "CART-LINE-%03d" % i, "qty": 1, "added_at": t - 30, "price": 1999}
            for i in range(40)]
    stored = laid_out(t, [{"sku": "OLD", "at": t - 10, "price": 950}], cart)
    bound = stored.index(b"\xa4cart") + 300  # the cut falls in the cart
    assert len(stored) > bound + 300
    start(nginx, redis, keys, extra="tailor_max_profile %d;" % bound)
    key = "tailor:{%s}:live" % vid
    redis.command("SET", key, stored)
    assert live_map(redis, vid)["cart"] == cart

    for sku in ("A", "B", "C"):
        m = view(nginx, cookie, sku)
    assert counter(m, "tailor_events_live_edits_sent_total") == 0, "every read was cut"
    live = live_map(redis, vid)
    assert [v["sku"] for v in live["viewed"]] == ["C", "B", "A", "OLD"]
    assert live["cart"] == cart


def test_a_login_takes_no_edit_from_the_anonymous_visitors_read(nginx, redis, keys, sign,
                                                                 backend):
    """The login response makes the request the known visitor's (Identify) after it read the
    anonymous visitor's map: the known visitor's page view must not carry that map's edit.
    One event a batch, so the Identify (which voids an edit) is not in the page view's batch."""
    known, anon = new_vid(), new_vid()
    b = backend(body=PAGE, chunk_size=4096, headers=[("X-Tailor-Identify", known)])
    start(nginx, redis, keys, backend=b.address, extra="tailor_events_batch 1;")
    anon_cookie = cookie_header("tailor_vid", sign(anon))
    for sku in ("A1", "A2", "A3"):
        m = view(nginx, anon_cookie, sku)
    assert counter(m, "tailor_events_live_edits_taken_total") >= 1, m
    sent = counter(m, "tailor_events_live_edits_sent_total")

    assert nginx.get("/up/login", headers=anon_cookie).status == 200
    m = flushed(nginx, m)
    assert counter(m, "tailor_events_emitted_total") >= 5  # the views, Identify, Page Viewed
    assert counter(m, "tailor_events_live_edits_sent_total") == sent
    live = live_map(redis, known)
    assert [v["sku"] for v in live["viewed"]] == ["A3", "A2", "A1"], "the merge, not an edit"
