-- Storefront: the demo's whole home page (conf/demo), one pack for every slot it has.
-- Every link it writes goes to a page of the demo site (/products/<SKU>.html).
local t = require "tailor"

-- A first order is news for two weeks; after that the same customer needs a
-- reason for the second one, not a thank-you for the first.
local FIRST_ORDER_NEWS_DAYS = 14

local function ordered_within(days)
  return function(v) return (v.days_since_last_order or 0) <= days end
end

local function ordered_before(days)
  return function(v) return (v.days_since_last_order or 0) > days end
end

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
  t.rule "first-order" {
    when = { t.lifecycle "new_buyer", ordered_within(FIRST_ORDER_NEWS_DAYS) }, priority = 50,
    html = [[<div class="hero">Thanks for your first order, {{first_name|there}}! Here is how to brew it best.</div>]],
  },
  t.rule "second-order" {
    when = { t.lifecycle "new_buyer", ordered_before(FIRST_ORDER_NEWS_DAYS) }, priority = 50,
    vars = function(v) return { weeks = math.floor(v.days_since_last_order / 7) } end,
    html = [[<div class="hero">{{first_name|Hello}}, {{weeks}} weeks since your first bag: ready for the next one? Your second order ships free.</div>]],
  },
}

t.slot "rewards" {
  t.reward_reminder {
    id = "vip-points", min_points = 1000, tiers = { "vip" }, priority = 50,
    html = [[<div class="rewards"><p><strong>{{points}} points</strong> — enough for something in your cart.</p><a class="button button-quiet" href="/cart.html">Use them at checkout</a></div>]],
  },
  t.reward_reminder {
    id = "free-bag", min_points = 500, priority = 45,
    html = [[<div class="rewards"><p><strong>{{points}} points</strong>: enough for a free bag of any coffee.</p><a class="button button-quiet" href="/cart.html">Use them at checkout</a></div>]],
  },
  t.reward_reminder {
    id = "points", min_points = 100,
    html = [[<div class="rewards"><p><strong>{{points}} points</strong> on your account. 500 get you a free bag.</p></div>]],
  },
}

t.slot "reorder" {
  t.reorder_prompt {
    due_within_days = 7, overdue_days = 30,
    catalog = { ["COF-250"] = { name = "Ethiopia Yirgacheffe 250 g" },
                ["COF-1KG"] = { name = "House blend 1 kg" } },
    html = [[<div class="reorder"><div><strong>Time for more {{sku_name}}?</strong>
<p>Your last one was {{days_since_purchase}} days ago.</p></div>
<a class="button" href="/products/{{sku}}.html#add-to-cart">Reorder</a></div>]],
  },
}

t.slot "recommendations" {
  t.recommendations {
    sources = { "viewed", "paired" },
    pairs = { ["COF-250"] = { "FILTER-100", "DRIPPER-V60" }, ["COF-1KG"] = { "GRINDER-HAND", "MUG-STONE" } },
    catalog = { ["FILTER-100"] = { name = "Paper filters, 100" }, ["DRIPPER-V60"] = { name = "V60 dripper" },
                ["GRINDER-HAND"] = { name = "Hand grinder" }, ["MUG-STONE"] = { name = "Stoneware mug" } },
    item_html = [[<li><a href="/products/{{sku}}.html">{{name}}</a></li>]],
    html = [[<section class="recs"><h2>Picked for you</h2><ul>{{{items}}}</ul></section>]],
  },
}

t.slot "cart-summary" {
  t.rule "cart-vip" { when = { t.cart_has_items(), t.lifecycle "vip" }, priority = 10,
    html = [[<div class="cart">{{cart_count}} item(s) waiting in your cart, with free VIP shipping.</div>]] },
  t.rule "cart" { when = t.cart_has_items(),
    html = [[<div class="cart">{{cart_count}} item(s) waiting in your cart.</div>]] },
}

-- Pop-ups (docs/popups.md): at most one per page view, the cart first.
t.popup "cart-rescue" {
  trigger = t.exit_intent(), intent = "cart", priority = 10,
  when = t.cart_has_items(),
  html = [[<h2>Leaving already, {{first_name|friend}}?</h2>
<p>Your {{cart_count}} item(s) are saved for you, and shipping is free this week.</p>
<a class="button" href="/cart.html" data-tailor-convert>Back to my cart</a>]],
  caps = { per_visit = 1, per_day = 1, cooldown_hours = 12 },
}

t.popup "product-help" {
  trigger = t.linger(8), intent = "product",
  when = t.path "^/products/",
  html = [[<h2>Not sure which roast?</h2>
<p>Tell us how you brew and our roasters will pick for you.</p>
<a class="button" href="/#roast-quiz" data-tailor-convert>Find my roast</a>]],
  caps = { per_visit = 1, per_day = 2, cooldown_hours = 4 },
}
