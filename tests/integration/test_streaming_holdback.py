# Streaming on the wire (nginx-tests' sub_filter_buffering.t): the backend stalls
# mid-body, and the client must already hold everything it sent except, at
# most, the bytes of a possible tag prefix at the stall point.

import pytest

from env import IO_TIMEOUT
from http_client import StreamingRequest
from visitor import new_vid
import scenario
from scenario import cookie_header

HEAD = b"<!doctype html>\n<html><body>\n" + b"<p>" + b"a" * 3000 + b"</p>\n"
TAIL = (b"ot name=\"hero\">Welcome, shopper</tailor-slot>\n<p>after</p>\n</body></html>\n")

# (name, bytes sent before the stall, the longest suffix the module may hold back)
CASES = [
    ("no candidate", HEAD + b"plain text ", b""),
    ("lone <", HEAD + b"<", b"<"),
    ("tag prefix", HEAD + b"<tailor-sl", b"<tailor-sl"),
]


def body_for(before):
    # every case continues into a complete slot so the page is valid
    if before.endswith(b"<tailor-sl"):
        return before + TAIL
    if before.endswith(b"<"):
        return before + b"tailor-sl" + TAIL
    return before + b"<tailor-sl" + TAIL


def stream_and_check(nginx, b, before, holdable, headers):
    with StreamingRequest(nginx.port, "/up/page.html", headers=headers) as s:
        # everything but the holdable suffix must arrive while the backend stalls
        need = len(before) - len(holdable)
        s.read_until(lambda s: len(s.body) >= need)
        # the backend sets the flag just after its last send: wait for it
        assert b.stalled.wait(IO_TIMEOUT), "the backend is stalled"
        s.drain(quiet=0.3)
        got = s.body
        assert len(got) >= need, "held back more than a tag prefix"
        assert len(got) <= len(before), "nothing invented"
        assert got == before[:len(got)], "bytes so far are the page's own"
        assert not s.complete
        b.resume()
        s.read_to_end()
        return s.body


@pytest.mark.parametrize("name,before,holdable", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_anonymous_page_streams_while_backend_stalls(nginx, keys, backend, name, before,
                                                     holdable, chunked):
    body = body_for(before)
    b = backend(body=body, chunk_size=512, chunked=chunked, stall_at=len(before))
    scenario.start_shop(nginx, keys=keys.path, backend=b.address)
    full = stream_and_check(nginx, b, before, holdable, {"Sec-GPC": "1"})
    assert full == body, "the whole page, unchanged"


@pytest.mark.parametrize("name,before,holdable", CASES, ids=[c[0] for c in CASES])
def test_personalized_page_streams_while_backend_stalls(nginx, redis, keys, sign, backend,
                                                        name, before, holdable):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    body = body_for(before)
    b = backend(body=body, chunk_size=512, stall_at=len(before))
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        timeout="1s")
    full = stream_and_check(nginx, b, before, holdable,
                            cookie_header("tailor_vid", sign(vid)))
    assert b"Hi Ann" in full and b"Welcome, shopper" not in full
    assert full.endswith(b"<p>after</p>\n</body></html>\n")
