# A 1 MB profile: over the default tailor_max_profile (256k) it is refused and the
# page is the default one; with a larger limit it is read and used. Either way the
# page arrives and no worker suffers.

from msgpack_codec import msgpack_pack
from visitor import new_vid, profile_key
import scenario
from scenario import PAGE, cookie_header


BIG = 1024 * 1024


def big_profile(redis, vid):
    # our own packer: tailorctl refuses to encode what the module would refuse
    profile = scenario.profile_for({"hero": "Big spender"}, history="x" * BIG)
    redis.set(profile_key(vid), msgpack_pack(profile))


def test_one_megabyte_profile_over_default_limit(nginx, redis, keys, sign):
    vid = new_vid()
    big_profile(redis, vid)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s")
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200 and r.body == PAGE
    assert scenario.last_outcome(nginx) == "bad-profile"
    # the connection survives: a small profile right after is read fine
    small = new_vid()
    scenario.seed(redis, small, {"hero": "Small"})
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(small)))
    assert b"Small" in r.body


def test_one_megabyte_profile_under_raised_limit(nginx, redis, keys, sign):
    vid = new_vid()
    big_profile(redis, vid)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s",
                        http_extra="tailor_max_profile 4m;")
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200 and b"Big spender" in r.body
    assert scenario.last_outcome(nginx) == "hit"
