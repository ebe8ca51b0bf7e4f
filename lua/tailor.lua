-- tailor.lua: the rule kit marketers `require "tailor"` in rule packs (docs/rules.md).
--
-- Loaded once per Lua state by core (rules_runtime.cpp) with the trusted
-- standard library, and handed `native`, the C functions of the runtime. It
-- returns the runtime's entry points; rule packs only ever see the public
-- table `M` through the sandbox's `require "tailor"`.
--
-- Two phases. While packs load, the constructors (t.slot, t.rule, ...) check
-- every option and report misuse at the pack's file and line. Afterwards the
-- kit is frozen: evaluate() walks the slots for one visitor, and the
-- constructors refuse to run, so a rule cannot grow the pack per request.

local native = ...

local type, pairs, ipairs, next, select, tostring, tonumber, error, rawget, rawset, setmetatable,
      getmetatable, setfenv, unpack =
      type, pairs, ipairs, next, select, tostring, tonumber, error, rawget, rawset, setmetatable,
      getmetatable, setfenv, unpack
local floor, huge = math.floor, math.huge
local sort, concat = table.sort, table.concat
local format, find, sub, gsub, match, gmatch =
      string.format, string.find, string.sub, string.gsub, string.match, string.gmatch
local getinfo = debug.getinfo
local KIT_SOURCE = getinfo(1, "S").source

local M = {}      -- the public kit
local runtime = {}  -- what core calls

----------------------------------------------------------------------------
-- Misuse reports: "pack.lua:12: rule "x": unknown option 'wen'".

-- The first stack frame outside this file is the pack line that called us.
local function where()
  for level = 2, 40 do
    local info = getinfo(level, "Sl")
    if not info then break end
    if info.source ~= KIT_SOURCE and info.what ~= "C" then
      -- source, not short_src: short_src cuts long paths to 60 bytes
      local src = info.source
      return sub(src, 1, 1) == "@" and sub(src, 2) or info.short_src, info.currentline
    end
  end
  return "?", 0
end

local function misuse(fmt, ...)
  local file, line = where()
  error(format("%s:%d: %s", file, line, format(fmt, ...)), 0)
end

local loading = false

local function check_loading(what)
  if not loading then
    error(what .. " may only be called while the rule pack loads, not from a rule", 2)
  end
end

local function check_options(who, opts, allowed)
  if type(opts) ~= "table" then
    misuse("%s: expected a table of options, got %s", who, type(opts))
  end
  for k in pairs(opts) do
    if type(k) ~= "number" and not allowed[k] then
      local names = {}
      for name in pairs(allowed) do names[#names + 1] = name end
      sort(names)
      misuse("%s: unknown option '%s' (known: %s)", who, tostring(k), concat(names, ", "))
    end
  end
end

local function check_type(who, opts, key, want, required)
  local v = opts[key]
  if v == nil then
    if required then misuse("%s: option '%s' is required", who, key) end
    return
  end
  if type(want) == "table" then
    if not want[type(v)] then
      misuse("%s: option '%s' must be a %s, got %s", who, key, want._name, type(v))
    end
  elseif type(v) ~= want then
    misuse("%s: option '%s' must be a %s, got %s", who, key, want, type(v))
  end
end

local function check_name(who, name)
  if type(name) ~= "string" or not find(name, "^[%w_%-]+$") or #name > 64 then
    misuse("%s: name must be 1..64 characters of letters, digits, '_' or '-', got %s", who,
           type(name) == "string" and format("%q", name) or type(name))
  end
end

----------------------------------------------------------------------------
-- Configuration: lifecycle thresholds and suppression.

local config = {
  lifecycle = {
    new_visitor_visits = 1,  -- at most this many visits and no order: a new visitor
    repeat_orders = 2,       -- this many orders: a repeat buyer
    vip_orders = 5,          -- this many orders, or ...
    vip_spent = 50000,       -- ... this much spent (minor units): VIP
    at_risk_days = 60,       -- a buyer this long without an order is at risk
    lapsed_days = 90,        -- ... and this long, lapsed
  },
  suppress = {
    open_return = true,
    open_complaint = true,
    recent_purchase_hours = 24,  -- 0 switches this one off
  },
  popups = {
    utc_offset_minutes = 0,  -- what a "day" is for per_day caps: UTC plus this
  },
}

local STAGES = {
  new_visitor = true, returning_visitor = true, new_subscriber = true, new_buyer = true,
  repeat_buyer = true, vip = true, at_risk = true, lapsed = true,
}

-- t.config { lifecycle = {...}, suppress = {...}, popups = {...} }: overrides the defaults.
function M.config(opts)
  check_loading("t.config")
  check_options("t.config", opts, { lifecycle = true, suppress = true, popups = true })
  for section, values in pairs(opts) do
    check_options("t.config " .. section, values, config[section])
    for k, v in pairs(values) do
      local want = type(config[section][k])
      if type(v) ~= want then
        misuse("t.config %s: '%s' must be a %s, got %s", section, k, want, type(v))
      end
      if k == "utc_offset_minutes" then
        if v ~= floor(v) or v < -840 or v > 840 then
          misuse("t.config popups: 'utc_offset_minutes' must be a whole number in -840..840")
        end
      elseif want == "number" and v < 0 then
        misuse("t.config %s: '%s' must not be negative", section, k)
      end
      config[section][k] = v
    end
  end
  local lc = config.lifecycle
  if lc.lapsed_days < lc.at_risk_days then
    misuse("t.config lifecycle: lapsed_days (%d) is below at_risk_days (%d)",
           lc.lapsed_days, lc.at_risk_days)
  end
end

----------------------------------------------------------------------------
-- Helpers over the visitor view `v`. Each returns a value or a predicate
-- (a function of v) usable as a rule's `when`.

-- Memo of one evaluation: the view it belongs to and what was computed.
local memo_view, memo_stage, memo_suppressed

-- t.stage(v): the lifecycle stage, recency first (a lapsed VIP is lapsed:
-- win-back matters more than perks), then monetary and frequency.
function M.stage(v)
  if memo_view == v and memo_stage then return memo_stage end
  local lc = config.lifecycle
  local stage
  local orders = v.orders_count
  if orders > 0 then
    local days = v.days_since_last_order
    if days and days >= lc.lapsed_days then
      stage = "lapsed"
    elseif days and days >= lc.at_risk_days then
      stage = "at_risk"
    elseif orders >= lc.vip_orders or v.total_spent >= lc.vip_spent then
      stage = "vip"
    elseif orders >= lc.repeat_orders then
      stage = "repeat_buyer"
    else
      stage = "new_buyer"
    end
  elseif v.consent.email == "granted" then
    stage = "new_subscriber"
  elseif v.visits <= lc.new_visitor_visits then
    stage = "new_visitor"
  else
    stage = "returning_visitor"
  end
  if memo_view == v then memo_stage = stage end
  return stage
end

-- t.lifecycle "vip" or t.lifecycle {"vip", "repeat_buyer"}: a predicate.
function M.lifecycle(stages)
  local set = {}
  if type(stages) == "string" then stages = { stages } end
  if type(stages) ~= "table" or #stages == 0 then
    misuse("t.lifecycle: expected a stage name or a list of them")
  end
  for _, s in ipairs(stages) do
    if not STAGES[s] then
      local names = {}
      for name in pairs(STAGES) do names[#names + 1] = name end
      sort(names)
      misuse("t.lifecycle: unknown stage '%s' (known: %s)", tostring(s), concat(names, ", "))
    end
    set[s] = true
  end
  local stage = M.stage
  return function(v) return set[stage(v)] == true end
end

-- t.affinity("coffee", 0.5): leans to a category at least that much.
function M.affinity(category, min_score)
  if type(category) ~= "string" then misuse("t.affinity: category must be a string") end
  min_score = min_score or 0.5
  if type(min_score) ~= "number" then misuse("t.affinity: min_score must be a number") end
  -- v.affinity[category], read by core without building v.affinity
  local affinity = native.affinity
  return function(v) return (affinity(v, category) or 0) >= min_score end
end

-- t.top_category "coffee": that category is the visitor's strongest.
function M.top_category(category)
  if type(category) ~= "string" then misuse("t.top_category: category must be a string") end
  return function(v) return v.top_category == category end
end

function M.logged_in() return function(v) return v.logged_in end end
function M.logged_out() return function(v) return not v.logged_in end end
function M.cart_has_items() return function(v) return v.cart_count > 0 end end
function M.cart_empty() return function(v) return v.cart_count == 0 end end

function M.cart_value_at_least(amount)
  if type(amount) ~= "number" then misuse("t.cart_value_at_least: amount must be a number") end
  return function(v) return v.cart_value >= amount end
end

function M.points_at_least(points)
  if type(points) ~= "number" then misuse("t.points_at_least: points must be a number") end
  return function(v) return v.points >= points end
end

function M.tier(tiers)
  if type(tiers) == "string" then tiers = { tiers } end
  if type(tiers) ~= "table" then misuse("t.tier: expected a tier name or a list of them") end
  local set = {}
  for _, name in ipairs(tiers) do set[name] = true end
  return function(v) return v.tier ~= nil and set[v.tier] == true end
end

-- Request facts, v.request.path (1), .referrer (2), .device (3), read by
-- core without building v.request (a table and a cookie table).
local request = native.request

-- t.path "^/products/": the request path matches a Lua pattern.
function M.path(pattern)
  if type(pattern) ~= "string" then misuse("t.path: pattern must be a string") end
  return function(v) return find(request(v, 1) or "", pattern) ~= nil end
end

function M.device(class)
  if type(class) ~= "string" then misuse("t.device: class must be a string") end
  return function(v) return request(v, 3) == class end
end

function M.source(name)
  if type(name) ~= "string" then misuse("t.source: name must be a string") end
  return function(v) return request(v, 2) == name end
end

-- t.cookie("ab_banner", "off"): a whitelisted cookie is set (to that value).
function M.cookie(name, value)
  if type(name) ~= "string" then misuse("t.cookie: name must be a string") end
  return function(v)
    local got = v.request.cookies[name]
    if value == nil then return got ~= nil end
    return got == value
  end
end

-- t.all{...}, t.any{...}, t.no(p): combine predicates.
local function as_predicate(who, p)
  if type(p) == "function" then return p end
  if type(p) == "boolean" then return function() return p end end
  misuse("%s: expected a predicate (a function of v), got %s", who, type(p))
end

function M.all(list)
  if type(list) ~= "table" then misuse("t.all: expected a list of predicates") end
  local ps = {}
  for i, p in ipairs(list) do ps[i] = as_predicate("t.all", p) end
  local n = #ps
  return function(v)
    for i = 1, n do
      if not ps[i](v) then return false end
    end
    return true
  end
end

function M.any(list)
  if type(list) ~= "table" then misuse("t.any: expected a list of predicates") end
  local ps = {}
  for i, p in ipairs(list) do ps[i] = as_predicate("t.any", p) end
  local n = #ps
  return function(v)
    for i = 1, n do
      if ps[i](v) then return true end
    end
    return false
  end
end

function M.no(p)
  p = as_predicate("t.no", p)
  return function(v) return not p(v) end
end

-- t.suppressed(v): why promotions are off for this visitor, or nil.
function M.suppressed(v)
  if memo_view == v and memo_suppressed ~= nil then return memo_suppressed or nil end
  local s = config.suppress
  local reason = false
  local open_return, open_complaint = native.flags(v)  -- v.flags, not built
  if s.open_return and open_return then
    reason = "open_return"
  elseif s.open_complaint and open_complaint then
    reason = "open_complaint"
  elseif s.recent_purchase_hours > 0 then
    local hours = v.hours_since_last_purchase
    if hours and hours < s.recent_purchase_hours then reason = "recent_purchase" end
  end
  if memo_view == v then memo_suppressed = reason end
  return reason or nil
end

-- t.html(s): marks a string the pack built as HTML for a {{{raw}}}
-- placeholder. Never pass profile data through it.
local Trusted = { __metatable = "tailor.html" }
function M.html(s)
  if type(s) ~= "string" then error("t.html: expected a string", 2) end
  return setmetatable({ html = s }, Trusted)
end

----------------------------------------------------------------------------
-- Templates, experiments and rules.

local function compile(who, html)
  local id, msg, line, column = native.compile(html)
  if not id then
    misuse("%s: html line %d, column %d: %s", who, line, column, msg)
  end
  return id
end

local experiments = {}  -- name -> { id, variants = set, line, file }

-- t.experiment "hero-copy" { variants = { a = 50, b = 50 }, holdout = 5, salt = "..." }
-- A map of variants is split in name order; a list { {"a", 50}, {"b", 50} }
-- keeps its own order.
function M.experiment(name)
  check_loading("t.experiment")
  check_name("t.experiment", name)
  local who = format("experiment %q", name)
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
    experiments[name] = { id = id, variants = set }
  end
end

local RULE_OPTIONS = {
  when = true, html = true, priority = true, vars = true, experiment = true, variant = true,
}

local function ALWAYS() return true end

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
  local when = opts.when
  if type(when) == "table" then
    when = M.all(when)
  elseif when ~= nil and type(when) ~= "function" and type(when) ~= "boolean" then
    misuse("%s: option 'when' must be a function, a list of predicates or a boolean, got %s",
           who, type(when))
  elseif type(when) == "boolean" then
    when = as_predicate(who, when)
  end
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
    r.tpl = compile(who, opts.html)
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
    return r
  end
end

-- Optional product catalog for names and links: { SKU = { name = "...", url = "/p/..." } }.
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
  r.tpl = compile(who, opts.html)
  local within = (opts.due_within_days or 5) * 86400
  local overdue = (opts.overdue_days or 30) * 86400
  local catalog = check_catalog(who, opts.catalog)
  local when = r.when
  -- the search runs in core (native.due_consumable) straight from the
  -- profile: v.consumables is not built for it
  local due = native.due_consumable
  r.check = function(v)
    if when and not when(v) then return false end
    local sku, category, due_in_days, days_since_purchase = due(v, within, overdue)
    if not sku then return false end
    local item = catalog[sku] or {}
    return true, {
      sku = sku, sku_name = item.name or sku, category = category, url = item.url,
      due_in_days = due_in_days > 0 and due_in_days or 0,
      overdue_days = due_in_days < 0 and -due_in_days or 0,
      days_since_purchase = days_since_purchase,
    }
  end
  return r
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
  r.tpl = compile(who, opts.html)
  local min_points = opts.min_points or 1
  local tier_ok = opts.tiers and M.tier(opts.tiers)
  local expiring = opts.expiring_within_days
  local when = r.when
  local loyalty = native.loyalty
  r.check = function(v)
    if when and not when(v) then return false end
    local points, tier, days = loyalty(v)  -- v.loyalty's fields, the table not built
    if points < min_points then return false end
    if tier_ok and not tier_ok(v) then return false end
    if expiring and not (days and days >= 0 and days <= expiring) then return false end
    return true, { points = points, tier = tier, expire_in_days = days }
  end
  return r
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
  r.tpl = compile(who, opts.html)
  local item_tpl = compile(who .. " item_html", opts.item_html)
  local catalog = check_catalog(who, opts.catalog)
  local paired = opts.pairs or {}
  local limit = opts.limit or 3
  local min_items = opts.min_items or 1
  local when = r.when
  -- picking and rendering run in core (native.recommend) straight from the
  -- profile: v.purchased, v.in_cart and the sku lists are never built here
  local recommend, html = native.recommend, M.html
  r.check = function(v)
    if when and not when(v) then return false end
    local n, items = recommend(v, item_tpl, sources, paired, catalog, limit, min_items)
    if n < min_items then return false end
    return true, { items = html(items), count = n }
  end
  return r
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
    for i, r in ipairs(opts) do
      if type(r) ~= "table" or not r.check then
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

----------------------------------------------------------------------------
-- Pop-ups (docs/popups.md): declared like rules, decided on the server (at
-- most one per page view, by core's policy over the visitor's caps), shown
-- by the client runtime when the trigger fires.

local trigger_json = setmetatable({}, { __mode = "k" })  -- trigger -> its JSON

local function new_trigger(json)
  local tr = { json = json }
  trigger_json[tr] = json
  return tr
end

local function whole(who, name, value, min, max)
  if type(value) ~= "number" or value ~= floor(value) or value < min or value > max then
    misuse("%s: %s must be a whole number in %d..%d, got %s", who, name, min, max,
           tostring(value))
  end
  return value
end

-- t.exit_intent(): the pointer leaves near the top edge (desktop), or a fast
-- upward scroll or the tab hidden (mobile).
function M.exit_intent()
  return new_trigger('{"type":"exit_intent"}')
end

-- t.linger(seconds): the page stays open this long without interaction
-- that resets it (on a product page: no add-to-cart).
function M.linger(seconds)
  whole("t.linger", "seconds", seconds, 1, 3600)
  return new_trigger(format('{"type":"linger","seconds":%d}', seconds))
end

-- t.idle(seconds): no input for this long.
function M.idle(seconds)
  whole("t.idle", "seconds", seconds, 1, 3600)
  return new_trigger(format('{"type":"idle","seconds":%d}', seconds))
end

-- t.scroll_depth(percent): the visitor scrolled this far down the page.
function M.scroll_depth(percent)
  whole("t.scroll_depth", "percent", percent, 1, 100)
  return new_trigger(format('{"type":"scroll_depth","percent":%d}', percent))
end

-- t.repeat_visit { n = 3, within_days = 30 }: decided here, shown on load:
-- the visitor's n-th visit or later, first seen at most within_days ago.
function M.repeat_visit(opts)
  check_options("t.repeat_visit", opts, { n = true, within_days = true })
  local n = whole("t.repeat_visit", "n", opts.n, 2, 1000)
  local days = whole("t.repeat_visit", "within_days", opts.within_days or 30, 1, 3650)
  local tr = new_trigger(format('{"type":"repeat_visit","n":%d,"within_days":%d}', n, days))
  tr.check = function(v)
    local seen = v.days_since_first_seen
    return v.visits >= n and seen ~= nil and seen <= days
  end
  return tr
end

local INTENTS = { cart = true, product = true, browse = true }
local CAPS = { per_visit = 1, per_day = 1, cooldown_hours = 24, stop_after_conversion = true }
local EXCLUDE = {
  recent_purchase_hours = 24, open_return = true, open_complaint = true, email_campaign = true,
  higher_intent_flow = true,
}

-- caps/exclude tables: numbers (or false for "none"), booleans; defaults filled in
local function check_section(who, name, given, defaults)
  local out = {}
  for k, v in pairs(defaults) do out[k] = v end
  if given == nil then return out end
  check_options(who .. " " .. name, given, defaults)
  for k, v in pairs(given) do
    if type(defaults[k]) == "boolean" then
      if type(v) ~= "boolean" then misuse("%s: %s.%s must be true or false", who, name, k) end
      out[k] = v
    elseif v == false then
      out[k] = 0
    else
      out[k] = whole(who, name .. "." .. k, v, 1, 24 * 365)
    end
  end
  return out
end

local popups, popup_ids = {}, {}

-- t.popup "id" { trigger = t.exit_intent(), intent = "cart", html = [[...]],
--                priority = 0, when = predicate,
--                caps = { per_visit = 1, per_day = 1, cooldown_hours = 24,
--                         stop_after_conversion = true },
--                exclude = { recent_purchase_hours = 24, open_return = true,
--                            open_complaint = true, email_campaign = true,
--                            higher_intent_flow = true } }
function M.popup(id)
  check_loading("t.popup")
  check_name("t.popup", id)
  local who = format("popup %q", id)
  return function(opts)
    check_options(who, opts, {
      trigger = true, intent = true, html = true, priority = true, when = true, caps = true,
      exclude = true,
    })
    if popup_ids[id] then misuse("%s: defined twice", who) end
    if opts.trigger == nil then
      misuse("%s: option 'trigger' is required (t.exit_intent(), t.linger(s), t.idle(s), " ..
             "t.scroll_depth(pct), t.repeat_visit{...})", who)
    end
    if type(opts.trigger) ~= "table" or not trigger_json[opts.trigger] then
      misuse("%s: 'trigger' must be t.exit_intent(), t.linger(s), t.idle(s), " ..
             "t.scroll_depth(pct) or t.repeat_visit{...}, got %s", who, type(opts.trigger))
    end
    if opts.intent == nil then
      misuse("%s: option 'intent' is required (cart, product or browse)", who)
    end
    if not INTENTS[opts.intent] then
      misuse("%s: intent must be cart, product or browse, got %s", who, tostring(opts.intent))
    end
    check_type(who, opts, "html", "string", true)
    check_type(who, opts, "priority", "number")
    check_type(who, opts, "caps", "table")
    check_type(who, opts, "exclude", "table")
    local when = opts.when
    if type(when) == "table" then
      when = M.all(when)
    elseif when ~= nil and type(when) ~= "function" and type(when) ~= "boolean" then
      misuse("%s: option 'when' must be a function, a list of predicates or a boolean, got %s",
             who, type(when))
    elseif type(when) == "boolean" then
      when = as_predicate(who, when)
    end
    local caps = check_section(who, "caps", opts.caps, CAPS)
    local exclude = check_section(who, "exclude", opts.exclude, EXCLUDE)
    local file, line = where()
    local p = {
      id = id, file = file, line = line, intent = opts.intent, priority = opts.priority or 0,
      tpl = compile(who, opts.html), trigger = opts.trigger.json, caps = caps,
      exclude = exclude,
    }
    local server = opts.trigger.check
    if server and when then
      p.check = function(v) return server(v) and when(v) end
    else
      p.check = server or when or ALWAYS
    end
    popup_ids[id] = true
    popups[#popups + 1] = p
  end
end

-- t.variant(v, "hero-copy"): the visitor's variant ("holdout" too), and an
-- exposure for rule-less checks. Usable in `when` and `vars`.
local assigned, exposed = {}, {}
-- kit-only tables, emptied for the next evaluation rather than made anew
local assigned_t, exposed_t, assigned_used = {}, {}, false

local NONE = {}  -- read-only stand-in until an evaluation meets an experiment

local function variant_of(exp_name, rule_idx)
  if assigned == NONE then
    assigned, exposed, assigned_used = assigned_t, exposed_t, true
  end
  local v = assigned[exp_name]
  if not v then
    v = native.assign(experiments[exp_name].id)
    assigned[exp_name] = v
  end
  if not exposed[exp_name] then
    exposed[exp_name] = true
    native.expose(rule_idx, exp_name, v)
  end
  return v
end

local current_rule = 0

function M.variant(v, exp_name)
  if type(exp_name) ~= "string" or not experiments[exp_name] then
    error("t.variant: unknown experiment " .. tostring(exp_name), 2)
  end
  return variant_of(exp_name, current_rule)
end

M.stages = {}
for name in pairs(STAGES) do M.stages[name] = name end

----------------------------------------------------------------------------
-- The sandbox: what a pack's chunk sees as its globals.

local function readonly(t, name)
  return setmetatable({}, {
    __index = t,
    __newindex = function() error(name .. " is read-only in rules", 2) end,
    __metatable = false,
  })
end

-- Patterns run in C, out of the instruction budget's reach, and may
-- backtrack; subjects and patterns are capped so the worst case stays small.
local MAX_SUBJECT, MAX_PATTERN = 4096, 128
local function guard_pattern(fn, name)
  return function(s, pattern, ...)
    if type(s) == "string" and #s > MAX_SUBJECT then
      error(format("string.%s: subject longer than %d bytes", name, MAX_SUBJECT), 2)
    end
    if type(pattern) == "string" and #pattern > MAX_PATTERN then
      error(format("string.%s: pattern longer than %d bytes", name, MAX_PATTERN), 2)
    end
    return fn(s, pattern, ...)
  end
end

local safe_string = {}
for _, k in ipairs({ "byte", "char", "format", "len", "lower", "upper", "rep", "reverse", "sub" }) do
  safe_string[k] = string[k]
end
for _, k in ipairs({ "find", "match", "gmatch", "gsub" }) do
  safe_string[k] = guard_pattern(string[k], k)
end
safe_string = readonly(safe_string, "string")

local safe_table = {}
for _, k in ipairs({ "concat", "insert", "remove", "sort", "maxn" }) do safe_table[k] = table[k] end
safe_table = readonly(safe_table, "table")

local safe_math = {}
for k, f in pairs(math) do
  if k ~= "random" and k ~= "randomseed" then safe_math[k] = f end  -- rules are deterministic
end
safe_math = readonly(safe_math, "math")

-- Methods on strings ("x"):find(...) reach the string metatable, not the
-- sandbox's table: point it at the guarded functions for everyone.
getmetatable("").__index = safe_string

local public = readonly(M, "the tailor kit")

local function sandbox_require(name)
  if name == "tailor" then return public end
  error(format("module '%s' is not available to rules (only \"tailor\")", tostring(name)), 2)
end

local function new_env()
  return {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    select = select, tonumber = tonumber, tostring = tostring, type = type, unpack = unpack,
    rawequal = rawequal,
    string = safe_string, table = safe_table, math = safe_math, bit = readonly(bit, "bit"),
    require = sandbox_require,
  }
end

-- Packs share one environment, so helpers one file defines are visible to
-- the next; it is frozen after loading so rules cannot keep state between
-- visitors in globals.
local env = new_env()

----------------------------------------------------------------------------
-- Entry points for core.

-- runtime.load_pack(chunk): runs one compiled pack file in the sandbox.
function runtime.load_pack(chunk)
  loading = true
  setfenv(chunk, env)
  chunk()
end

-- runtime.finish(): cross-checks the packs, registers rules with core in
-- evaluation order, and freezes the kit. Returns nothing; raises on misuse.
function runtime.finish()
  for _, r in ipairs(defined) do
    if not r.slot then
      error(format("%s:%d: rule %q is not in any slot", r.file, r.line, r.id), 0)
    end
    if r.experiment then
      local e = experiments[r.experiment]
      if not e then
        error(format("%s:%d: rule %q: unknown experiment %q", r.file, r.line, r.id,
                     r.experiment), 0)
      end
      if not e.variants[r.variant] then
        error(format("%s:%d: rule %q: experiment %q has no variant %q", r.file, r.line, r.id,
                     r.experiment, r.variant), 0)
      end
    end
  end
  for _, slot in ipairs(slots) do
    for _, r in ipairs(slot.rules) do
      r.idx = native.register_rule(slot.name, r.id, r.kind, r.file, r.line, r.priority,
                                   r.experiment or "", r.variant or "")
    end
  end
  for pi, p in ipairs(popups) do
    p.idx = native.register_rule("(popups)", p.id, "popup", p.file, p.line, p.priority, "", "")
    local c, x = p.caps, p.exclude
    native.popup(p.idx, pi, p.tpl, p.intent, p.trigger, c.per_visit, c.per_day,
                 c.cooldown_hours, c.stop_after_conversion, x.recent_purchase_hours,
                 x.open_return, x.open_complaint, x.email_campaign, x.higher_intent_flow)
  end
  native.popup_options(config.popups.utc_offset_minutes)
  loading = false
  local frozen = {}
  for k, val in pairs(env) do frozen[k] = val end
  for k in pairs(frozen) do env[k] = nil end
  setmetatable(env, {
    __index = frozen,
    __newindex = function(_, k) error(format("rules may not set global '%s'", tostring(k)), 2) end,
    __metatable = false,
  })
  defined = nil
end

local run, fill, note = native.run, native.fill, native.note
local passed = {}  -- each pop-up's test result, by position, reused
local run_slot, matched_elsewhere = native.run_slot, native.matched

-- [1]: the position of the rule running inside native.run_slot; core reads
-- it to blame a failure on that rule, and its hook to restart the per-rule
-- instruction budget when it changes.
local marker = { 0 }

-- One slot's rules in one protected call (native.run_slot): the position
-- of the rule that fills the slot and its vars, or 0. A rule that errors
-- unwinds the whole call, so the slot keeps its default, as it must.
local function run_rules(rules, v)
  for ri = 1, #rules do
    local r = rules[ri]
    marker[1] = ri
    current_rule = r.idx
    local matched, vars = r.check(v)
    if matched then
      local exp = r.experiment
      if not exp or variant_of(exp, r.idx) == r.variant then return ri, vars end
      matched_elsewhere(r.idx)
    end
  end
  return 0
end

-- runtime.evaluate(v, tracing): fills the decision through native.fill.
function runtime.evaluate(v, tracing)
  memo_view, memo_stage, memo_suppressed = v, nil, nil
  if assigned_used then
    for k in next, assigned_t do assigned_t[k] = nil end
    for k in next, exposed_t do exposed_t[k] = nil end
    assigned_used = false
  end
  assigned, exposed = NONE, NONE
  local suppressed
  for si = 1, #slots do
    local slot = slots[si]
    local rules = slot.rules
    local reason = nil
    if slot.promotional then
      if suppressed == nil then suppressed = M.suppressed(v) or false end
      reason = suppressed
    end
    if reason then
      if tracing then
        for ri = 1, #rules do note(rules[ri].idx, "suppressed", reason) end
      end
    elseif not tracing then
      if #rules > 0 then
        local ok, pos, vars = run_slot(rules[1].idx, #rules, run_rules, rules, v)
        if ok and pos > 0 then
          local r = rules[pos]
          fill(slot.name, r.idx, r.tpl, vars, v)
        end
      end
    else
      -- tracing (explain, rules test): one protected call per rule, so every
      -- rule's outcome is noted
      local won = false
      for ri = 1, #rules do
        local r = rules[ri]
        if won then
          if tracing then note(r.idx, "not-reached", "") end
        else
          current_rule = r.idx
          local ok, matched, vars = run(r.idx, r.check, v)
          if not ok then
            -- the slot keeps its default: a broken higher-intent rule must
            -- not let a lower one through (a broken suppression check, say)
            won = true
          elseif matched then
            local exp = r.experiment
            local variant = exp and variant_of(exp, r.idx)
            if exp and variant ~= r.variant then
              if tracing then note(r.idx, variant == "holdout" and "holdout" or "other-variant",
                                   variant) end
            else
              fill(slot.name, r.idx, r.tpl, vars, v)
              won = true
            end
          elseif tracing then
            note(r.idx, "no-match", "")
          end
        end
      end
    end
  end
  local np = #popups
  if np > 0 then
    -- every pop-up's test in its own protected call; the policy in core then
    -- picks at most one of those that passed. A pop-up whose test fails
    -- means none is shown (a broken higher-intent one must not let a lower
    -- one through).
    for pi = 1, np do
      local p = popups[pi]
      current_rule = p.idx
      local ok, matched = run(p.idx, p.check, v)
      -- 1: passed, 0: no match, 2: failed (already counted and traced)
      passed[pi] = ok and (matched and 1 or 0) or 2
    end
    native.choose_popup(v, passed, np)
  end
  native.set_var("segment", M.stage(v))
  if suppressed then native.set_var("suppressed", suppressed) end
  if assigned ~= NONE then
    for name, variant in pairs(assigned) do native.set_var("exp_" .. name, variant) end
  end
  memo_view = nil
end

native.init(Trusted, marker)
return runtime
