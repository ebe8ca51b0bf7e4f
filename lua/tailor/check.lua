-- tailor/check.lua: misuse reports at the pack's file and line, and the option checks every
-- constructor shares ("pack.lua:12: rule "x": unknown option 'wen'").

local kit = ...
local type, pairs, tostring, error = type, pairs, tostring, error
local floor = math.floor
local sort, concat = table.sort, table.concat
local format, find, sub = string.format, string.find, string.sub
local getinfo = kit.getinfo
local kit_sources = kit.sources

-- The first stack frame outside the kit's files is the pack line that called us.
local function where()
  for level = 2, 40 do
    local info = getinfo(level, "Sl")
    if not info then break end
    if not kit_sources[info.source] and info.what ~= "C" then
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

-- kit.loading: true while a pack's top level runs (runtime.load_pack), until
-- runtime.finish freezes the kit.
local function check_loading(what)
  if not kit.loading then
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

-- A rule's `when`: a predicate, a boolean, or nil for "always".
local function as_predicate(who, p)
  if type(p) == "function" then return p end
  if type(p) == "boolean" then return function() return p end end
  misuse("%s: expected a predicate (a function of v), got %s", who, type(p))
end

local function ALWAYS() return true end

-- `when` as written in t.rule/t.popup: a function, a list of predicates
-- (all must hold), a boolean, or nil (the rule has no test of its own).
local function as_when(who, when)
  if type(when) == "table" then
    return kit.M.all(when)
  elseif when ~= nil and type(when) ~= "function" and type(when) ~= "boolean" then
    misuse("%s: option 'when' must be a function, a list of predicates or a boolean, got %s",
           who, type(when))
  elseif type(when) == "boolean" then
    return as_predicate(who, when)
  end
  return when
end

local function whole(who, name, value, min, max)
  if type(value) ~= "number" or value ~= floor(value) or value < min or value > max then
    misuse("%s: %s must be a whole number in %d..%d, got %s", who, name, min, max,
           tostring(value))
  end
  return value
end

kit.where, kit.misuse, kit.check_loading = where, misuse, check_loading
kit.check_options, kit.check_type, kit.check_name = check_options, check_type, check_name
kit.as_predicate, kit.as_when, kit.ALWAYS, kit.whole = as_predicate, as_when, ALWAYS, whole
