# Streaming on the wire (nginx-tests' sub_filter_buffering.t): the backend stalls
# mid-body, and the client must already hold everything it sent except exactly
# the bytes the rewriter has reason to hold: a possible "</body" prefix while the
# directives still wait to go in front of it. Every other tag, slot tags
# included, leaves as soon as it arrives. Once the backend resumes, the held
# bytes are released (behind the directives) and nothing else changes.

import re

import pytest

from env import IO_TIMEOUT
from http_client import StreamingRequest
from visitor import new_vid
import scenario
from scenario import cookie_header

HEAD = b"<!doctype html>\n<html><body>\n" + b"<p>" + b"a" * 3000 + b"</p>\n"
TAIL = (b"ot name=\"hero\">Welcome, shopper</tailor-slot>\n<p>after</p>\n</body></html>\n")

# (name, bytes sent before the stall): nothing may be held at any of these
# stall points when no injection is pending
CASES = [
    ("no candidate", HEAD + b"plain text "),
    ("lone <", HEAD + b"<"),
    ("slot tag prefix", HEAD + b"<tailor-sl"),
    ("body end tag prefix", HEAD + b"<tailor-slot name=\"x\">x</tailor-slot></bo"),
]


def body_for(before):
    # every case continues into a complete slot so the page is valid
    if before.endswith(b"</bo"):
        return before + b"dy>\n<tailor-sl" + TAIL
    if before.endswith(b"<tailor-sl"):
        return before + TAIL
    if before.endswith(b"<"):
        return before + b"tailor-sl" + TAIL
    return before + b"<tailor-sl" + TAIL


def stream_and_check(nginx, b, before, held, headers):
    """Streams the page; while the backend stalls after `before`, the client holds
    exactly `before` less its suffix `held`. Returns the whole body."""
    assert before.endswith(held)
    sent = before[:len(before) - len(held)]
    with StreamingRequest(nginx.port, "/up/page.html", headers=headers) as s:
        s.read_until(lambda s: len(s.body) >= len(sent))
        # the backend sets the flag just after its last send: wait for it
        assert b.stalled.wait(IO_TIMEOUT), "the backend is stalled"
        s.drain(quiet=0.3)
        assert s.body == sent, "exactly %r held back, got %r at the end" % (
            held, s.body[-40:])
        assert not s.complete
        b.resume()
        s.read_to_end()
        return s.body


@pytest.mark.parametrize("name,before", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_anonymous_page_streams_while_backend_stalls(nginx, keys, backend, name, before,
                                                     chunked):
    body = body_for(before)
    b = backend(body=body, chunk_size=512, chunked=chunked, stall_at=len(before))
    scenario.start_shop(nginx, keys=keys.path, backend=b.address)
    full = stream_and_check(nginx, b, before, b"", {"Sec-GPC": "1"})
    assert full == body, "the whole page, unchanged"


@pytest.mark.parametrize("name,before", CASES, ids=[c[0] for c in CASES])
def test_personalized_page_streams_while_backend_stalls(nginx, redis, keys, sign, backend,
                                                        name, before):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    body = body_for(before)
    b = backend(body=body, chunk_size=512, stall_at=len(before))
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        timeout="1s")
    full = stream_and_check(nginx, b, before, b"", cookie_header("tailor_vid", sign(vid)))
    expected = body.replace(b"<tailor-slot name=\"hero\">Welcome, shopper</tailor-slot>",
                            b"<tailor-slot name=\"hero\">Hi Ann</tailor-slot>")
    assert expected != body
    assert full == expected, "the hero filled, every other byte the page's own"


# A pop-up for everyone: its directives go in front of </body>, so a possible
# "</body" prefix at the stall is held, and only that.
POPUP_PACK = b"""\
local t = require "tailor"
t.popup "browse-help" {
  trigger = t.linger(20), intent = "browse",
  html = [[<p>Need a hand?</p>]],
  caps = { per_visit = false, per_day = false, cooldown_hours = false,
           stop_after_conversion = false },
}
"""

PAGE_HEAD = HEAD + b"<p>end</p>\n"
DIRECTIVES = re.compile(rb'^<script type="application/json" id="tailor-directives">'
                        rb'.*"browse-help".*</script>', re.S)

# (name, the stall point's last bytes, what follows them, which of them are held)
INJECTION_CASES = [
    ("<", b"<", b"/body></html>\n", b"<"),
    ("</", b"</", b"body></html>\n", b"</"),
    ("</b", b"</b", b"ody></html>\n", b"</b"),
    ("</bod", b"</bod", b"y></html>\n", b"</bod"),
    ("</body", b"</body", b"></html>\n", b"</body"),
    ("</BoDy", b"</BoDy", b"></html>\n", b"</BoDy"),
    ("other end tag", b"</p", b"></body></html>\n", b""),
    ("start tag", b"<b", b"></b></body></html>\n", b""),
    ("text", b"more text ", b"</body></html>\n", b""),
]


@pytest.mark.parametrize("name,tail,rest,held", INJECTION_CASES,
                         ids=[c[0] for c in INJECTION_CASES])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_body_end_prefix_is_held_until_it_completes(nginx, redis, keys, sign, backend, name,
                                                    tail, rest, held, chunked):
    vid = new_vid()
    scenario.seed(redis, vid)
    before = PAGE_HEAD + tail
    body = before + rest
    b = backend(body=body, chunk_size=512, chunked=chunked, stall_at=len(before))
    nginx.write_file("rules.lua", POPUP_PACK)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        timeout="1s",
                        http_extra="tailor_rules %s;" % nginx.path("rules.lua"))
    full = stream_and_check(nginx, b, before, held, cookie_header("tailor_vid", sign(vid)))

    # released: the page's own bytes, with the directives right before </body>
    at = body.lower().rindex(b"</body>")
    assert full.startswith(body[:at]) and full.endswith(body[at:]), "held bytes released"
    injected = full[at:len(full) - (len(body) - at)]
    assert DIRECTIVES.match(injected), "the directives went in front of </body>: %r" % (
        injected[:120],)
