-- tailor/helpers.lua: t.config, and the helpers over the visitor view `v`
-- (stage, predicates, suppression, t.html).

local kit = ...
local native, M = kit.native, kit.M
local type, pairs, ipairs, tostring, error, setmetatable, pcall =
      type, pairs, ipairs, tostring, error, setmetatable, pcall
local floor = math.floor
local sort, concat = table.sort, table.concat
local misuse, check_loading, check_options = kit.misuse, kit.check_loading, kit.check_options
local as_predicate = kit.as_predicate

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

-- Memo of one evaluation: the view it belongs to and what was computed
-- (kit.begin_memo / kit.end_memo, called by the evaluation).
local memo_view, memo_stage, memo_suppressed

function kit.begin_memo(v) memo_view, memo_stage, memo_suppressed = v, nil, nil end
function kit.end_memo() memo_view = nil end

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
  -- the memo read here saves a call per lifecycle rule after the first
  return function(v)
    local s = memo_view == v and memo_stage or stage(v)
    return set[s] == true
  end
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
-- The request's path comes from the client: matching is core's bounded
-- matcher (as string.find in rules), and a path longer than the matcher's
-- subject cap (4096 bytes) matches nothing. The pattern is checked here, so
-- a malformed one is refused with the pack's file and line.
local bounded_find, MAX_PATH = kit.bounded.find, 4096
function M.path(pattern)
  if type(pattern) ~= "string" then misuse("t.path: pattern must be a string") end
  local ok, err = pcall(bounded_find, "", pattern)
  if not ok then misuse("t.path: %s", tostring(err)) end
  return function(v)
    local path = request(v, 1) or ""
    return #path <= MAX_PATH and bounded_find(path, pattern) ~= nil
  end
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
-- The object is empty and read-only: its text lives in `trusted_html`, out of
-- reach of a rule that would swap profile data into a pack's trusted HTML.
local trusted_html = setmetatable({}, { __mode = "k" })
local Trusted = {
  __index = function(t, k) if k == "html" then return trusted_html[t] end end,
  __newindex = function() error("t.html values are read-only", 2) end,
  __metatable = "tailor.html",
}
function M.html(s)
  if type(s) ~= "string" then error("t.html: expected a string", 2) end
  local h = setmetatable({}, Trusted)
  trusted_html[h] = s
  return h
end

local stages = {}
for name in pairs(STAGES) do stages[name] = name end
M.stages = setmetatable({}, {
  __index = stages,
  __newindex = function() error("t.stages is read-only", 2) end,
  __metatable = false,
})

kit.config, kit.Trusted, kit.trusted_html = config, Trusted, trusted_html
