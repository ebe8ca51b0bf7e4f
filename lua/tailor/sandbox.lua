-- tailor/sandbox.lua: what a pack's chunk sees as its globals: a few base
-- functions, read-only string/table/math/bit whose C functions are bounded, and
-- require "tailor" (the public kit, read-only).

local kit = ...
local M = kit.M
local type, pairs, ipairs, next, select, tostring, tonumber, error, setmetatable, getmetatable,
      unpack, assert, rawequal =
      type, pairs, ipairs, next, select, tostring, tonumber, error, setmetatable, getmetatable,
      unpack, assert, rawequal
local string, table, math, bit = string, table, math, bit
local format = string.format

local function readonly(t, name)
  return setmetatable({}, {
    __index = t,
    __newindex = function() error(name .. " is read-only in rules", 2) end,
    __metatable = false,
  })
end

-- LuaJIT's pattern functions backtrack in C without bound, out of the
-- instruction hook's reach; the sandbox's are core's bounded matcher
-- (rules/pattern.h): capped subjects and patterns, every step charged to the
-- rule's budget. string.rep's result is capped; gsub's callbacks and
-- table.sort's comparator may re-enter rule code only a few levels deep.
local bounded = kit.bounded

local safe_string = {}
for _, k in ipairs({ "byte", "char", "format", "len", "lower", "upper", "reverse", "sub" }) do
  safe_string[k] = string[k]
end
for _, k in ipairs({ "find", "match", "gmatch", "gsub", "rep" }) do
  safe_string[k] = bounded[k]
end
safe_string = readonly(safe_string, "string")

local safe_table = {}
safe_table.maxn = table.maxn
for _, k in ipairs({ "concat", "insert", "remove", "sort" }) do safe_table[k] = bounded[k] end
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

kit.env, kit.readonly = env, readonly
