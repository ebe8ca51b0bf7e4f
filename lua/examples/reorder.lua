-- Reorder: a consumable about to run out, per SKU; never when just re-bought or already in the cart.
local t = require "tailor"

t.slot "reorder" {
  t.reorder_prompt {
    due_within_days = 5, overdue_days = 30,
    catalog = {
      ["COF-250"] = { name = "Ethiopia Yirgacheffe 250 g" },
      ["COF-1KG"] = { name = "House blend 1 kg" },
      ["TEA-100"] = { name = "Sencha 100 g" },
    },
    html = [[<div class="reorder">Running low on {{sku_name}}? <a href="/cart/add?sku={{sku}}">Reorder in one click</a></div>]],
  },
}
