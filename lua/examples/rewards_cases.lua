-- Cases for rewards.lua
return {
  now = 1763600000,
  { name = "no points, no reminder", profile = {}, expect = { rewards = false } },
  { name = "member with points",
    profile = { orders_count = 1, last_order_at = days_ago(9), loyalty = { points = 120, tier = "member" } },
    expect = { rewards = "points" }, contains = { rewards = "120 points" } },
  { name = "VIP with many points",
    profile = { orders_count = 23, last_order_at = days_ago(3), loyalty = { points = 5120, tier = "vip" } },
    expect = { rewards = "vip-points" } },
  { name = "expiring points come first",
    profile = { orders_count = 23, last_order_at = days_ago(3),
                loyalty = { points = 5120, tier = "vip", points_expire_at = days_from_now(6) } },
    expect = { rewards = "points-expiring" }, contains = { rewards = "expire in 6 days" } },
  { name = "99 points is below the threshold",
    profile = { orders_count = 1, last_order_at = days_ago(9), loyalty = { points = 99 } },
    expect = { rewards = false } },
}
