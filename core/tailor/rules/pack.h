// RulePack: marketers' Lua rule files compiled and checked once, at configuration time.
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

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// RulePackOptions
//
// The kit to use and the sandbox's bounds. An empty `kit_path` means
// default_kit_path().
struct RulePackOptions {
    std::string kit_path;
    LuaLimits limits;
};

// RulePack
//
// Compiled and validated; immutable afterwards and safe to share between
// threads (it is plain data). Create runtimes from it with RuleRuntime::create.
struct RulePack {
    std::string kit_name;
    std::string kit_text;
    std::vector<RulePackSource> sources;
    LuaLimits limits;
    std::vector<RuleInfo> rules;  // slot by slot, highest priority first
    std::vector<std::string> slots;
    std::vector<std::string> experiments;
};

// default_kit_path
//
// Where the rule kit lives unless told otherwise: TAILOR_LUA_DIR/tailor.lua.
//
// Example:
//   default_kit_path()  // "/src/tailor/lua/tailor.lua"
[[nodiscard]] std::string default_kit_path();

// compile_rule_pack
//
// Loads the kit and `sources` (in order, sharing one sandbox) exactly as a
// worker would, and keeps them with the summary of slots and rules. On
// failure returns nullopt and fills `*error`. Never throws.
//
// Example:
//   RulesError err;
//   auto pack = compile_rule_pack({{"hero.lua", "local t = require 'tailor' ..."}}, {}, &err);
//   if (!pack) fprintf(stderr, "%s\n", err.message().c_str());
//   // "hero.lua:3: rule \"vip\": unknown option 'wen' (known: ...)"
[[nodiscard]] std::optional<RulePack> compile_rule_pack(std::vector<RulePackSource> sources,
                                                        const RulePackOptions& options,
                                                        RulesError* error) noexcept;

// compile_rule_pack_files
//
// Reads `paths` and compiles them as compile_rule_pack does; an unreadable
// file is an error naming it.
//
// Example:
//   auto pack = compile_rule_pack_files({"/etc/nginx/rules/hero.lua"}, {}, &err);
[[nodiscard]] std::optional<RulePack> compile_rule_pack_files(const std::vector<std::string>& paths,
                                                              const RulePackOptions& options,
                                                              RulesError* error) noexcept;

// read_text_file
//
// The whole file, or nullopt with `*reason` set (strerror).
//
// Example:
//   auto text = read_text_file("pack.lua", &why);
[[nodiscard]] std::optional<std::string> read_text_file(std::string_view path, std::string* reason);

}  // namespace tailor
