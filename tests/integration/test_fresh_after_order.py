# Fresh after an order (issue 16): an Order Completed the module records
# updates the visitor's live map at once, so the very next page neither
# recommends what was just bought nor promotes (promotional slot and pop-up),
# long before the shop's backend rewrites the profile.

import pytest

from env import IO_TIMEOUT, module_has, wait_for
from visitor import new_vid
import scenario
from scenario import BROWSER, cookie_header, recommended
from test_popups import popup_ids

if not module_has("tailor_events"):
    pytest.skip("module built without tailor_events", allow_module_level=True)

LOCATIONS = """
            location = /product.html {
                tailor_event "Product Viewed" product_id=$arg_sku;
            }
            location = /order/done.html {
                tailor_event "Order Completed" order_id=$arg_order revenue=$arg_total
                             product_id=$arg_sku;
            }
"""

POPUP_LOCATIONS = """
        location = /tailor/popups.js { tailor_popup_runtime; }
        location = /tailor/beacon { tailor_popup_beacon rate=30r/m timeout=5s; }
"""


def start(nginx, redis, keys):
    pack = nginx.write_file("rules.lua", scenario.AFTER_ORDER_PACK)
    for name in ("index.html", "product.html", "order/done.html"):
        nginx.write_file("html/" + name, scenario.PAGE)
    extra = ("tailor_rules %s;\n    tailor_events on;\n    tailor_events_stream tailor:events;"
             "\n    tailor_events_flush_interval 5ms;" % pack)
    http = scenario.tailor_http(redis=redis.address, keys=keys.path, timeout="1s",
                                http_extra=extra, location_extra=LOCATIONS)
    http = http.replace("        location /plain/ {",
                        POPUP_LOCATIONS + "\n        location /plain/ {", 1)
    nginx.write(http)
    nginx.start()


def get(nginx, cookie, path="/index.html"):
    h = cookie_header("tailor_vid", cookie)
    h["User-Agent"] = BROWSER
    r = nginx.get(path, headers=h)
    assert r.status == 200, r
    return r


def test_after_an_order_the_next_page_drops_the_product_and_promotions(nginx, redis, keys,
                                                                        sign):
    start(nginx, redis, keys)
    vid = new_vid()
    cookie = sign(vid)
    get(nginx, cookie, "/product.html?sku=MUG-X")
    get(nginx, cookie, "/product.html?sku=BEANS-Y")
    # before: both viewed products recommended, the promotion and the pop-up on
    before = wait_for(lambda: (lambda r: r if len(recommended(r)) == 2 else None)(
        get(nginx, cookie)), IO_TIMEOUT, "both views in the live map")
    assert sorted(recommended(before)) == [b"BEANS-Y", b"MUG-X"]
    assert b">SALE NOW</tailor-slot>" in before.body
    assert popup_ids(before) == [b"browse-help"]

    get(nginx, cookie, "/order/done.html?order=A-1&total=12.5&sku=MUG-X")
    after = wait_for(lambda: (lambda r: r if b"MUG-X" not in r.body else None)(
        get(nginx, cookie)), IO_TIMEOUT, "the order in the live map")
    assert recommended(after) == [b"BEANS-Y"]
    # just purchased: the promotional slot keeps its default, no pop-up
    assert b">SALE NOW</tailor-slot>" not in after.body
    assert b">Free shipping over $50</tailor-slot>" in after.body
    assert popup_ids(after) == []

    live = redis.get("tailor:{%s}:live" % vid)
    assert live is not None and b"purchased" in live and b"last_order_at" in live
