# The pop-up token: the beacon records caps and events only for a pop-up the
# module offered to this very visitor, recently, and each token counts once
# per kind (docs/popups.md, "The token"). Everything else it refuses without
# writing one key in Redis: no caps, no rate window. Real nginx, real
# redis-server; tokens are either read from the page, as the runtime does, or
# minted with the test's key file to make the bad ones.

import base64
import json
import re
import time

from env import IO_TIMEOUT, wait_for
from msgpack_codec import msgpack_pack, msgpack_unpack
from scenario import BROWSER
from tailorctl import KeyFile
from test_popups import (DIRECTIVES, beacon, caps, counter, offered, page, page_token, popup_ids,
                         popup_token, seed_cart, start)
from visitor import new_vid

CART = "e=impression&p=cart-rescue"


def keys_of(redis, vid):
    return sorted(k.decode() for k in redis.command("KEYS", "tailor:{%s}:*" % vid))


def refused(nginx):
    return counter(nginx, "tailor_popup_beacons_rejected_total")


def recorded(nginx):
    return counter(nginx, "tailor_popup_beacons_recorded_total")


def promotions(redis):
    out = []
    for _, kv in redis.command("XRANGE", "tailor:events", "-", "+"):
        fields = {kv[i].decode(): kv[i + 1] for i in range(0, len(kv), 2)}
        e = msgpack_unpack(fields["e"])
        if e["type"].startswith("Promotion"):
            out.append(e)
    return out


# ---------------------------------------------------------------------------
# what the page carries

def test_the_offered_popup_carries_a_token_for_this_visitor_and_popup(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    cookie = sign(vid)
    r1, r2 = page(nginx, cookie), page(nginx, cookie)
    t1, t2 = page_token(r1, "cart-rescue"), page_token(r2, "cart-rescue")
    assert t1 and t2, r1.body[-600:]
    assert re.fullmatch(r"k1\.[0-9a-f]{8}[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{22}", t1), t1
    assert t1 != t2, "each page view gets its own token"
    now = int(time.time())
    assert abs(int(t1[3:11], 16) - now) <= 5, "stamped with the time of the page view"
    # the token is the one the documented recipe makes for this visitor and pop-up
    nonce = base64.urlsafe_b64decode(t1[11:22] + "=")
    assert popup_token(keys, vid, "cart-rescue", issued_at=int(t1[3:11], 16), nonce=nonce) == t1
    assert popup_token(keys, new_vid(), "cart-rescue", issued_at=int(t1[3:11], 16),
                       nonce=nonce) != t1


def test_new_visitors_sharing_a_decision_each_get_their_own_token(nginx, redis, keys):
    # cookie-less page views with the same facts share one memoized decision;
    # the token is added after it, per visitor
    start(nginx, redis, keys)
    seen = []
    for _ in range(3):
        r = nginx.get("/index.html", headers={"User-Agent": BROWSER})
        assert r.status == 200
        assert popup_ids(r) == [b"browse-help"], r.body[-400:]
        cookie = re.match(r"tailor_vid=([^;]+)", r.header("Set-Cookie")).group(1)
        seen.append((cookie, page_token(r, "browse-help")))
    assert len({t for _, t in seen}) == 3
    (a, ta), (b, tb) = seen[0], seen[1]
    # a's token is good for a only: b cannot report with it
    assert beacon(nginx, b, "e=impression&p=browse-help&t=" + ta).status == 403
    assert caps(redis, b.split(".")[0]) is None
    assert beacon(nginx, a, "e=impression&p=browse-help&t=" + ta).status == 204
    assert caps(redis, a.split(".")[0])["p"]["browse-help"]["imp"]
    assert beacon(nginx, b, "e=impression&p=browse-help&t=" + tb).status == 204


# ---------------------------------------------------------------------------
# the real flow still records; offered but never shown writes nothing

def test_offered_and_shown_is_recorded_with_the_pages_token(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, events=True)
    cookie = sign(vid)
    t = page_token(page(nginx, cookie), "cart-rescue")
    assert beacon(nginx, cookie, CART + "&t=" + t).status == 204
    assert beacon(nginx, cookie, "e=close&p=cart-rescue&t=" + t).status == 204
    rec = caps(redis, vid)["p"]["cart-rescue"]
    assert len(rec["imp"]) == 1 and rec["close"] > 0
    assert popup_ids(page(nginx, cookie)) != [b"cart-rescue"], "capped on the next page"
    events = wait_for(lambda: promotions(redis) if len(promotions(redis)) >= 2 else None,
                      IO_TIMEOUT, "two promotion events")
    assert [e["type"] for e in events] == ["Promotion Viewed", "Promotion Closed"]


def test_a_page_that_offered_a_popup_never_shown_writes_no_caps(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, events=True)
    cookie = sign(vid)
    for _ in range(3):
        assert page_token(page(nginx, cookie), "cart-rescue")
    wait_for(lambda: redis.get("tailor:{%s}:live" % vid), IO_TIMEOUT, "the page views")
    assert "tailor:{%s}:caps" % vid not in keys_of(redis, vid)
    assert "tailor:{%s}:beacon" % vid not in keys_of(redis, vid)
    assert promotions(redis) == []
    # and the pop-up is still offered: nothing counted it
    assert popup_ids(page(nginx, cookie)) == [b"cart-rescue"]


# ---------------------------------------------------------------------------
# every bad token: refused, nothing written

def test_a_beacon_without_a_token_writes_nothing(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    cookie = sign(vid)
    # what the runtime before tokens sends
    for kind in ("impression", "close", "conversion"):
        assert beacon(nginx, cookie, "e=%s&p=cart-rescue" % kind).status == 400
    assert beacon(nginx, cookie, CART + "&t=").status == 400
    assert beacon(nginx, cookie, CART + "&t=k1.not-a-token").status == 400
    assert keys_of(redis, vid) == ["tailor:{%s}:profile" % vid], "no caps, no rate window"
    assert refused(nginx) == 5 and recorded(nginx) == 0
    assert popup_ids(page(nginx, cookie)) == [b"cart-rescue"]


def test_a_forged_token_writes_nothing(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    cookie = sign(vid)
    good = popup_token(keys, vid, "cart-rescue")
    forged = [
        good[:-4] + ("AAAA" if good[-4:] != "AAAA" else "BBBA"),           # another MAC
        good[:3] + "%08x" % (int(good[3:11], 16) + 1) + good[11:],          # a later time
        popup_token(KeyFile(nginx.path("other.keys")), vid, "cart-rescue"),  # another secret
    ]
    for t in forged:
        assert beacon(nginx, cookie, CART + "&t=" + t).status == 403, t
    assert keys_of(redis, vid) == ["tailor:{%s}:profile" % vid]
    assert refused(nginx) == 3


def test_another_visitors_token_writes_nothing(nginx, redis, keys, sign):
    mine, theirs = new_vid(), new_vid()
    seed_cart(redis, mine)
    seed_cart(redis, theirs)
    start(nginx, redis, keys)
    # their page's real token, sent with my cookie
    t = page_token(page(nginx, sign(theirs)), "cart-rescue")
    assert beacon(nginx, sign(mine), CART + "&t=" + t).status == 403
    assert keys_of(redis, mine) == ["tailor:{%s}:profile" % mine]
    assert keys_of(redis, theirs) == ["tailor:{%s}:profile" % theirs]
    # it was a good token, for them
    assert beacon(nginx, sign(theirs), CART + "&t=" + t).status == 204


def test_another_popups_token_writes_nothing(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    cookie = sign(vid)
    # the page offered cart-rescue; its token cannot report browse-help
    t = page_token(page(nginx, cookie), "cart-rescue")
    assert beacon(nginx, cookie, "e=impression&p=browse-help&t=" + t).status == 403
    assert beacon(nginx, cookie, "e=close&p=browse-help&t=" + t).status == 403
    assert keys_of(redis, vid) == ["tailor:{%s}:profile" % vid]


def test_an_expired_or_future_token_writes_nothing(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, beacon="rate=30r/m token_max_age=1h")
    cookie = sign(vid)
    now = int(time.time())
    for at in (now - 3600 - 60, now - 86400, now + 3600):
        assert beacon(nginx, cookie, offered(keys, cookie, CART, issued_at=at)).status == 403, at
    assert keys_of(redis, vid) == ["tailor:{%s}:profile" % vid]
    # within the hour it is good
    assert beacon(nginx, cookie, offered(keys, cookie, CART, issued_at=now - 3000)).status == 204


def test_a_token_under_a_retired_key_writes_nothing_a_listed_old_key_still_works(
        nginx, redis, workdir, sign):
    keys = KeyFile(workdir + "/rotating.keys")
    old_kid, old_secret = keys.keys[0]
    keys.keys = [("k2", KeyFile(workdir + "/new.keys").keys[0][1]), (old_kid, old_secret)]
    keys.write()
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    cookie = keys.sign(vid)
    # a page served before the rotation: its token is under the old key, still listed
    assert beacon(nginx, cookie, offered(keys, cookie, CART, kid=old_kid)).status == 204
    # pages now get tokens under the new key
    t = page_token(page(nginx, cookie), "cart-rescue")
    assert t and t.startswith("k2."), t
    retired = KeyFile(workdir + "/retired.keys", keys=[("k0", "ab" * 32)])
    r = beacon(nginx, cookie, offered(retired, cookie, "e=close&p=cart-rescue"))
    assert r.status == 403
    assert "close" not in caps(redis, vid)["p"]["cart-rescue"]


# ---------------------------------------------------------------------------
# each token counts once

def test_replaying_one_token_counts_once(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, beacon="rate=100r/m", events=True)
    cookie = sign(vid)
    t = "&t=" + page_token(page(nginx, cookie), "cart-rescue")
    assert beacon(nginx, cookie, CART + t).status == 204
    for _ in range(5):
        assert beacon(nginx, cookie, CART + t).status == 403
    assert len(caps(redis, vid)["p"]["cart-rescue"]["imp"]) == 1
    # the same token may still report the close, once
    assert beacon(nginx, cookie, "e=close&p=cart-rescue" + t).status == 204
    assert beacon(nginx, cookie, "e=close&p=cart-rescue" + t).status == 403
    assert recorded(nginx) == 2 and refused(nginx) == 6
    # a fresh token is a fresh report
    assert beacon(nginx, cookie, offered(keys, cookie, CART)).status == 204
    assert len(caps(redis, vid)["p"]["cart-rescue"]["imp"]) == 2
    # one worker queues its events in order: had a replay made one, it would
    # be among these
    events = wait_for(lambda: promotions(redis) if len(promotions(redis)) >= 3 else None,
                      IO_TIMEOUT, "three promotion events")
    assert [e["type"] for e in events] == ["Promotion Viewed", "Promotion Closed",
                                           "Promotion Viewed"]


def test_token_records_are_bounded_and_pruned(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys, beacon="rate=1000r/m token_max_age=1h")
    cookie = sign(vid)
    now = int(time.time())
    # the beacon's own bookkeeping: a record no token could still match goes
    # at the next write, a recent one stays
    redis.set("tailor:{%s}:caps" % vid, msgpack_pack(
        {"v": 1, "p": {}, "t": {"i" + "A" * 11: now - 3600 - 400, "c" + "B" * 11: now - 60}}))
    assert beacon(nginx, cookie, offered(keys, cookie, CART, issued_at=now - 600)).status == 204
    held = caps(redis, vid)["t"]
    assert "i" + "A" * 11 not in held and held["c" + "B" * 11] == now - 60
    (new,) = [k for k in held if k != "c" + "B" * 11]
    assert new[0] == "i" and len(new) == 12 and held[new] == now - 600
    for _ in range(126):
        assert beacon(nginx, cookie, offered(keys, cookie, "e=close&p=browse-help")).status == 204
    assert len(caps(redis, vid)["t"]) == 128
    # full: refused as over the rate, never by forgetting a live token
    assert beacon(nginx, cookie, offered(keys, cookie, "e=close&p=browse-help")).status == 429
    assert len(caps(redis, vid)["t"]) == 128
    # the full blob still reads (an unreadable one shows no pop-up at all):
    # one impression of cart-rescue is under its per_day = 3
    assert popup_ids(page(nginx, cookie)) == [b"cart-rescue"]


# ---------------------------------------------------------------------------
# refusals are logged, at most a line a second

def test_refused_tokens_are_logged_rate_limited(nginx, redis, keys, sign):
    vid = new_vid()
    start(nginx, redis, keys, beacon="rate=1000r/m")
    cookie = sign(vid)
    t0 = time.time()
    for _ in range(30):
        assert beacon(nginx, cookie, "e=close&p=browse-help").status == 400
    elapsed = time.time() - t0
    assert refused(nginx) == 30
    with open(nginx.error_log, errors="replace") as f:
        lines = [line for line in f if "pop-up beacon refused: no pop-up token" in line]
    assert lines, "the reason is logged"
    # one line per second at most (the loop spans int(elapsed) + 2 seconds at most)
    assert len(lines) <= int(elapsed) + 2, (elapsed, lines)
    if len(lines) > 1:
        assert re.search(r"\(\d+ more since the last report\)", "\n".join(lines[1:])), lines


def test_directives_keep_their_shape_for_the_runtime(nginx, redis, keys, sign):
    vid = new_vid()
    seed_cart(redis, vid)
    start(nginx, redis, keys)
    m = DIRECTIVES.search(page(nginx, sign(vid)).body)
    doc = json.loads(m.group(1))
    assert doc["v"] == 1 and doc["beacon"] == "/tailor/beacon"
    (p,) = doc["popups"]
    assert p["id"] == "cart-rescue" and p["intent"] == "cart" and p["trigger"]
    assert list(p)[:2] == ["token", "id"]
