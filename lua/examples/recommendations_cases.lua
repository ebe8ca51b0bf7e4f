-- Cases for recommendations.lua
return {
  now = 1763600000,
  { name = "nothing to go on: default", profile = {}, expect = { recommendations = false } },
  { name = "pairs of a purchase, minus what was bought",
    profile = { orders_count = 2, last_order_at = days_ago(10),
                purchases = { { sku = "COF-250", at = days_ago(10), cycle_days = 21 },
                              { sku = "FILTER-100", at = days_ago(10) } } },
    expect = { recommendations = "recs" },
    contains = { recommendations = "V60 dripper" } },
  { name = "a bought item never shows, even if viewed",
    profile = { orders_count = 1, last_order_at = days_ago(10),
                purchases = { { sku = "GRINDER-HAND", at = days_ago(10) } },
                viewed = { { sku = "GRINDER-HAND", at = days_ago(1) }, { sku = "MUG-STONE", at = days_ago(1) } } },
    contains = { recommendations = "Stoneware mug" } },
  { name = "shop-provided candidates from an attribute",
    profile = { attrs = { recs = "DRIPPER-V60,MUG-STONE" } },
    contains = { recommendations = "V60 dripper" } },
}
