-- Pop-up experiment: does an exit offer on product pages sell more than no pop-up at all?
-- Half the visitors get the offer, half nothing (the control), 10% are held out. The cart
-- rescue is not in the experiment and outranks it, so shoppers with a cart are exposed to
-- neither variant: the experiment does not decide their page.
local t = require "tailor"

t.experiment "exit-offer" { variants = { control = 50, discount = 50 }, holdout = 10 }

t.popup "exit-discount" {
  experiment = "exit-offer", variant = "discount",
  trigger = t.exit_intent(), intent = "product", when = t.path "^/products/",
  html = [[<h2>Before you go: 10% off this one</h2>
<a href="/cart?code=STAY10" data-tailor-convert>Take 10% off</a>]],
}

t.popup "cart-rescue" {
  trigger = t.exit_intent(), intent = "cart", when = t.cart_has_items(),
  html = [[<h2>Still thinking it over, {{first_name|friend}}?</h2>
<a href="/cart" data-tailor-convert>Back to my cart</a>]],
}
