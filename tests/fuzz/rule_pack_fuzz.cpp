// Rule pack fuzz: packs built from the input, compiled and run by the real runtime.
//
// Input: one mode byte, then op bytes up to a 0x00, then the subject, a
// 0x00, then the pattern. Mode 0xff compiles the rest as pack text itself.
// Otherwise the ops pick statements for one rule's `when` (patterns, gsub
// callbacks, string.rep, sort, loops, writes to the view, state kept in
// locals...), with the subject and pattern from the input, and the pack is
// evaluated a few times. Whatever the pack does, compiling never crashes,
// evaluating never crashes (ASan/UBSan say so under tests/fuzz/run) and a
// rule's failure leaves the slot after it decided. Hangs are libFuzzer's
// -timeout; nothing here reads a clock.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/decision/decision.h"
#include "tailor/profile/profile.h"
#include "tailor/request/facts.h"
#include "tailor/rules/compile.h"
#include "tailor/rules/runtime.h"

namespace {

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\%03u", c);
        out += buf;
    }
    return out + "\"";
}

constexpr const char* kStatements[] = {
    "string.find(S, P)",
    "string.match(S, P)",
    "for a in string.gmatch(S, P) do end",
    "string.gsub(S, P, '%0%0')",
    "string.gsub(S, P, function(c) return (string.gsub(c, P, 'x')) end)",
    "local r = string.rep(S, #S + 7)",
    "table.sort({3, 1, 2}, function(a, b) return a < b end)",
    "local x = (v.first_name or '') .. S",
    "while true do end",
    "local s = S for i = 1, 24 do s = s .. s end",
    "local function g(s) return (string.gsub(s, '.', g)) end g(S)",
    "t.path(P)(v)",
    "string.find(S:rep(50), P)",
    "v.first_name = S",
    "error(S)",
    "local tt = {} for i = 1, 1e5 do tt[i] = S end local _ = table.concat(tt)",
    "S:upper():lower():reverse()",
    "local k = {} k[S] = P",
    "local n = 0 for w in S:gmatch('.') do n = n + 1 end",
    "string.format('%s %d %q', S, #P, P)",
};
constexpr size_t kStatementCount = sizeof(kStatements) / sizeof(kStatements[0]);

tailor::RulePackOptions pack_options() {
    tailor::RulePackOptions o;
    // the kit built into the library
    o.limits.memory_bytes = 8 * 1024 * 1024;
    return o;
}

std::string build_pack(std::string_view input) {
    size_t ops_end = input.find('\0');
    std::string_view ops = input.substr(0, ops_end);
    std::string_view rest =
        ops_end == std::string_view::npos ? std::string_view() : input.substr(ops_end + 1);
    size_t split = rest.find('\0');
    std::string_view subject = rest.substr(0, split);
    std::string_view pattern =
        split == std::string_view::npos ? std::string_view("a*") : rest.substr(split + 1);
    std::string body;
    for (size_t i = 0; i < ops.size() && i < 8; ++i) {
        body += "  ";
        body += kStatements[static_cast<unsigned char>(ops[i]) % kStatementCount];
        body += "\n";
    }
    return "local t = require \"tailor\"\n"
           "local S, P = " +
           quoted(subject.substr(0, 5000)) + ", " + quoted(pattern.substr(0, 200)) +
           "\n"
           "t.slot \"a\" { t.rule \"r\" { when = function(v)\n" +
           body +
           "  return true\nend, html = \"<p>{{first_name}}</p>\" } }\n"
           "t.slot \"b\" { t.rule \"ok\" { html = \"ok\" } }\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const bool raw = data[0] == 0xff;
    std::string text = raw ? std::string(input) : build_pack(input);
    static const tailor::RulePackOptions options = pack_options();
    tailor::RulesError err;
    auto pack = tailor::compile_rule_pack({{"fuzz.lua", text}}, options, &err);
    if (!pack) {
        return 0;
    }
    auto rt = tailor::RuleRuntime::create(*pack, &err);
    if (!rt) {
        std::abort();  // a pack that compiled must load in a worker
    }
    tailor::Profile profile;
    profile.first_name = "Ann";
    tailor::RequestFacts facts;
    facts.visitor_id = "vid-1";
    facts.now = 1709294400;
    std::string path = "/c/" + std::string(input.substr(0, 4200));
    facts.path = path;
    for (int i = 0; i < 3; ++i) {
        tailor::Decision d;
        tailor::RuleTrace trace;
        tailor::EvalSummary s = rt->evaluate(profile, facts, &d, i == 2 ? &trace : nullptr);
        if (raw || !s.ok || d.slot("b").value_or("") == "ok" || rt->rule_stats().size() < 2) {
            continue;
        }
        // the evaluation's time may run out (a loaded machine): the next
        // rule is then skipped or cut, and counted; never silently lost
        const tailor::RuleStats& next = rt->rule_stats()[1];
        if (next.skipped + next.budget_cuts + next.memory_errors == 0) {
            std::abort();  // a failing rule must not take the next slot down
        }
    }
    return 0;
}
