# Events carry no personal data by construction (issue 14, item 1): the exact
# request of the issue (personal names in every spelling, addresses inside
# allowed values, a webmail Referer with the address in its path) leaves
# nothing of the person in the stream or the live map, and declared
# properties that read request data identifying a person fail `nginx -t`
# with the file and line.

import time

import pytest

from env import IO_TIMEOUT, module_has, wait_for
from metrics_text import metric, parse_metrics
from msgpack_codec import msgpack_unpack
from visitor import new_vid
import scenario
from scenario import cookie_header
from test_events import STREAM, refused_events_conf


if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)

# issue 14, "What was seen", item 1, one parameter each
ISSUE_QUERY = ("user%5Bemail%5D=ann.lee%40example.com&email%5B%5D=ann.lee%40example.com"
               "&Email+=ann.lee%40example.com&amp;email=ann.lee%40example.com"
               "&reset_token=R3s3tT0k3nXq9Zp2Lm7Vb4&otp=482913&customer_id=CUST-88231"
               "&phone_number=%2B4915112345678"
               "&utm_term=ann.lee%40example.com&q=ann.lee%40example.com"
               "&utm_source=ann.lee%40example.com&utm_medium=email&page=2")
WEBMAIL_REFERER = "https://mail.google.com/mail/u/0/?ui=2#inbox/ann.lee@example.com"
TRACKER_REFERER = "https://u8823141.ct.sendgrid.net/ls/click?upn=ann.lee%40example.com"

# what must not reach the stream or Redis, in any spelling the module writes
NEEDLES = [b"ann", b"example.com", b"ann.lee", b"R3s3tT0k3n", b"482913", b"CUST-88231",
           b"15112345678", b"u8823141", b"inbox"]


def start(nginx, redis, keys, extra=""):
    nginx.write_file("html/search.html", scenario.PAGE)
    scenario.start_shop(
        nginx, redis=redis.address, keys=keys.path, timeout="1s",
        http_extra="tailor_events on; tailor_events_stream %s; "
                   "tailor_events_flush_interval 5ms; %s" % (STREAM, extra),
        location_extra="""
            location = /search.html { tailor_event "Products Searched" query=$arg_q; }
            location = /events-status { tailor_events_status; }
        """)


def raw_stream(redis):
    return [(eid, kv) for eid, kv in redis.command("XRANGE", STREAM, "-", "+")]


def assert_no_needles(blob, what):
    low = blob.lower()
    for n in NEEDLES:
        assert n.lower() not in low, "%r found in %s: %r" % (n, what, blob[:400])


def test_the_issue_request_leaves_no_personal_data_in_the_stream(nginx, redis, keys, sign):
    vid = new_vid()
    cookie = cookie_header("tailor_vid", sign(vid))
    start(nginx, redis, keys)
    for ref in (WEBMAIL_REFERER, TRACKER_REFERER):
        r = nginx.get("/search.html?" + ISSUE_QUERY, headers=dict(cookie, Referer=ref))
        assert r.status == 200
    entries = wait_for(lambda: (lambda e: e if len(e) >= 2 else None)(raw_stream(redis)),
                       IO_TIMEOUT, "2 events")
    time.sleep(0.1)
    entries = raw_stream(redis)
    assert len(entries) == 2, entries    # two searches (declared events replace page views)
    for _, kv in entries:
        assert_no_needles(b"\x00".join(kv), "the stream")
    events = [msgpack_unpack(dict(zip(kv[::2], kv[1::2]))[b"e"]) for _, kv in entries]
    for e in events:
        assert e["path"] == "/search.html?utm_medium=email&page=2", e["path"]
        assert "utm_source" not in e, "an address is no utm_source"
        assert e.get("props", {}).get("query") is None, "an address is no search term"
        assert e["ref"] == "email"
    assert {e["ref_host"] for e in events} == {"mail.google.com", "sendgrid.net"}

    live = redis.get("tailor:{%s}:live" % vid)
    assert live is not None
    assert_no_needles(live, "the live map")
    acq = msgpack_unpack(live)["acquisition"]
    assert acq["source"] in ("mail.google.com", "sendgrid.net", "email"), acq

    m = parse_metrics(nginx.get("/events-status").text)
    assert (metric(m, "tailor_events_stripped_params_total") or 0) >= 2 * 10


def test_allowed_parameters_and_operator_names_are_kept(nginx, redis, keys, sign):
    vid = new_vid()
    start(nginx, redis, keys, extra="tailor_event_params q filter_*;")
    assert nginx.get("/index.html?q=linen+shirt&filter_size=M&product=7&fbclid=IwAR0xYz&e=1",
                     headers=cookie_header("tailor_vid", sign(vid))).status == 200
    entries = wait_for(lambda: raw_stream(redis) or None, IO_TIMEOUT, "1 event")
    e = msgpack_unpack(dict(zip(entries[0][1][::2], entries[0][1][1::2]))[b"e"])
    assert e["path"] == "/index.html?q=linen+shirt&filter_size=M&product=7"


def test_the_beacon_parameter_is_not_counted_as_sensitive(nginx, redis, keys, sign):
    start(nginx, redis, keys)
    assert nginx.get("/index.html?e=shown&p=promo&x=1",
                     headers=cookie_header("tailor_vid", sign(new_vid()))).status == 200
    wait_for(lambda: raw_stream(redis) or None, IO_TIMEOUT, "1 event")
    m = parse_metrics(nginx.get("/events-status").text)
    assert (metric(m, "tailor_events_stripped_params_total") or 0) == 0


@pytest.mark.parametrize("prop,variable", [
    ("client_ip=$remote_addr", "remote_addr"),
    ("browser=$http_user_agent", "http_user_agent"),
    ("jar=$http_cookie", "http_cookie"),
    ("creds=${http_authorization}", "http_authorization"),
    ("who=$arg_email", "arg_email"),
    ("sess=$cookie_session", "cookie_session"),
    ("fwd=$http_x_forwarded_for", "http_x_forwarded_for"),
])
def test_personal_property_variables_fail_nginx_t_with_file_and_line(nginx, keys, prop,
                                                                      variable):
    declaration = 'tailor_event "Product Viewed" product_id=$arg_sku %s;' % prop
    out = refused_events_conf(nginx, keys, declaration, at='tailor_event "Product Viewed"')
    assert "[emerg]" in out and "identifies a person" in out and variable in out, out


@pytest.mark.parametrize("names,needle", [
    ("email", "names personal data"),
    ("customer_id", "names personal data"),
    ("bad*name", "optionally ending in *"),
])
def test_event_params_refuse_personal_or_bad_names(nginx, keys, names, needle):
    out = refused_events_conf(nginx, keys, http="tailor_event_params page %s;" % names,
                              at="tailor_event_params")
    assert needle in out, out
