-- The rule pack of bench/http/run: one rule set for the three slots of
-- tests/data/pages/product.html (hero, recommendations, reward-reminder), so a
-- known visitor (tests/data/profiles/vip_with_cart.json) fills all three and a
-- cookie-less visitor runs the same rules and fills the hero.
local t = require "tailor"

t.slot "hero" {
  t.rule "win-back" {
    when = t.lifecycle { "lapsed", "at_risk" }, priority = 90,
    html = [[<div class="hero">We miss you, {{first_name|friend}}: 15% off your next bag this week.</div>]],
  },
  t.rule "vip-perks" {
    when = t.lifecycle "vip", priority = 80,
    html = [[<div class="hero">{{first_name}}, your VIP early access to the holiday roasts is open.</div>]],
  },
  t.rule "welcome-back" {
    when = t.lifecycle "repeat_buyer", priority = 50,
    html = [[<div class="hero">Welcome back, {{first_name|there}}. New Ethiopian beans just landed.</div>]],
  },
  t.rule "first-visit" {
    when = t.lifecycle "new_visitor", priority = 10,
    html = [[<div class="hero">New here? Your first bag ships free.</div>]],
  },
}

t.slot "reward-reminder" {
  t.reward_reminder {
    id = "points", min_points = 100,
    html = [[<div class="rewards">You have {{points}} points. 500 get you a free bag.</div>]],
  },
}

t.slot "recommendations" {
  t.recommendations {
    sources = { "viewed", "paired" },
    pairs = { ["COF-1KG"] = { "GRINDER-HAND", "MUG-STONE" } },
    catalog = { ["GRINDER-ELECTRIC"] = { name = "Electric grinder" }, ["ESP-BLEND-1KG"] = { name = "Espresso blend 1 kg" },
                ["MUG-STONE"] = { name = "Stoneware mug" }, ["GRINDER-HAND"] = { name = "Hand grinder" } },
    item_html = [[<li><a href="/products/{{sku}}">{{name}}</a></li>]],
    html = [[<section class="recs"><h2>Picked for you</h2><ul>{{{items}}}</ul></section>]],
  },
}
