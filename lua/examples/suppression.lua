-- Suppression: an open return or complaint, or a purchase in the last 24 hours, turns promotions off.
local t = require "tailor"

t.config { suppress = { open_return = true, open_complaint = true, recent_purchase_hours = 24 } }

t.slot "hero" {
  t.rule "sale" { html = [[<div class="hero">Winter sale: 20% off all grinders.</div>]] },
}

-- Service content is not promotional, so it still shows.
t.slot "notice" { promotional = false,
  t.rule "return-status" {
    when = function(v) return v.flags.open_return end,
    html = [[<div class="notice">Your return is being processed. Questions? We are here.</div>]],
  },
}
