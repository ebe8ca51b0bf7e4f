-- tailor/evaluate.lua: the entry points core calls (runtime.load_pack,
-- runtime.finish, runtime.evaluate) and t.variant, which reads the
-- evaluation's experiment assignments.

local kit = ...
local native, M, runtime = kit.native, kit.M, kit.runtime
local type, pairs, ipairs, next, tostring, error, setmetatable, setfenv =
      type, pairs, ipairs, next, tostring, error, setmetatable, setfenv
local format = string.format
local config, experiments, slots, popups = kit.config, kit.experiments, kit.slots, kit.popups
local env, begin_memo, end_memo = kit.env, kit.begin_memo, kit.end_memo

-- t.variant(v, "hero-copy"): the visitor's variant ("holdout" too), and an
-- exposure for rule-less checks. Usable in `when` and `vars`.
local assigned, exposed = {}, {}
-- kit-only tables, emptied for the next evaluation rather than made anew
local assigned_t, exposed_t, assigned_used = {}, {}, false

local NONE = {}  -- read-only stand-in until an evaluation meets an experiment

-- draw(experiment): the visitor's variant, drawn once per evaluation,
-- without an exposure (pop-ups: core exposes them, natives_popup.cpp)
local function draw(exp_name)
  if assigned == NONE then
    assigned, exposed, assigned_used = assigned_t, exposed_t, true
  end
  local v = assigned[exp_name]
  if not v then
    v = native.assign(experiments[exp_name].id)
    assigned[exp_name] = v
  end
  return v
end

local function variant_of(exp_name, rule_idx)
  local v = draw(exp_name)
  if not exposed[exp_name] then
    exposed[exp_name] = true
    native.expose(rule_idx, exp_name, v)
  end
  return v
end

-- the rule whose code runs: core knows (native.run, native.run_slots)
local current_rule = native.current_rule

function M.variant(v, exp_name)
  if type(exp_name) ~= "string" or not experiments[exp_name] then
    error("t.variant: unknown experiment " .. tostring(exp_name), 2)
  end
  return variant_of(exp_name, current_rule())
end

----------------------------------------------------------------------------
-- Entry points for core.

-- runtime.load_pack(chunk): runs one compiled pack file in the sandbox.
function runtime.load_pack(chunk)
  kit.loading = true
  setfenv(chunk, env)
  chunk()
end

-- runtime.finish(): cross-checks the packs, registers rules with core in
-- evaluation order, and freezes the kit. Returns nothing; raises on misuse.
function runtime.finish()
  for _, r in ipairs(kit.defined) do
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
  for _, p in ipairs(popups) do
    if p.experiment then
      -- the pop-up loop draws variants only when some pop-up needs it
      kit.popup_experiments = true
      local e = experiments[p.experiment]
      if not e then
        error(format("%s:%d: popup %q: unknown experiment %q", p.file, p.line, p.id,
                     p.experiment), 0)
      end
      if not e.variants[p.variant] then
        error(format("%s:%d: popup %q: experiment %q has no variant %q", p.file, p.line, p.id,
                     p.experiment, p.variant), 0)
      end
    end
  end
  for _, slot in ipairs(slots) do
    for _, r in ipairs(slot.rules) do
      r.idx = native.register_rule(slot.name, r.id, r.kind, r.file, r.line, r.priority,
                                   r.experiment or "", r.variant or "")
    end
  end
  -- what native.run_slots walks without tracing: each slot's rules, their
  -- templates and checks by index
  local checks = {}
  for _, slot in ipairs(slots) do
    local tpls = {}
    for i, r in ipairs(slot.rules) do
      tpls[i] = r.tpl
      checks[r.idx + 1] = r.check
    end
    local first = #slot.rules > 0 and slot.rules[1].idx or 0
    native.plan(slot.name, slot.promotional, first, #slot.rules, tpls, checks, variant_of)
    if slot.promotional then kit.any_promotional = true end
  end
  for pi, p in ipairs(popups) do
    p.idx = native.register_rule("(popups)", p.id, "popup", p.file, p.line, p.priority,
                                 p.experiment or "", p.variant or "")
    local c, x = p.caps, p.exclude
    native.popup(p.idx, pi, p.tpl, p.intent, p.trigger, c.per_visit, c.per_day,
                 c.cooldown_hours, c.stop_after_conversion, x.recent_purchase_hours,
                 x.open_return, x.open_complaint, x.email_campaign, x.higher_intent_flow)
  end
  native.popup_options(config.popups.utc_offset_minutes)
  kit.loading = false
  -- The pack's tables that outlive a visitor: those its rules reach through
  -- their functions' upvalues. table.insert/remove/sort refuse them from
  -- now on (the load-time state check cannot see a call that stores).
  local getupvalue, seen = kit.getupvalue, {}
  local function walk(value)
    if seen[value] then return end
    seen[value] = true
    if type(value) == "table" then
      native.freeze_table(value)
      for k, x in next, value do
        if type(k) == "table" or type(k) == "function" then walk(k) end
        if type(x) == "table" or type(x) == "function" then walk(x) end
      end
    elseif type(value) == "function" then
      for i = 1, 255 do
        local name, x = getupvalue(value, i)
        if name == nil then break end
        if type(x) == "table" or type(x) == "function" then walk(x) end
      end
    end
  end
  for _, slot in ipairs(slots) do
    for _, r in ipairs(slot.rules) do walk(r.check) end
  end
  for _, p in ipairs(popups) do walk(p.check) end
  local frozen = {}
  for k, val in pairs(env) do frozen[k] = val end
  for k in pairs(frozen) do env[k] = nil end
  setmetatable(env, {
    __index = frozen,
    __newindex = function(_, k) error(format("rules may not set global '%s'", tostring(k)), 2) end,
    __metatable = false,
  })
  kit.defined = nil
end

local run, fill, note = native.run, native.fill, native.note
local passed = {}  -- each pop-up's test result, by position, reused
local arms = {}    -- the visitor's variant of each passed pop-up's experiment, reused
local run_slots = native.run_slots

-- Handed to native.init, which no longer reads it: native.run_slots walks
-- the rules in C and restarts each rule's budget itself.
local marker = { 0 }

-- runtime.evaluate(v, tracing): fills the decision through native.fill.
function runtime.evaluate(v, tracing)
  begin_memo(v)
  if assigned_used then
    for k in next, assigned_t do assigned_t[k] = nil end
    for k in next, exposed_t do exposed_t[k] = nil end
    assigned_used = false
  end
  assigned, exposed = NONE, NONE
  -- why promotional slots keep their defaults, if they do
  local suppressed = kit.any_promotional and (M.suppressed(v) or false) or nil
  if not tracing then
    -- every slot in core: the same walk as below without the notes
    run_slots(v, suppressed)
  else
    -- tracing (explain, rules test): one protected call per rule, so every
    -- rule's outcome is noted
    for si = 1, #slots do
      local slot = slots[si]
      local rules = slot.rules
      local reason = slot.promotional and suppressed or nil
      if reason then
        for ri = 1, #rules do note(rules[ri].idx, "suppressed", reason) end
      else
        local won = false
        for ri = 1, #rules do
          local r = rules[ri]
          if won then
            note(r.idx, "not-reached", "")
          else
            local ok, matched, vars = run(r.idx, r.check, v)
            if not ok then
              -- the slot keeps its default: a broken higher-intent rule must
              -- not let a lower one through (a broken suppression check, say)
              won = true
            elseif matched then
              local exp = r.experiment
              local variant = exp and variant_of(exp, r.idx)
              if exp and variant ~= r.variant then
                note(r.idx, variant == "holdout" and "holdout" or "other-variant", variant)
              else
                fill(slot.name, r.idx, r.tpl, vars, v)
                won = true
              end
            else
              note(r.idx, "no-match", "")
            end
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
    -- one through). A pop-up of an experiment that passed draws the
    -- visitor's variant: another variant's (or the holdout's) pop-up is set
    -- aside, and core decides the exposure from all of them.
    if not kit.popup_experiments then
      for pi = 1, np do
        local p = popups[pi]
        local ok, matched = run(p.idx, p.check, v)
        -- 1: passed, 0: no match, 2: failed (already counted and traced)
        passed[pi] = ok and (matched and 1 or 0) or 2
      end
    else
      for pi = 1, np do
        local p = popups[pi]
        local ok, matched = run(p.idx, p.check, v)
        -- as above, and 3: passed, but the visitor is in another variant
        local code = ok and (matched and 1 or 0) or 2
        local exp = p.experiment
        if code == 1 and exp then
          local got = draw(exp)
          arms[pi] = got
          if got ~= p.variant then code = 3 end
        end
        passed[pi] = code
      end
    end
    native.choose_popup(v, passed, np, arms)
  end
  native.set_var("segment", M.stage(v))
  if suppressed then native.set_var("suppressed", suppressed) end
  if assigned ~= NONE then
    for name, variant in next, assigned do native.set_var(experiments[name].var, variant) end
  end
  end_memo()
end

kit.marker = marker
