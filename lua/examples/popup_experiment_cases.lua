-- Cases for popup_experiment.lua: the visitor id decides the variant (core's SHA-256
-- bucketing): shopper-1 is in discount, shopper-2 in control, shopper-3 in the holdout.
local product = { url = "/products/kettle" }
local function as(vid) return { url = product.url, vid = vid } end
return {
  now = 1763600000,
  { name = "discount: offered, exposed",
    request = as("shopper-1"), popup = "exit-discount",
    exposed = { ["exit-offer"] = "discount" }, contains = { ["*"] = "10% off" } },
  { name = "control: no pop-up, exposed all the same",
    request = as("shopper-2"), popup = false,
    popup_why = { ["exit-discount"] = "other-variant" }, exposed = { ["exit-offer"] = "control" } },
  { name = "holdout: no pop-up, exposed as holdout",
    request = as("shopper-3"), popup = false,
    popup_why = { ["exit-discount"] = "holdout" }, exposed = { ["exit-offer"] = "holdout" } },
  { name = "the same visitor on another product page: the same variant",
    request = { url = "/products/grinder", vid = "shopper-1" }, popup = "exit-discount",
    exposed = { ["exit-offer"] = "discount" } },
  { name = "discount, already shown this visit: capped, still in the variant",
    request = as("shopper-1"), live = { visits = 3 },
    caps = { ["exit-discount"] = { imp = { hours_ago(0) }, visit = 3, visit_imp = 1 } },
    popup = false, popup_why = { ["exit-discount"] = "cap-per-visit" },
    exposed = { ["exit-offer"] = "discount" } },
  { name = "not a product page: not reached, not exposed",
    request = { url = "/", vid = "shopper-2" }, popup = false,
    exposed = { ["exit-offer"] = false } },
  { name = "a cart: the cart rescue takes the page, nobody exposed",
    request = as("shopper-2"), profile = { cart = { { sku = "KETTLE-1", qty = 1 } } },
    popup = "cart-rescue", exposed = { ["exit-offer"] = false } },
  { name = "bought an hour ago: excluded in every variant",
    request = as("shopper-2"), profile = { orders_count = 1, last_order_at = hours_ago(1) },
    popup = false, popup_why = { ["exit-discount"] = "other-variant" },
    exposed = { ["exit-offer"] = false } },
}
