-- Lifecycle hero: one greeting per stage, win-back first, then perks, then welcome.
local t = require "tailor"

t.config { lifecycle = { at_risk_days = 60, lapsed_days = 90, vip_orders = 5, vip_spent = 50000 } }

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
    when = t.lifecycle "new_buyer", priority = 50,
    html = [[<div class="hero">Thanks for your first order, {{first_name|there}}! Here is how to brew it best.</div>]],
  },
  t.rule "subscriber" {
    when = t.lifecycle "new_subscriber",
    html = [[<div class="hero">Welcome to the list: 10% off your first order with code HELLO10.</div>]],
  },
}
