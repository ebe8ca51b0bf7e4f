# Batches as Redis's own commands (tailor_events_watch, on by default): once every visitor in a
# batch carries nginx's edit of its live map, the batch goes as WATCH and MGET, then MULTI and
# EXEC, instead of the live script's EVALSHA, and leaves the stream, the live map and the
# producer's watermark as the script would. Redis's own command counts (INFO commandstats) say
# which way each batch went. Off, or on a Redis that refuses WATCH, every batch goes by the
# script and nothing is lost.

from types import SimpleNamespace

from env import module_has
from msgpack_codec import msgpack_unpack
from scenario import cookie_header
from test_events import counter, events_metrics, start, stream_entries
from test_events_live_edit import flushed, view
from visitor import new_vid

import pytest

if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)


def calls(redis):
    """INFO commandstats: calls per command, lower-case names."""
    out = {}
    for line in redis.command("INFO", "commandstats").decode().splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[len("cmdstat_"):].split(":", 1)
            fields = dict(kv.split("=") for kv in rest.split(","))
            out[name] = int(fields["calls"])
    return out


def returning(nginx, cookie, first_skus):
    """A visitor whose live map exists and is laid out for nginx's edits: the first view
    writes it, the second lays it out (test_events_live_edit.py)."""
    m = None
    for sku in first_skus:
        m = view(nginx, cookie, sku)
    return m


def returning_visitors(nginx, sign, n):
    """n new visitors made returning ones (FIRST, then SECOND viewed): (vids, cookies)."""
    vids = [new_vid() for _ in range(n)]
    cookies = [cookie_header("tailor_vid", sign(v)) for v in vids]
    for c in cookies:
        returning(nginx, c, ["FIRST", "SECOND"])
    return vids, cookies


def test_returning_visitors_batches_are_committed_without_the_script(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    vids, cookies = returning_visitors(nginx, sign, 3)
    before = events_metrics(nginx)
    redis.command("CONFIG", "RESETSTAT")
    skus = ["S%d" % i for i in range(8)]
    for sku in skus:
        for c in cookies:
            m = view(nginx, c, sku)

    n = len(skus) * len(vids)
    stats = calls(redis)
    watched = counter(m, "tailor_events_watched_batches_total") - counter(
        before, "tailor_events_watched_batches_total")
    # an EXEC in each batch's check (of nothing) and one in its commit
    assert watched >= 1 and stats.get("exec", 0) == 2 * watched, (m, stats)
    assert stats.get("evalsha", 0) + stats.get("eval", 0) == 0, stats
    assert stats.get("xadd", 0) == n, stats
    assert counter(m, "tailor_events_dropped_total") == 0
    assert counter(m, "tailor_events_watch_conflicts_total") == 0
    assert counter(m, "tailor_events_watch_declined_total") == 0
    taken = counter(m, "tailor_events_live_edits_taken_total") - counter(
        before, "tailor_events_live_edits_taken_total")
    assert taken == n, "every event went with the edit of the map its request read"

    # the stream: each event once, in order, as the script writes it (type, vid, e)
    mine = [(f, e) for _, f, e in stream_entries(redis)
            if e.get("props", {}).get("product_id") in skus]
    assert [(e["vid"], e["props"]["product_id"]) for _, e in mine] == [
        (v, s) for s in skus for v in vids]
    for fields, e in mine:
        assert fields["type"] == b"Product Viewed" and fields["vid"].decode() == e["vid"]
    # the live maps: the views newest first, as the script's edits leave them
    for v in vids:
        live = msgpack_unpack(redis.get("tailor:{%s}:live" % v))
        assert [x["sku"] for x in live["viewed"]] == list(reversed(skus)) + ["SECOND", "FIRST"]
        assert redis.command("TTL", "tailor:{%s}:live" % v) > 89 * 86400
    # the producer's watermark: the last seq it applied, as the script keeps it
    last = max(int(e["seq"]) for _, e in mine if e["src"] == mine[-1][1]["src"])
    mark = redis.get("tailor:events:seq:%s" % mine[-1][1]["src"])
    assert mark is not None and int(mark) == last


def test_with_watch_off_every_batch_goes_by_the_script(nginx, redis, keys, sign):
    start(nginx, redis, keys, extra="tailor_events_watch off;")
    cookie = cookie_header("tailor_vid", sign(new_vid()))
    returning(nginx, cookie, ["FIRST", "SECOND"])
    redis.command("CONFIG", "RESETSTAT")
    for sku in ("A", "B", "C"):
        m = view(nginx, cookie, sku)
    stats = calls(redis)
    assert stats.get("exec", 0) == 0 and stats.get("watch", 0) == 0, stats
    assert stats.get("evalsha", 0) == 3, stats
    assert counter(m, "tailor_events_watched_batches_total") == 0


@pytest.mark.parametrize("refused", ["watch", "multi", "exec"])
def test_a_redis_that_refuses_transactions_gets_every_batch_by_the_script(
        nginx, redis, keys, sign, refused):
    """An ACL without WATCH, MULTI or EXEC (or a proxy without transactions): each batch goes
    by the script at once, nothing is written twice or lost, and after three failures the
    connection stops trying. A refused MULTI never lets a commit run unguarded: the check's
    MULTI/EXEC fails first."""
    start(nginx, redis, keys)
    vid = new_vid()
    cookie = cookie_header("tailor_vid", sign(vid))
    returning(nginx, cookie, ["FIRST", "SECOND"])
    assert redis.command("ACL", "SETUSER", "default", "-" + refused) in ("OK", b"OK")
    redis.command("CONFIG", "RESETSTAT")
    skus = ["A", "B", "C", "D", "E", "F"]
    for sku in skus:
        m = view(nginx, cookie, sku)
    stats = calls(redis)
    assert stats.get("evalsha", 0) == len(skus), stats
    assert stats.get("xlen", 0) <= 3, "checks: the connection stopped trying: %r" % stats
    assert counter(m, "tailor_events_dropped_total") == 0
    assert counter(m, "tailor_events_watched_batches_total") == 0
    live = msgpack_unpack(redis.get("tailor:{%s}:live" % vid))
    assert [x["sku"] for x in live["viewed"]][:len(skus)] == list(reversed(skus))
    entries = [e["props"]["product_id"] for _, _, e in stream_entries(redis)
               if e["props"].get("product_id") in skus]
    assert entries == skus, "each event on the stream once"
    log = nginx.read_log()
    assert "the check failed 3 times since the last commit" in log, log[-2000:]


def test_a_check_that_fills_the_output_buffer_still_delivers_every_event(
        nginx, redis, keys, sign):
    """max_output below one check's size (16 visitors' keys, ~2 KB; a profile read is far
    smaller): the check is written, the MULTI after it is refused (the buffer is over the
    bound until the write event), and once the check is answered the WATCH is let go and the
    batch goes by the script, at once. Nothing is stuck, written twice or lost."""
    start(nginx, SimpleNamespace(address=redis.address + " max_output=1k"), keys,
          interval="300ms")
    vids, cookies = returning_visitors(nginx, sign, 16)
    before = events_metrics(nginx)
    redis.command("CONFIG", "RESETSTAT")
    for c in cookies:  # within one flush interval: one batch
        r = nginx.get("/product.html?sku=NEXT&price=9.50&cat=coffee", headers=c)
        assert r.status == 200, r
    m = flushed(nginx, before)
    stats = calls(redis)
    assert stats.get("xlen", 0) >= 1, "checked: %r" % stats
    assert stats.get("multi", 0) == stats["xlen"], "the checks' own MULTI, no other: %r" % stats
    assert stats.get("evalsha", 0) == stats["xlen"], stats
    assert stats.get("unwatch", 0) == stats["xlen"], "the WATCH let go first: %r" % stats
    assert counter(m, "tailor_events_watched_batches_total") == counter(
        before, "tailor_events_watched_batches_total")
    assert counter(m, "tailor_events_dropped_total") == 0
    for v in vids:
        live = msgpack_unpack(redis.get("tailor:{%s}:live" % v))
        assert [x["sku"] for x in live["viewed"]] == ["NEXT", "SECOND", "FIRST"]
    entries = [e["vid"] for _, _, e in stream_entries(redis)
               if e["props"].get("product_id") == "NEXT"]
    assert sorted(entries) == sorted(vids), "each event on the stream once"


def test_a_batch_the_check_declines_closes_the_transaction_before_the_script(
        nginx, redis, keys, sign):
    """A watermark the commands cannot read (not a number) is the script's to judge: the
    check declines, the MULTI sent with it is closed by an EXEC of nothing (which also lets
    go of the WATCH), and the script, sent after it, applies the event once."""
    start(nginx, redis, keys)
    vids, cookies = returning_visitors(nginx, sign, 1)
    marks = redis.command("KEYS", "tailor:events:seq:*")
    assert marks, "a producer's watermark"
    for k in marks:
        redis.command("SET", k, "not-a-number")
    before = events_metrics(nginx)
    redis.command("CONFIG", "RESETSTAT")
    m = view(nginx, cookies[0], "NEXT")
    stats = calls(redis)
    declined = counter(m, "tailor_events_watch_declined_total") - counter(
        before, "tailor_events_watch_declined_total")
    assert declined == 1, m
    assert stats.get("multi", 0) == 2 and stats.get("exec", 0) == 2, (
        "the check's own MULTI/EXEC, then MULTI and the EXEC that closes it: %r" % stats)
    assert stats.get("evalsha", 0) == 1 and stats.get("xadd", 0) == 1, "the script's: %r" % stats
    live = msgpack_unpack(redis.get("tailor:{%s}:live" % vids[0]))
    assert [x["sku"] for x in live["viewed"]] == ["NEXT", "SECOND", "FIRST"]
    entries = [e["vid"] for _, _, e in stream_entries(redis)
               if e["props"].get("product_id") == "NEXT"]
    assert entries == vids, "the event on the stream once"
