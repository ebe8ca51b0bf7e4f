# When the module changes nothing, HEAD, If-None-Match/304 and Range behave
# exactly as without it: the same file through a "tailor on" and a "tailor off"
# location gives the same status, headers (Date aside) and body.

import re

import pytest

from visitor import new_vid
import scenario

IGNORED = {"date"}


def comparable(r):
    headers = sorted((k.lower(), v) for k, v in r.headers if k.lower() not in IGNORED)
    body = r.body
    # multipart boundaries come from a per-worker counter: compare them as a name
    m = re.search(r"boundary=(\S+)", r.header("Content-Type", ""))
    if m:
        headers = [(k, v.replace(m.group(1), "BOUNDARY")) for k, v in headers]
        body = body.replace(m.group(1).encode(), b"BOUNDARY")
    return r.status, headers, body


def both(nginx, method="GET", headers=None):
    on = nginx.get("/index.html", method=method, headers=headers)
    off = nginx.get("/plain/index.html", method=method, headers=headers)
    return on, off


def etag_and_mtime(nginx):
    r = nginx.get("/plain/index.html")
    return r.header("ETag"), r.header("Last-Modified")


REQUESTS = [
    ("GET", {}),
    ("HEAD", {}),
    ("GET", {"If-None-Match": "{etag}"}),
    ("GET", {"If-Modified-Since": "{mtime}"}),
    ("HEAD", {"If-None-Match": "{etag}"}),
    ("GET", {"Range": "bytes=0-99"}),
    ("GET", {"Range": "bytes=100-199,300-309"}),
    ("GET", {"Range": "bytes=-10"}),
    ("GET", {"Range": "bytes=0-99", "If-Range": "{etag}"}),
    ("GET", {"Range": "bytes=999999-"}),
]
IDS = ["get", "head", "if-none-match", "if-modified-since", "head-if-none-match",
       "range", "multi-range", "suffix-range", "if-range", "unsatisfiable-range"]


def fill(headers, etag, mtime):
    return {k: v.format(etag=etag, mtime=mtime) for k, v in headers.items()}


@pytest.mark.parametrize("method,headers", REQUESTS, ids=IDS)
def test_opted_out_request_is_exactly_as_without_module(nginx, keys, method, headers):
    # Sec-GPC: 1 means the module must not touch the response at all
    scenario.start_shop(nginx, keys=keys.path)
    etag, mtime = etag_and_mtime(nginx)
    h = fill(headers, etag, mtime)
    h["Sec-GPC"] = "1"
    on, off = both(nginx, method, h)
    assert comparable(on) == comparable(off)
    if "If-None-Match" in h or "If-Modified-Since" in h:
        assert on.status == 304
    if "Range" in h and "999999" not in h["Range"]:
        assert on.status == 206


@pytest.mark.parametrize("method,headers", REQUESTS, ids=IDS)
def test_known_visitor_without_profile_is_exactly_as_without_module(nginx, redis, keys, sign,
                                                                  method, headers):
    cookie = "tailor_vid=" + sign(new_vid())
    scenario.start_shop(nginx, redis=redis.address, keys=keys.path, timeout="1s")
    etag, mtime = etag_and_mtime(nginx)
    h = fill(headers, etag, mtime)
    h["Cookie"] = cookie
    on, off = both(nginx, method, h)
    assert comparable(on) == comparable(off)
    assert scenario.last_outcome(nginx, 2) == "miss"
