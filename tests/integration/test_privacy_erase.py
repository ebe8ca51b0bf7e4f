# Erase that sticks (issue 14, item 2): `tailorctl profile erase` removes the
# keys of the customer and of every anonymous id linked to it, leaves a
# tombstone the live script and the profile read honour, so events spooled
# while Redis was away and replayed after the erase re-create nothing; it
# reaches a Redis that wants AUTH, erases ids that start with `-`, tells the
# email side with a `Profile Erased` event, and the error log at `info` never
# records which ids were linked.

import os
import subprocess
import time

import pytest

from env import IO_TIMEOUT, TAILORCTL, module_has, wait_for
from metrics_text import metric, parse_metrics
from msgpack_codec import msgpack_unpack
from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header


if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)
if not TAILORCTL or not os.path.exists(TAILORCTL):
    pytest.skip("needs tailorctl", allow_module_level=True)

STREAM = "tailor:events"
KINDS = ("profile", "live", "caps", "ev", "beacon")


def tailorctl(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([TAILORCTL] + list(args), capture_output=True, timeout=IO_TIMEOUT,
                          env=e)


def start(nginx, redis, keys, spool=None, backend=None, redis_auth=""):
    nginx.write_file("html/product.html", PAGE)
    extra = ["tailor_events on;", "tailor_events_stream %s;" % STREAM,
             "tailor_events_flush_interval 5ms;"]
    if spool:
        extra.append("tailor_events_spool %s max_size=8m segment_size=1m;" % spool)
    nginx.write_file("html/index.html", PAGE)
    nginx.write(scenario.tailor_http(
        redis=redis.address + redis_auth, keys=keys.path, backend=backend,
        http_extra=" ".join(extra),
        location_extra="""
            location = /product.html { tailor_event "Product Viewed" product_id=$arg_sku; }
            location = /events-status { tailor_events_status; }
        """))
    nginx.start()


def events_metric(nginx, name):
    return metric(parse_metrics(nginx.get("/events-status").text), name) or 0


def keys_of(redis, vid):
    return [k for k in KINDS if redis.command("EXISTS", "tailor:{%s}:%s" % (vid, k)) == 1]


def stream_vids(redis):
    return [(dict(zip(kv[::2], kv[1::2]))[b"type"].decode(),
             dict(zip(kv[::2], kv[1::2]))[b"vid"].decode())
            for _, kv in redis.command("XRANGE", STREAM, "-", "+")]


def test_erase_takes_the_linked_anonymous_id_and_sticks(nginx, redis, keys, sign, backend):
    known, anon = new_vid(), new_vid()
    b = backend(body=PAGE, chunk_size=4096, headers=[("X-Tailor-Identify", known)])
    start(nginx, redis, keys, backend=b.address)
    anon_cookie = cookie_header("tailor_vid", sign(anon))
    assert nginx.get("/product.html?sku=A1", headers=anon_cookie).status == 200
    wait_for(lambda: "live" in keys_of(redis, anon) or None, IO_TIMEOUT, "anon state")
    assert nginx.get("/up/login", headers=anon_cookie).status == 200
    wait_for(lambda: "live" in keys_of(redis, known) or None, IO_TIMEOUT, "known state")
    wait_for(lambda: redis.command("HGET", "tailor:{%s}:ev" % known, "merged:" + anon) or None,
             IO_TIMEOUT, "the link on the known id's side")
    redis.set("tailor:{%s}:profile" % known, b"\x81\xa1v\x01")

    p = tailorctl("profile", "erase", known, "--redis", redis.address)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "erased 3 keys of visitor %s" % known in out, out
    assert "of linked visitor %s" % anon in out, out
    assert keys_of(redis, known) == [] and keys_of(redis, anon) == []
    for vid in (known, anon):
        ttl = redis.command("TTL", "tailor:{%s}:erased" % vid)
        assert ttl > 7 * 24 * 3600, "the tombstone outlives any spool: %s" % ttl
    erased = [v for t, v in stream_vids(redis) if t == "Profile Erased"]
    assert sorted(erased) == sorted([known, anon]), "the email side is told"

    # a late request of either id writes nothing, and the profile reads as none
    before = len(stream_vids(redis))
    assert nginx.get("/product.html?sku=B2", headers=anon_cookie).status == 200
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(known)))
    assert r.status == 200
    time.sleep(0.3)
    assert keys_of(redis, known) == [] and keys_of(redis, anon) == []
    assert len(stream_vids(redis)) == before

    # the error log at info does not link the two ids
    log = nginx.read_log()
    assert not (known in log and anon in log), "the id link is not logged"


def test_events_spooled_before_the_erase_and_replayed_after_create_nothing(
        nginx, redis, keys, sign, workdir):
    # nginx reaches Redis as ACL user "shop"; the outage is that user turned off
    redis.command("ACL", "SETUSER", "shop", "on", ">shoppw", "~*", "+@all")
    redis.command("ACL", "SETUSER", "ops", "on", ">opspw", "~*", "+@all")
    redis.command("ACL", "SETUSER", "default", "on", "nopass", "~*", "+@all")
    spool = os.path.join(workdir, "spool")
    start(nginx, redis, keys, spool=spool, redis_auth=" user=shop password=shoppw")
    nginx.allow_log(r"WRONGPASS|user is disabled|AUTH")
    vid = new_vid()
    cookie = cookie_header("tailor_vid", sign(vid))
    assert nginx.get("/product.html?sku=S1", headers=cookie).status == 200
    wait_for(lambda: "live" in keys_of(redis, vid) or None, IO_TIMEOUT, "live state")

    redis.command("ACL", "SETUSER", "shop", "off")
    redis.command("CLIENT", "KILL", "USER", "shop")
    for n in range(5):
        assert nginx.get("/product.html?sku=S%d" % (n + 2), headers=cookie).status == 200
    wait_for(lambda: events_metric(nginx, "tailor_events_spooled_total") >= 5 or None,
             IO_TIMEOUT, "events spooled while Redis refuses the module")

    # erase through a Redis that wants a password (ACL user ops)
    p = tailorctl("profile", "erase", vid, "--redis", redis.address, "--user", "ops",
                  env={"REDISCLI_AUTH": "opspw"})
    assert p.returncode == 0, p.stderr
    assert keys_of(redis, vid) == []
    before = stream_vids(redis)

    redis.command("ACL", "SETUSER", "shop", "on")
    wait_for(lambda: events_metric(nginx, "tailor_events_replayed_total") >= 5 or None,
             30, "the spool replayed")
    wait_for(lambda: events_metric(nginx, "tailor_events_spool_pending") == 0 or None, 30,
             "spool drained")
    time.sleep(0.2)
    assert keys_of(redis, vid) == [], "the replay re-created nothing"
    assert stream_vids(redis) == before, "and appended nothing to the stream"


def test_a_beacon_after_the_erase_writes_nothing(nginx, redis, keys, sign):
    from test_popups import beacon, caps, offered, seed_cart, start as start_popups
    vid = new_vid()
    seed_cart(redis, vid)
    start_popups(nginx, redis, keys)
    cookie = sign(vid)
    assert beacon(nginx, cookie, offered(keys, cookie, "e=close&p=cart-rescue")).status == 204
    assert caps(redis, vid) is not None
    p = tailorctl("profile", "erase", vid, "--redis", redis.address)
    assert p.returncode == 0, p.stderr
    assert beacon(nginx, cookie, offered(keys, cookie, "e=impression&p=cart-rescue")).status == 204
    assert keys_of(redis, vid) == [], "no caps, no rate window re-created"


def test_erase_refuses_a_wrong_password(redis):
    redis.command("ACL", "SETUSER", "ops", "on", ">opspw", "~*", "+@all")
    p = tailorctl("profile", "erase", new_vid(), "--redis", redis.address, "--user", "ops",
                  env={"REDISCLI_AUTH": "nope"})
    assert p.returncode == 1 and b"WRONGPASS" in p.stderr, p.stderr


@pytest.mark.parametrize("form", ["--", "--vid"])
def test_ids_starting_with_a_dash_can_be_erased(redis, form):
    vid = "-" + new_vid()[1:]
    redis.set("tailor:{%s}:live" % vid, b"x")
    p = tailorctl("profile", "erase", form, vid, "--redis", redis.address) if form == "--vid" \
        else tailorctl("profile", "erase", "--redis", redis.address, "--", vid)
    assert p.returncode == 0, p.stderr
    assert ("erased 1 keys of visitor %s" % vid).encode() in p.stdout, p.stdout
    assert redis.command("EXISTS", "tailor:{%s}:live" % vid) == 0
    assert redis.command("EXISTS", "tailor:{%s}:erased" % vid) == 1


def test_a_bare_dash_id_is_a_usage_error(redis):
    p = tailorctl("profile", "erase", "-abc", "--redis", redis.address)
    assert p.returncode == 2 and b"usage" in p.stderr
