# Tags split across upstream buffers: the backend sends the page one byte (or a
# few bytes) per chunk through proxy_pass with proxy_buffering off, and the slot
# is still found and filled, the rest byte-identical.

import pytest

from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header


EXPECTED = PAGE.replace(scenario.DEFAULT_HERO,
                        b"<tailor-slot name=\"hero\">Hi Ann</tailor-slot>")


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_slot_found_across_chunks(nginx, redis, keys, sign, backend, chunk_size, chunked):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, chunk_size=chunk_size, chunked=chunked)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address)
    r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200
    # the wrapper stays as written, its children become the fill, and every
    # other byte is the page's own, however the page was split
    assert EXPECTED != PAGE
    assert r.body == EXPECTED, "slot filled, the rest byte-identical"


def test_page_without_profile_passes_through_byte_by_byte(nginx, redis, keys, sign, backend):
    vid = new_vid()
    b = backend(body=PAGE, chunk_size=1)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address)
    r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200 and r.body == PAGE
