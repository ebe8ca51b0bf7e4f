// compile_rule_pack: reading rule files and checking them by loading them once, as a worker would.
//
// Lives apart from pack.h because compiling runs a RuleRuntime, and the
// runtime reads the RulePack: pack.h (data) <- runtime.h <- compile.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/rules/pack.h"

namespace tailor {

// RulePackOptions
//
// The kit to use and the sandbox's bounds. An empty `kit_path` means the kit
// built into the library (rules/kit.h); a path loads that entry file and the
// parts in the `tailor` folder beside it (kit development, tailorctl --kit).
struct RulePackOptions {
    std::string kit_path;
    LuaLimits limits;
};

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
