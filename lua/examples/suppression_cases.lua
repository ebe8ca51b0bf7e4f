-- Cases for suppression.lua
return {
  now = 1763600000,
  { name = "no reason to hold back", profile = { orders_count = 2, last_order_at = days_ago(10) },
    expect = { hero = "sale", notice = false } },
  { name = "open return: no sale, but the return notice",
    profile = { orders_count = 2, last_order_at = days_ago(10), flags = { open_return = true } },
    expect = { hero = false, notice = "return-status" } },
  { name = "open complaint", profile = { orders_count = 2, last_order_at = days_ago(10),
                                         flags = { open_complaint = true } },
    expect = { hero = false } },
  { name = "bought 3 hours ago", profile = { orders_count = 2, last_order_at = hours_ago(3) },
    expect = { hero = false } },
  { name = "bought 24 hours ago exactly", profile = { orders_count = 2, last_order_at = hours_ago(24) },
    expect = { hero = "sale" } },
}
