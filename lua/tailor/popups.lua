-- tailor/popups.lua: pop-ups (docs/popups.md) and their triggers, declared
-- while packs load.

local kit = ...
local M = kit.M
local type, pairs, tostring, setmetatable = type, pairs, tostring, setmetatable
local format = string.format
local where, misuse, check_loading = kit.where, kit.misuse, kit.check_loading
local check_options, check_type, check_name = kit.check_options, kit.check_type, kit.check_name
local as_when, ALWAYS, whole, compile = kit.as_when, kit.ALWAYS, kit.whole, kit.compile

----------------------------------------------------------------------------
-- Pop-ups (docs/popups.md): declared like rules, decided on the server (at
-- most one per page view, by core's policy over the visitor's caps), shown
-- by the client runtime when the trigger fires.

-- Triggers are read-only handles; their JSON (spliced into the page's
-- directives) and server-side check live here, out of the pack's reach.
local trigger_json = setmetatable({}, { __mode = "k" })   -- trigger -> its JSON
local trigger_check = setmetatable({}, { __mode = "k" })  -- trigger -> check(v), if any

local function new_trigger(json, check)
  local tr = setmetatable({}, {
    __newindex = function() error("a trigger is read-only", 2) end,
    __metatable = false,
  })
  trigger_json[tr] = json
  trigger_check[tr] = check
  return tr
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
  return new_trigger(format('{"type":"repeat_visit","n":%d,"within_days":%d}', n, days),
                     function(v)
                       local seen = v.days_since_first_seen
                       return v.visits >= n and seen ~= nil and seen <= days
                     end)
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
--                            higher_intent_flow = true },
--                experiment = "name", variant = "a" }
-- With an experiment, the pop-up is a candidate only for visitors in that
-- variant; a variant with no pop-up (a control) or the holdout gets none of
-- the experiment's pop-ups. Core records the exposure (natives_popup.cpp).
function M.popup(id)
  check_loading("t.popup")
  check_name("t.popup", id)
  local who = format("popup %q", id)
  return function(opts)
    check_options(who, opts, {
      trigger = true, intent = true, html = true, priority = true, when = true, caps = true,
      exclude = true, experiment = true, variant = true,
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
    check_type(who, opts, "experiment", "string")
    check_type(who, opts, "variant", "string")
    if (opts.experiment == nil) ~= (opts.variant == nil) then
      misuse("%s: 'experiment' and 'variant' go together", who)
    end
    local when = as_when(who, opts.when)
    local caps = check_section(who, "caps", opts.caps, CAPS)
    local exclude = check_section(who, "exclude", opts.exclude, EXCLUDE)
    local file, line = where()
    local p = {
      id = id, file = file, line = line, intent = opts.intent, priority = opts.priority or 0,
      tpl = compile(who, opts.html, {}, true), trigger = trigger_json[opts.trigger], caps = caps,
      exclude = exclude, experiment = opts.experiment, variant = opts.variant,
    }
    local server = trigger_check[opts.trigger]
    if server and when then
      p.check = function(v) return server(v) and when(v) end
    else
      p.check = server or when or ALWAYS
    end
    popup_ids[id] = true
    popups[#popups + 1] = p
  end
end

kit.popups = popups
