-- Cases for experiment.lua: the visitor id decides the group (core's SHA-256 bucketing).
local buyer = { first_name = "Marta", orders_count = 3, last_order_at = days_ago(10) }
return {
  now = 1763600000,
  { name = "not eligible: no exposure, default", profile = {}, expect = { hero = false } },
  { name = "visitor 1", profile = buyer, request = { vid = "visitor-1" }, expect = { hero = "hero-b" } },
  { name = "visitor 2", profile = buyer, request = { vid = "visitor-2" }, expect = { hero = "hero-a" } },
  { name = "visitor 9 is in the 10% holdout", profile = buyer, request = { vid = "visitor-9" }, expect = { hero = false } },
}
