# `tailorctl events tail --format klaviyo|segment` on entries in the module's
# encoding (written by `tailorctl events emit`, core's encoder and XADD argv).

import json

from test_triggers import T0, ctl, emit  # noqa: F401 (skips without tailorctl)
from test_triggers import pytestmark  # noqa: F401


def tail(redis, fmt, count):
    p = ctl("events", "tail", "--from", "0", "--count", count, "--format", fmt,
            "--redis", redis.address)
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def test_klaviyo_format_is_the_events_api_body(redis):
    eid = emit(redis, "Order Completed", "cust-9", T0, order_id="A-1", revenue="42.50",
               product_id="SKU-1")
    emit(redis, "Identify", "cust-9", T0 + 1, prev="anon-9")
    order, identify = tail(redis, "klaviyo", 2)
    attrs = order["data"]["attributes"]
    assert order["data"]["type"] == "event"
    assert attrs["metric"]["data"]["attributes"]["name"] == "Placed Order"
    assert attrs["unique_id"] == eid
    assert attrs["value"] == 42.5
    assert attrs["properties"]["ProductID"] == "SKU-1" and "product_id" not in attrs["properties"]
    assert attrs["profile"]["data"]["attributes"] == {"external_id": "cust-9"}
    assert attrs["time"] == "2025-06-15T15:06:40.000Z"
    assert identify["data"] == {"type": "profile",
                                "attributes": {"external_id": "cust-9", "anonymous_id": "anon-9"}}


def test_segment_format_is_the_segment_envelope(redis):
    eid = emit(redis, "Order Completed", "cust-8", T0, order_id="A-2", revenue="10",
               product_id="SKU-2", quantity="3")
    emit(redis, "Product Viewed", "anon-8", T0 + 1, product_id="SKU-3", price="9.99")
    order, view = tail(redis, "segment", 2)
    assert order["type"] == "track" and order["event"] == "Order Completed"
    assert order["anonymousId"] == "cust-8" and order["messageId"] == eid
    assert order["timestamp"] == "2025-06-15T15:06:40.000Z"
    assert order["properties"] == {"order_id": "A-2", "revenue": 10,
                                   "products": [{"product_id": "SKU-2", "quantity": 3}]}
    assert order["context"]["library"]["name"] == "tailor"
    assert order["context"]["device"] == {"type": "desktop"}
    assert view["properties"] == {"product_id": "SKU-3", "price": 9.99}


def test_an_unknown_format_is_a_usage_error(redis):
    p = ctl("events", "tail", "--format", "xml", "--redis", redis.address, check=False)
    assert p.returncode == 2
