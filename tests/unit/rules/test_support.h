// Shared fixtures for the rules tests: the kit path, pack compilation, profiles, request facts.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tailor/rules/compile.h"
#include "tailor/rules/runtime.h"

namespace tailor::rules_test {

inline constexpr int64_t kDay = 86400;
// 2024-03-01T12:00:00Z: the day after a leap day.
inline constexpr int64_t kNow = 1709294400;

inline std::string kit_path() {
    return std::string(TAILOR_SOURCE_DIR) + "/lua/tailor.lua";
}

// The default 5 ms per evaluation is wall-clock time: on a loaded machine the
// test process can be preempted for longer than that between two hook ticks,
// and a rule that ran a few microseconds is cut "for time". Tests about
// anything but that budget run without the clock (evaluation_micros = 0: no
// deadline; every instruction and memory bound stays); the tests of the time
// budget set their own.
inline LuaLimits untimed(LuaLimits limits = {}) {
    limits.evaluation_micros = 0;
    return limits;
}

inline RulePackOptions options(LuaLimits limits = untimed()) {
    RulePackOptions o;
    o.kit_path = kit_path();
    o.limits = limits;
    return o;
}

// Compiles one in-memory file "pack.lua"; an empty optional and the error
// message on failure.
inline std::optional<RulePack> compile(std::string_view text, RulesError* error,
                                       LuaLimits limits = untimed()) {
    return compile_rule_pack({{"pack.lua", std::string(text)}}, options(limits), error);
}

inline std::unique_ptr<RuleRuntime> runtime(std::string_view text, LuaLimits limits = untimed()) {
    RulesError err;
    auto pack = compile(text, &err, limits);
    EXPECT_TRUE(pack.has_value()) << err.message();
    if (!pack) {
        return nullptr;
    }
    auto rt = RuleRuntime::create(*pack, &err);
    EXPECT_NE(rt, nullptr) << err.message();
    return rt;
}

inline RequestFacts facts(int64_t now = kNow) {
    RequestFacts f;
    f.visitor_id = "vid-1";
    f.now = now;
    f.path = "/";
    f.device_class = "desktop";
    return f;
}

// A repeat buyer with a coffee habit, 500 points and a gold tier.
inline Profile typical_profile() {
    Profile p;
    p.has_shop_profile = true;
    p.first_name = "Ann";
    p.currency = "EUR";
    p.first_seen = kNow - 400 * kDay;
    p.orders_count = 3;
    p.last_order_at = kNow - 20 * kDay;
    p.total_spent = 12000;
    p.visits = 12;
    p.loyalty.points = 640;
    p.loyalty.tier = "gold";
    p.loyalty.points_expire_at = kNow + 10 * kDay;
    p.affinities = {{"coffee", 0.8}, {"tea", 0.3}};
    p.purchases = {{"COFFEE-1KG", "coffee", kNow - 27 * kDay, 1, 30, 1500},
                   {"MUG-2", "kitchen", kNow - 60 * kDay, 1, 0, 900},
                   {"FILTER-100", "coffee", kNow - 90 * kDay, 1, 0, 400}};
    p.viewed = {{"GRINDER-1", "coffee", kNow - kDay, 8900},
                {"MUG-2", "kitchen", kNow - kDay, 900},
                {"KETTLE-3", "kitchen", kNow - 2 * kDay, 4900}};
    p.consent.email = ConsentFlag::kGranted;
    return p;
}

struct Evaluated {
    Decision decision;
    RuleTrace trace;
    EvalSummary summary;

    std::string slot(std::string_view name) const {
        auto s = decision.slot(name);
        return s ? std::string(*s) : std::string("<default>");
    }
};

inline Evaluated evaluate(RuleRuntime& rt, const Profile& p, const RequestFacts& f) {
    Evaluated r;
    r.summary = rt.evaluate(p, f, &r.decision, &r.trace);
    return r;
}

inline Evaluated evaluate(RuleRuntime& rt, const Profile& p, int64_t now = kNow) {
    return evaluate(rt, p, facts(now));
}

}  // namespace tailor::rules_test
