# Every value the module exposes as a variable is a short token or nothing: a profile's
# segment with CR/LF in it must neither add a response header through add_header nor
# smuggle a header to the upstream through proxy_set_header.

from tailorctl import encode_profile
from visitor import new_vid, profile_key
import scenario
from scenario import PAGE, cookie_header

EVIL = "vip\r\nX-Smuggled: 1\r\nSet-Cookie: evil=1"


def shop(nginx, redis, keys, backend):
    b = backend(body=PAGE, chunk_size=4096)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        location_extra='add_header X-Seg "[$tailor_segment]" always;',
                        backend_extra="proxy_set_header X-Tailor-Segment $tailor_segment;")
    return b


def seed_segment(redis, segment):
    vid = new_vid()
    redis.set(profile_key(vid),
              encode_profile({"v": 1, "attrs": {"segment": segment}}))
    return vid


def test_a_segment_with_crlf_never_reaches_a_header(nginx, redis, keys, sign, backend):
    b = shop(nginx, redis, keys, backend)
    vid = seed_segment(redis, EVIL)

    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200
    assert scenario.last_outcome(nginx) == "hit"
    assert not r.has("X-Smuggled")
    assert "evil=1" not in " ".join(r.header_all("Set-Cookie"))
    assert r.header("X-Seg") == "[]", "not exposed at all"

    r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200
    _, _, sent = b.requests[-1]
    names = [k.lower() for k, _ in sent]
    assert "x-smuggled" not in names and "set-cookie" not in names, sent
    assert "x-tailor-segment" not in names, "an empty value sends no header"


def test_a_safe_segment_is_exposed_and_an_overlong_one_is_not(nginx, redis, keys, sign,
                                                              backend):
    b = shop(nginx, redis, keys, backend)
    ok = seed_segment(redis, "repeat_buyer")
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(ok)))
    assert r.header("X-Seg") == "[repeat_buyer]"
    nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(ok)))
    assert ("X-Tailor-Segment", "repeat_buyer") in b.requests[-1][2]

    long = seed_segment(redis, "a" * 65)
    r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(long)))
    assert r.header("X-Seg") == "[]"
    for bad in ("vip segment", "vip;x", "caf\u00e9"):
        vid = seed_segment(redis, bad)
        r = nginx.get("/index.html", headers=cookie_header("tailor_vid", sign(vid)))
        assert r.header("X-Seg") == "[]", bad
