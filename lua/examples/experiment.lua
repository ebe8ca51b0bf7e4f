-- Experiment: two hero copies for repeat buyers, 10% held out; exposures land in the decision.
local t = require "tailor"

t.experiment "hero-copy" { variants = { a = 50, b = 50 }, holdout = 10 }

t.slot "hero" {
  t.rule "hero-a" {
    experiment = "hero-copy", variant = "a", when = t.lifecycle "repeat_buyer",
    html = [[<div class="hero">Welcome back, {{first_name|there}}.</div>]],
  },
  t.rule "hero-b" {
    experiment = "hero-copy", variant = "b", when = t.lifecycle "repeat_buyer",
    html = [[<div class="hero">{{first_name|Hi}}, your usual is one click away.</div>]],
  },
}
