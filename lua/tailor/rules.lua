-- tailor/rules.lua: templates, experiments, rules (t.rule and the built-in
-- kinds) and slots, as packs declare them while they load.

local kit = ...
local native, M = kit.native, kit.M
local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local floor = math.floor
local sort = table.sort
local format, find = string.format, string.find
local where, misuse, check_loading = kit.where, kit.misuse, kit.check_loading
local check_options, check_type, check_name = kit.check_options, kit.check_type, kit.check_name
local as_when, ALWAYS = kit.as_when, kit.ALWAYS

----------------------------------------------------------------------------
-- Templates, experiments and rules.

-- compile(who, html, vars, view): the template's id. Every {{name}} must be
-- one the render will know: a key of `vars` (the variables this kind of
-- rule provides), or a visitor field when `view` is true; a t.rule with a
-- `vars` function may also use the names that function returns, which only
-- exist when it runs (an unknown one then renders its default). So a typo
-- is refused here, at the pack's line, not at every visitor.
local template_names, view_field = native.template_names, native.view_field

local function compile(who, html, vars, view)
  local id, msg, line, column = native.compile(html)
  if not id then
    misuse("%s: html line %d, column %d: %s", who, line, column, msg)
  end
  if vars ~= true then
    for _, name in ipairs(template_names(id)) do
      if not (vars and vars[name]) and not (view and view_field(name)) then
        misuse("%s: unknown template name {{%s}} (%s)", who, name,
               view and "not a visitor field nor a variable of this rule"
               or "not a variable of this template")
      end
    end
  end
  return id
end

-- Rules as packs hold them: a read-only handle; the kit keeps the record.
local records = setmetatable({}, { __mode = "k" })

local function handle(r, name)
  local h = setmetatable({}, {
    __index = function(_, k) if k == "id" then return r.id end end,
    __newindex = function() error(name .. " is read-only", 2) end,
    __metatable = false,
  })
  records[h] = r
  return h
end

local experiments = {}  -- name -> { id, variants = set, line, file }

-- t.experiment "hero-copy" { variants = { a = 50, b = 50 }, holdout = 5, salt = "..." }
-- A map of variants is split in name order; a list { {"a", 50}, {"b", 50} }
-- keeps its own order.
function M.experiment(name)
  check_loading("t.experiment")
  check_name("t.experiment", name)
  local who = format("experiment %q", name)
  if name == "popup" then
    -- pop-up offers are recorded under this name (exposure "popup"/"offered")
    misuse("%s: the name is reserved for pop-up offers; pick another", who)
  end
  return function(opts)
    check_options(who, opts, { variants = true, holdout = true, salt = true })
    check_type(who, opts, "variants", "table", true)
    check_type(who, opts, "holdout", "number")
    check_type(who, opts, "salt", "string")
    if experiments[name] then misuse("%s: defined twice", who) end
    local list, set = {}, {}
    if #opts.variants > 0 then
      for i, pair in ipairs(opts.variants) do
        if type(pair) ~= "table" or type(pair[1]) ~= "string" or type(pair[2]) ~= "number" then
          misuse("%s: variant %d must be { name, weight }", who, i)
        end
        list[#list + 1] = { pair[1], pair[2] }
      end
    else
      for vname, weight in pairs(opts.variants) do
        if type(vname) ~= "string" or type(weight) ~= "number" then
          misuse("%s: variants must map names to weights", who)
        end
        list[#list + 1] = { vname, weight }
      end
      sort(list, function(a, b) return a[1] < b[1] end)
    end
    for _, pair in ipairs(list) do
      if pair[2] < 1 or pair[2] ~= floor(pair[2]) then
        misuse("%s: weight of '%s' must be a whole number >= 1", who, pair[1])
      end
      set[pair[1]] = true
    end
    local holdout = opts.holdout or 0
    if holdout ~= floor(holdout) then misuse("%s: holdout must be a whole percentage", who) end
    local id, msg = native.experiment(name, opts.salt or "", holdout, list)
    if not id then misuse("%s", msg) end
    -- var: the decision variable, named once rather than per evaluation
    experiments[name] = { id = id, variants = set, var = "exp_" .. name }
  end
end

local RULE_OPTIONS = {
  when = true, html = true, priority = true, vars = true, experiment = true, variant = true,
}

local defined = {}   -- every rule record made, for "defined but in no slot"
local rule_ids = {}  -- id -> true, for duplicates

local function new_rule(kind, id, opts, who)
  if rule_ids[id] then misuse("%s: a rule with this id already exists", who) end
  rule_ids[id] = true
  check_type(who, opts, "priority", "number")
  check_type(who, opts, "experiment", "string")
  check_type(who, opts, "variant", "string")
  if (opts.experiment == nil) ~= (opts.variant == nil) then
    misuse("%s: 'experiment' and 'variant' go together", who)
  end
  local when = as_when(who, opts.when)
  local file, line = where()
  local r = {
    kind = kind, id = id, file = file, line = line, when = when,
    priority = opts.priority or 0, experiment = opts.experiment, variant = opts.variant,
  }
  defined[#defined + 1] = r
  return r
end

-- t.rule "id" { when = predicate, html = "...", priority = 0, vars = function(v) ... end,
--               experiment = "name", variant = "a" }
function M.rule(id)
  check_loading("t.rule")
  check_name("t.rule", id)
  local who = format("rule %q", id)
  return function(opts)
    check_options(who, opts, RULE_OPTIONS)
    check_type(who, opts, "html", "string", true)
    check_type(who, opts, "vars", "function")
    local r = new_rule("rule", id, opts, who)
    -- with a vars function its names are only known when it runs
    r.tpl = compile(who, opts.html, opts.vars and true or {}, true)
    local when, vars = r.when, opts.vars
    if vars then
      r.check = function(v)
        if when and not when(v) then return false end
        return true, vars(v)
      end
    else
      -- a predicate already answers (matched); one call less per rule
      r.check = when or ALWAYS
    end
    return handle(r, who)
  end
end

-- Optional product catalog for names and links: { SKU = { name = "...", url = "/p/..." } }.
local NO_ITEM = {}  -- a sku missing from the catalog: no name, no url
local trusted_html = kit.trusted_html  -- t.html value -> its text (helpers.lua)

local function check_catalog(who, catalog)
  if catalog == nil then return {} end
  if type(catalog) ~= "table" then misuse("%s: 'catalog' must be a table", who) end
  for sku, item in pairs(catalog) do
    if type(sku) ~= "string" or type(item) ~= "table" then
      misuse("%s: catalog entries must map a sku to { name = ..., url = ... }", who)
    end
  end
  return catalog
end

-- t.reorder_prompt { due_within_days = 5, overdue_days = 30, html = "...",
--                    catalog = {...}, id = "reorder", priority = 70, when = ... }
-- The consumable whose last purchase + cycle days falls soonest within
-- [now - overdue_days, now + due_within_days], not in the cart. The latest
-- purchase per sku counts, so a visitor who just bought it again is not due.
-- Template variables: sku, sku_name, category, url, due_in_days, overdue_days,
-- days_since_purchase.
function M.reorder_prompt(opts)
  check_loading("t.reorder_prompt")
  local id = type(opts) == "table" and opts.id or "reorder"
  local who = format("reorder_prompt %q", tostring(id))
  check_options(who, opts, {
    id = true, due_within_days = true, overdue_days = true, html = true, catalog = true,
    priority = true, when = true, experiment = true, variant = true,
  })
  check_name(who, id)
  check_type(who, opts, "html", "string", true)
  check_type(who, opts, "due_within_days", "number")
  check_type(who, opts, "overdue_days", "number")
  local r = new_rule("reorder_prompt", id, { when = opts.when, priority = opts.priority or 70,
                     experiment = opts.experiment, variant = opts.variant }, who)
  r.tpl = compile(who, opts.html, {
    sku = true, sku_name = true, category = true, url = true, due_in_days = true,
    overdue_days = true, days_since_purchase = true,
  }, true)
  local within = (opts.due_within_days or 5) * 86400
  local overdue = (opts.overdue_days or 30) * 86400
  local catalog = check_catalog(who, opts.catalog)
  local when = r.when
  -- the search runs in core (native.due_consumable) straight from the
  -- profile: v.consumables is not built for it
  local due = native.due_consumable
  -- the vars, one table per rule refilled per evaluation (every key set each
  -- time): core renders them and rules never see them
  local out = {
    sku = false, sku_name = false, category = false, url = false, due_in_days = 0,
    overdue_days = 0, days_since_purchase = 0,
  }
  r.check = function(v)
    if when and not when(v) then return false end
    local sku, category, due_in_days, days_since_purchase = due(v, within, overdue)
    if not sku then return false end
    local item = catalog[sku] or NO_ITEM
    out.sku, out.sku_name, out.category, out.url = sku, item.name or sku, category, item.url
    out.due_in_days = due_in_days > 0 and due_in_days or 0
    out.overdue_days = due_in_days < 0 and -due_in_days or 0
    out.days_since_purchase = days_since_purchase
    return true, out
  end
  return handle(r, who)
end

-- t.reward_reminder { min_points = 500, tiers = {...}, expiring_within_days = 14,
--                     html = "...", id = "rewards", priority = 40, when = ... }
-- Template variables: points, tier, expire_in_days.
function M.reward_reminder(opts)
  check_loading("t.reward_reminder")
  local id = type(opts) == "table" and opts.id or "rewards"
  local who = format("reward_reminder %q", tostring(id))
  check_options(who, opts, {
    id = true, min_points = true, tiers = true, expiring_within_days = true, html = true,
    priority = true, when = true, experiment = true, variant = true,
  })
  check_name(who, id)
  check_type(who, opts, "html", "string", true)
  check_type(who, opts, "min_points", "number")
  check_type(who, opts, "expiring_within_days", "number")
  check_type(who, opts, "tiers", "table")
  local r = new_rule("reward_reminder", id, { when = opts.when, priority = opts.priority or 40,
                     experiment = opts.experiment, variant = opts.variant }, who)
  r.tpl = compile(who, opts.html, { points = true, tier = true, expire_in_days = true }, true)
  local min_points = opts.min_points or 1
  local tier_ok = opts.tiers and M.tier(opts.tiers)
  local expiring = opts.expiring_within_days
  local when = r.when
  local loyalty = native.loyalty
  local out = { points = 0, tier = false, expire_in_days = false }  -- as reorder_prompt's
  r.check = function(v)
    if when and not when(v) then return false end
    local points, tier, days = loyalty(v)  -- v.loyalty's fields, the table not built
    if points < min_points then return false end
    if tier_ok and not tier_ok(v) then return false end
    if expiring and not (days and days >= 0 and days <= expiring) then return false end
    out.points, out.tier, out.expire_in_days = points, tier, days
    return true, out
  end
  return handle(r, who)
end

-- t.recommendations { sources = { "viewed", "paired", "replenish", "attribute:recs" },
--                     pairs = { SKU = { "SKU2", ... } }, catalog = {...}, limit = 3,
--                     min_items = 1, item_html = "...", html = "...{{{items}}}...",
--                     id = "recs", priority = 30, when = ... }
-- Candidates come from the profile, in source order, deduplicated; anything
-- the visitor already bought is never shown (not configurable), nor what is
-- in the cart. Item variables: sku, name, url, category. The block's
-- variables: items (the rendered items), count.
local SOURCES = { viewed = true, paired = true, replenish = true }

function M.recommendations(opts)
  check_loading("t.recommendations")
  local id = type(opts) == "table" and opts.id or "recs"
  local who = format("recommendations %q", tostring(id))
  check_options(who, opts, {
    id = true, sources = true, pairs = true, catalog = true, limit = true, min_items = true,
    item_html = true, html = true, priority = true, when = true, experiment = true,
    variant = true,
  })
  check_name(who, id)
  check_type(who, opts, "html", "string", true)
  check_type(who, opts, "item_html", "string", true)
  check_type(who, opts, "sources", "table")
  check_type(who, opts, "pairs", "table")
  check_type(who, opts, "limit", "number")
  check_type(who, opts, "min_items", "number")
  local sources = opts.sources or { "viewed", "paired", "replenish" }
  for _, s in ipairs(sources) do
    if type(s) ~= "string" or not (SOURCES[s] or find(s, "^attribute:[%w_]+$")) then
      misuse("%s: unknown source %s (viewed, paired, replenish, attribute:NAME)", who,
             tostring(s))
    end
    if s == "paired" and not opts.pairs then
      misuse("%s: source 'paired' needs the 'pairs' option", who)
    end
  end
  local r = new_rule("recommendations", id, { when = opts.when, priority = opts.priority or 30,
                     experiment = opts.experiment, variant = opts.variant }, who)
  r.tpl = compile(who, opts.html, { items = true, count = true }, true)
  local item_tpl = compile(who .. " item_html", opts.item_html,
                           { sku = true, name = true, url = true, category = true }, false)
  local catalog = check_catalog(who, opts.catalog)
  local paired = opts.pairs or {}
  local limit = opts.limit or 3
  local min_items = opts.min_items or 1
  local when = r.when
  -- picking and rendering run in core (native.recommend) straight from the
  -- profile: v.purchased, v.in_cart and the sku lists are never built here
  local recommend = native.recommend
  -- as reorder_prompt's; `items` is one t.html value whose text is replaced
  local items = M.html("")
  local out = { items = items, count = 0 }
  r.check = function(v)
    if when and not when(v) then return false end
    local n, text = recommend(v, item_tpl, sources, paired, catalog, limit, min_items)
    if n < min_items then return false end
    trusted_html[items] = text
    out.count = n
    return true, out
  end
  return handle(r, who)
end

local slots, slot_by_name = {}, {}

-- t.slot "hero" { rule, rule, ..., promotional = true }
-- One winner per slot: rules by priority, highest first; equal priorities in
-- the order written. A promotional slot (the default) stays default while
-- t.suppressed(v) gives a reason.
function M.slot(name)
  check_loading("t.slot")
  check_name("t.slot", name)
  local who = format("slot %q", name)
  return function(opts)
    check_options(who, opts, { promotional = true })
    check_type(who, opts, "promotional", "boolean")
    if slot_by_name[name] then misuse("%s: defined twice", who) end
    local list = {}
    for i, item in ipairs(opts) do
      local r = records[item]
      if not r then
        misuse("%s: item %d is not a rule (use t.rule \"id\" { ... })", who, i)
      end
      if r.slot then misuse("%s: rule %q is already in slot %q", who, r.id, r.slot) end
      r.slot = name
      r.order = i
      list[i] = r
    end
    for k in pairs(opts) do
      if type(k) == "number" and (k < 1 or k > #opts or k ~= floor(k)) then
        misuse("%s: rules must be a plain list", who)
      end
    end
    sort(list, function(a, b)
      if a.priority ~= b.priority then return a.priority > b.priority end
      return a.order < b.order
    end)
    local slot = { name = name, rules = list, promotional = opts.promotional ~= false }
    slots[#slots + 1] = slot
    slot_by_name[name] = slot
  end
end

kit.compile, kit.experiments, kit.defined = compile, experiments, defined
kit.slots = slots
