-- tailor.lua: the rule kit marketers `require "tailor"` in rule packs (docs/rules.md).
--
-- Loaded once per Lua state by core (rules/load.cpp) with the trusted
-- standard library, and handed `native`, the C functions of the runtime. It
-- returns the runtime's entry points; rule packs only ever see the public
-- table `M` through the sandbox's `require "tailor"`.
--
-- The kit's parts live in lua/tailor/*.lua. Core reads them with this file
-- when the pack compiles (the pack keeps their text, like the rule files),
-- and native.kit_module hands each one over, compiled, only while this file
-- runs; each part is called with `kit`, the table the parts share, which
-- rules never see.
--
-- Two phases. While packs load, the constructors (t.slot, t.rule, ...) check
-- every option and report misuse at the pack's file and line. Afterwards the
-- kit is frozen: evaluate() walks the slots for one visitor, and the
-- constructors refuse to run, so a rule cannot grow the pack per request.

local native = ...
local getinfo = debug.getinfo

local kit = {
  native = native,
  M = {},              -- the public kit
  runtime = {},        -- what core calls
  getinfo = getinfo,   -- the debug library is gone from the globals once the kit is loaded
  getupvalue = debug.getupvalue,
  sources = {},        -- chunk names of the kit's files: misuse reports skip their frames
  loading = false,     -- true while packs load (runtime.load_pack .. runtime.finish)
  bounded = native.bounded_string(),  -- the string and table functions rules get
}
kit.sources[getinfo(1, "S").source] = true

-- In dependency order: each part reads what the earlier ones put in `kit`.
for _, name in ipairs({ "check", "helpers", "rules", "popups", "sandbox", "evaluate" }) do
  local part, source = native.kit_module(name)
  kit.sources[source] = true
  part(kit)
end

native.init(kit.Trusted, kit.marker, kit.trusted_html)
return kit.runtime
