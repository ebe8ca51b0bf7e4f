-- Rewards: points about to lapse first, then a nudge toward the next reward, by tier.
local t = require "tailor"

t.slot "rewards" {
  t.reward_reminder {
    id = "points-expiring", min_points = 100, expiring_within_days = 14, priority = 60,
    html = [[<div class="rewards">Your {{points}} points expire in {{expire_in_days}} days: use them today.</div>]],
  },
  t.reward_reminder {
    id = "vip-points", min_points = 1000, tiers = { "vip" }, priority = 50,
    html = [[<div class="rewards">{{points}} points: enough for something from your cart.</div>]],
  },
  t.reward_reminder {
    id = "points", min_points = 100,
    html = [[<div class="rewards">You have {{points}} points. 500 get you a free bag.</div>]],
  },
}
