// RulePack: marketers' Lua rule files, compiled and checked once at configuration time.
//
// This header is the pack as data; rules/compile.h makes one (it runs the
// runtime, which reads this data: pack <- runtime <- compile, no cycle).
//
// Compiling a pack runs exactly what a worker will run at start: the kit,
// then each file in a fresh sandbox, then the kit's cross-checks (unknown
// experiment, a rule in no slot). So a pack that compiles here will load in
// every worker, and every syntax error, runtime error at load or kit misuse
// comes back as file, line and reason, which `nginx -t` and `tailorctl rules
// check` print. The pack keeps the sources and the kit text in memory, so
// workers never read the files again: a file edited after `nginx -t` does not
// leak into a running configuration.
#pragma once

#include <string>
#include <vector>

#include "tailor/decision/experiment.h"
#include "tailor/rules/lua_sandbox.h"

namespace tailor {

// RulesError
//
// Where and why a pack was refused. `file` is the pack file (or the kit's
// path for a kit or environment problem), `line` is 1-based or 0 when unknown.
struct RulesError {
    std::string file;
    int line = 0;
    std::string reason;

    // "file:line: reason", or "file: reason" when the line is unknown.
    [[nodiscard]] std::string message() const;
};

// RulePackSource
//
// One rule file: the name errors show (its path) and its text.
struct RulePackSource {
    std::string name;
    std::string text;
};

// RuleInfo
//
// One rule as the pack defines it, in evaluation order.
struct RuleInfo {
    std::string slot;
    std::string id;
    std::string kind;  // "rule", "reorder_prompt", "reward_reminder", "recommendations"
    std::string file;
    int line = 0;
    double priority = 0;
    std::string experiment;  // empty if none
    std::string variant;
};

// RulePack
//
// Compiled and validated; immutable afterwards and safe to share between
// threads (it is plain data). Made by compile_rule_pack (compile.h);
// RuleRuntime::create loads it.
struct RulePack {
    std::string kit_name;  // the kit's entry file (tailor.lua)
    std::string kit_text;
    std::vector<RulePackSource> kit_modules;  // its parts, <kit dir>/tailor/*.lua, by name
    std::vector<RulePackSource> sources;
    LuaLimits limits;
    std::vector<RuleInfo> rules;  // slot by slot, highest priority first
    std::vector<std::string> slots;
    std::vector<std::string> experiments;  // those a rule or pop-up names, in that order
    // Every declared experiment and its variants in split order (a variant
    // no rule names, a pop-up experiment's "no pop-up" control, included):
    // the exposure series the module counts (tailor_experiment_exposures_total).
    std::vector<ExperimentSpec> declared_experiments;
};

}  // namespace tailor
