-- Recommendations: recently viewed and frequently paired, never anything already bought or in the cart.
local t = require "tailor"

local catalog = {
  ["COF-250"] = { name = "Ethiopia Yirgacheffe 250 g" },
  ["COF-1KG"] = { name = "House blend 1 kg" },
  ["FILTER-100"] = { name = "Paper filters, 100" },
  ["DRIPPER-V60"] = { name = "V60 dripper" },
  ["GRINDER-HAND"] = { name = "Hand grinder" },
  ["MUG-STONE"] = { name = "Stoneware mug" },
}

t.slot "recommendations" {
  t.recommendations {
    sources = { "viewed", "paired", "attribute:recs" },
    pairs = {
      ["COF-250"] = { "FILTER-100", "DRIPPER-V60", "GRINDER-HAND" },
      ["COF-1KG"] = { "GRINDER-HAND", "MUG-STONE", "FILTER-100" },
    },
    catalog = catalog, limit = 3,
    item_html = [[<li><a href="/products/{{sku}}">{{name}}</a></li>]],
    html = [[<section class="recs"><h2>Picked for you</h2><ul>{{{items}}}</ul></section>]],
  },
}
