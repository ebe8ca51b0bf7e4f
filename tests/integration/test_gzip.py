# nginx's own gzip compresses personalized output; a response the upstream
# already compressed passes through untouched and is counted.

import gzip

from metrics_text import metric
from visitor import new_vid
import scenario
from scenario import PAGE, cookie_header


GZIP = "gzip on; gzip_types text/html; gzip_min_length 0; gzip_proxied any;"


def test_gzip_on_compresses_personalized_output(nginx, redis, keys, sign):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s",
                        http_extra=GZIP)
    r = nginx.get("/index.html", headers=dict(cookie_header("tailor_vid", sign(vid)),
                                              **{"Accept-Encoding": "gzip"}))
    assert r.status == 200 and r.header("Content-Encoding") == "gzip"
    body = gzip.decompress(r.body)
    assert b"Hi Ann" in body and body.endswith(b"</html>\n")


def test_compressed_upstream_passes_through(nginx, redis, keys, sign, backend):
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, gzip=True, chunk_size=100, chunked=False)
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        timeout="1s")
    before = scenario.status_metrics(nginx)
    r = nginx.get("/up/index.html", headers=dict(cookie_header("tailor_vid", sign(vid)),
                                                 **{"Accept-Encoding": "gzip"}))
    assert r.status == 200 and r.header("Content-Encoding") == "gzip"
    assert r.body == b.sent_bodies[-1], "the upstream's bytes, untouched"
    assert gzip.decompress(r.body) == PAGE
    after = scenario.status_metrics(nginx)
    name = "tailor_compressed_passthrough_total"
    assert metric(after, name) == metric(before, name) + 1


def test_an_identity_content_encoding_is_no_encoding(nginx, redis, keys, sign, backend):
    # RFC 9110 reserves "identity" for Accept-Encoding; a server that sends it
    # anyway sends the page as it is, and it is personalized like any other
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, chunk_size=100, chunked=False,
                headers=[("Content-Encoding", "Identity")])
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        timeout="1s")
    before = scenario.status_metrics(nginx)
    r = nginx.get("/up/index.html", headers=cookie_header("tailor_vid", sign(vid)))
    assert r.status == 200
    assert b"Hi Ann" in r.body and r.body.endswith(b"</html>\n")
    after = scenario.status_metrics(nginx)
    name = "tailor_compressed_passthrough_total"
    assert metric(after, name) == metric(before, name)


def test_a_stray_identity_after_gzip_still_passes_through(nginx, redis, keys, sign, backend):
    # nginx keeps the last Content-Encoding header as the response's; the gzip
    # before it still encodes the body, which must go out untouched
    vid = new_vid()
    scenario.seed(redis, vid, {"hero": "Hi Ann"})
    b = backend(body=PAGE, gzip=True, chunk_size=100, chunked=False,
                headers=[("Content-Encoding", "identity")])
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, backend=b.address,
                        timeout="1s")
    before = scenario.status_metrics(nginx)
    r = nginx.get("/up/index.html", headers=dict(cookie_header("tailor_vid", sign(vid)),
                                                 **{"Accept-Encoding": "gzip"}))
    assert r.status == 200
    assert r.body == b.sent_bodies[-1], "the upstream's bytes, untouched"
    assert gzip.decompress(r.body) == PAGE
    # counted as passed through: not scanned (compressed bytes hide no tag to find)
    after = scenario.status_metrics(nginx)
    name = "tailor_compressed_passthrough_total"
    assert metric(after, name) == metric(before, name) + 1
