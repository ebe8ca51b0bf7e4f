-- popups.lua: behavioral pop-ups (docs/popups.md). At most one per page view:
-- the cart rescue beats the product nudge beats the newsletter offer.
local t = require "tailor"

-- per_day caps count calendar days in the shop's time zone (UTC+1 here)
t.config { popups = { utc_offset_minutes = 60 } }

-- A shopper with a cart who moves to leave: remind them, once a visit.
t.popup "cart-rescue" {
  trigger = t.exit_intent(),
  intent = "cart",
  priority = 10,
  when = t.cart_has_items(),
  html = [[<h2>Still thinking it over?</h2>
<p>Your {{cart_count}} item(s) are saved. Free shipping ends tonight.</p>
<a href="/cart" data-tailor-convert>Back to my cart</a>]],
  caps = { per_visit = 1, per_day = 2, cooldown_hours = 12, stop_after_conversion = true },
}

-- Lingering on a product page without adding it to the cart.
t.popup "product-help" {
  trigger = t.linger(30),
  intent = "product",
  when = t.path "^/products/",
  html = [[<h2>Questions about this one?</h2><p>Chat with our coffee team.</p>]],
  caps = { per_visit = 1, per_day = 3, cooldown_hours = 4 },
}

-- Returning browsers: the newsletter offer, at most once a day.
t.popup "newsletter" {
  trigger = t.repeat_visit { n = 3, within_days = 30 },
  intent = "browse",
  priority = 5,
  html = [[<h2>10% off your first bag</h2><p>Join the list, {{first_name|friend}}.</p>]],
  caps = { per_visit = 1, per_day = 1, cooldown_hours = 72 },
  exclude = { email_campaign = true },
}

-- Deep readers of the journal, as a last resort.
t.popup "journal" {
  trigger = t.scroll_depth(70),
  intent = "browse",
  when = t.path "^/journal/",
  html = [[<p>Liked this? Get the next brewing guide by email.</p>]],
  caps = { per_visit = 1, per_day = false, cooldown_hours = false },
}
