// The natives behind t.popup: declaring a pop-up, the pack's pop-up options,
// and choosing at most one per page view (core's policy, docs/popups.md),
// rendered into the decision's directives with the runtime's tag.
#include <string>
#include <string_view>

#include "tailor/decision/experiment.h"
#include "tailor/html/escape.h"
#include "tailor/popup/runtime.h"
#include "tailor/rules/natives.h"

namespace tailor {
namespace rules_detail {

// native.popup(rule index, position, template, intent, trigger json, per_visit, per_day,
//              cooldown_hours, stop_after_conversion, recent_purchase_hours, open_return,
//              open_complaint, email_campaign, higher_intent_flow)
int native_popup(lua_State* L) {
    Impl* m = impl_of(L);
    size_t idx = check_index(L, 1, m->rules.size(), "rule");
    lua_Integer position = luaL_checkinteger(L, 2);
    size_t tpl = check_index(L, 3, m->templates.size(), "template");
    PopupIntent intent = PopupIntent::kBrowse;
    if (!parse_popup_intent(check_sv(L, 4), &intent)) {
        return luaL_error(L, "bad pop-up intent");
    }
    std::string_view trigger = check_sv(L, 5);
    auto count = [&](int i, int64_t max) {
        lua_Integer n = luaL_checkinteger(L, i);
        return n < 0 ? 0 : (n > max ? max : static_cast<int64_t>(n));
    };
    Impl::Popup p;
    p.rule = idx;
    p.tpl = tpl;
    p.candidate.intent = intent;
    p.candidate.priority = m->rules[idx].info.priority;
    p.candidate.order = static_cast<uint32_t>(position < 0 ? 0 : position);
    p.candidate.caps.per_visit = static_cast<uint32_t>(count(6, 1000000));
    p.candidate.caps.per_day = static_cast<uint32_t>(count(7, 1000000));
    p.candidate.caps.cooldown_hours = count(8, kMaxPopupCooldownHours);
    p.candidate.caps.stop_after_conversion = lua_toboolean(L, 9) != 0;
    p.candidate.exclude.recent_purchase_hours = count(10, kMaxPopupRecentPurchaseHours);
    p.candidate.exclude.open_return = lua_toboolean(L, 11) != 0;
    p.candidate.exclude.open_complaint = lua_toboolean(L, 12) != 0;
    p.candidate.exclude.email_campaign = lua_toboolean(L, 13) != 0;
    p.candidate.exclude.higher_intent_flow = lua_toboolean(L, 14) != 0;
    m->popup_experiments = m->popup_experiments || !m->rules[idx].info.experiment.empty();
    return guarded(L, [&]() -> int {
        p.trigger_json = std::string(trigger);
        m->popups.push_back(std::move(p));
        return 0;
    });
}

// native.popup_options(utc_offset_minutes)
int native_popup_options(lua_State* L) {
    Impl* m = impl_of(L);
    m->popup_options.utc_offset_minutes = luaL_checkinteger(L, 1);
    return 0;
}

namespace {

bool is_exclusion(PopupVerdict v) {
    switch (v) {
        case PopupVerdict::kRecentPurchase:
        case PopupVerdict::kOpenReturn:
        case PopupVerdict::kOpenComplaint:
        case PopupVerdict::kEmailCampaign:
        case PopupVerdict::kHigherIntentFlow:
            return true;
        default:
            return false;
    }
}

// The directives JSON for the chosen pop-up (docs/popups.md is the contract).
std::string directives_json(const Impl::Popup& p, std::string_view id, std::string_view html,
                            std::string_view beacon) {
    std::string json;
    json.reserve(html.size() + p.trigger_json.size() + id.size() + 96);
    json += R"({"v":1,"popups":[{"id":)";
    append_json_string_for_script(json, id);
    json += R"(,"trigger":)";
    json += p.trigger_json;
    json += R"(,"html":)";
    append_json_string_for_script(json, html);
    json += R"(,"intent":")";
    json += popup_intent_name(p.candidate.intent);
    json += R"("}],"beacon":)";
    append_json_string_for_script(json, beacon.empty() ? kPopupBeaconPath : beacon);
    json += '}';
    return json;
}

// results[] codes from the kit (lua/tailor/evaluate.lua)
constexpr lua_Integer kPassed = 1;
constexpr lua_Integer kFailed = 2;
constexpr lua_Integer kOtherVariant = 3;  // passed, but the visitor is in another variant

bool reached(lua_Integer result) {
    return result == kPassed || result == kOtherVariant;
}

const std::string& experiment_of(const Impl* m, size_t position) {
    return m->rules[m->popups[position].rule].info.experiment;
}

bool exposed_to(const Decision& d, std::string_view experiment) {
    for (const Exposure& x : d.exposures()) {
        if (x.experiment == experiment) {
            return true;
        }
    }
    return false;
}

// One exposure per pop-up experiment the page view reached, for every
// variant alike (docs/rules.md, "Pop-ups in experiments"): the visitor is
// exposed when one of the experiment's pop-ups, whichever variant it
// belongs to, would be the page view's pop-up: its `when` passed, no
// exclusion applies and no other pop-up outranks it. Its caps are left out:
// only visitors shown the pop-up collect impressions, closes and
// conversions, so caps would make a variant's visitors count less often than
// a control's, who never see it. `won` is the real choice (candidates index,
// or size for none); stack index 4 holds each pop-up's drawn variant.
void expose_popup_experiments(lua_State* L, Impl* m, const PopupVisitorFacts& facts, size_t won) {
    const std::vector<lua_Integer>& results = m->popup_results;
    const size_t count = results.size();
    for (size_t i = 0; i < count; ++i) {
        const std::string& experiment = experiment_of(m, i);
        if (!reached(results[i]) || experiment.empty()) {
            continue;
        }
        bool first = true;  // one check per experiment, at its first pop-up that passed
        for (size_t j = 0; j < i && first; ++j) {
            first = !(reached(results[j]) && experiment_of(m, j) == experiment);
        }
        if (!first || exposed_to(*m->decision, experiment)) {
            continue;  // a rule or t.variant already exposed this visitor on this page
        }
        std::vector<PopupCandidate>& whatif = m->popup_whatif;
        whatif.clear();
        for (size_t k = 0; k < m->popup_candidates.size(); ++k) {
            if (experiment_of(m, m->popup_positions[k]) != experiment) {
                whatif.push_back(m->popup_candidates[k]);
            }
        }
        const size_t others = whatif.size();
        for (size_t j = i; j < count; ++j) {
            if (reached(results[j]) && experiment_of(m, j) == experiment) {
                PopupCandidate c = m->popups[j].candidate;
                c.id = m->rules[m->popups[j].rule].info.id;
                c.caps = PopupCapSpec{0, 0, 0, false};
                whatif.push_back(c);
            }
        }
        size_t w =
            choose_popup(whatif, m->caps, facts, m->popup_options, &m->popup_whatif_verdicts);
        if (w >= whatif.size() || w < others) {
            continue;  // excluded, or another pop-up would take the page view anyway
        }
        // the pop-up shown when it is the experiment's, else the one that would be
        std::string_view rule = whatif[w].id;
        if (won < m->popup_candidates.size() &&
            experiment_of(m, m->popup_positions[won]) == experiment) {
            rule = m->popup_candidates[won].id;
        }
        lua_rawgeti(L, 4, static_cast<int>(i + 1));
        size_t len = 0;
        const char* variant = lua_tolstring(L, -1, &len);
        if (variant != nullptr) {
            (void)m->decision->add_exposure(rule, experiment, std::string_view(variant, len));
        }
        lua_pop(L, 1);
    }
}

}  // namespace

// native.choose_popup(v, results, n, arms): core's policy over the pop-ups
// whose test passed (results[i] == 1; 0: no match, 2: failed, 3: passed but
// its experiment put the visitor in another variant, whose name is
// arms[i]); renders the winner into the decision's directives, records the
// exposures of the pop-up experiments reached, and traces every pop-up in
// declaration order. A failed test means no pop-up at all.
int native_choose_popup(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile& p = checked_profile(L, m);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_checkinteger(L, 3);
    luaL_checktype(L, 4, LUA_TTABLE);
    if (n < 0 || static_cast<size_t>(n) > m->popups.size()) {
        return luaL_error(L, "bad pop-up count");
    }
    lua_settop(L, 4);
    return guarded(L, [&]() -> int {
        const auto count = static_cast<size_t>(n);
        std::vector<lua_Integer>& results = m->popup_results;
        results.assign(count, 0);
        bool broken = false;
        m->popup_candidates.clear();
        m->popup_positions.clear();
        for (size_t i = 0; i < count; ++i) {
            lua_rawgeti(L, 2, static_cast<int>(i + 1));
            results[i] = lua_tointeger(L, -1);
            lua_pop(L, 1);
            broken = broken || results[i] == kFailed;
            if (results[i] == kPassed) {
                Impl::Popup& pop = m->popups[i];
                pop.candidate.id = m->rules[pop.rule].info.id;
                m->popup_candidates.push_back(pop.candidate);
                m->popup_positions.push_back(i);
            }
        }
        size_t won = m->popup_candidates.size();
        PopupVisitorFacts facts;
        if (!broken) {
            facts.now = m->facts->now;
            facts.visit = p.visits;
            facts.last_purchase_at = p.last_order_at;
            for (const Purchase& line : p.purchases) {
                facts.last_purchase_at = std::max(facts.last_purchase_at, line.at);
            }
            facts.open_return = p.flags.open_return;
            facts.open_complaint = p.flags.open_complaint;
            facts.from_email = popup_request_from_email(m->facts->query);
            facts.has_cart = !p.cart.empty();
            // the policy measures cooldowns, days and recent purchases
            // against now only where there is a moment to measure
            if ((m->caps != nullptr && !m->caps->entries.empty()) || facts.last_purchase_at > 0) {
                m->clock_read = true;
            }
            won = choose_popup(m->popup_candidates, m->caps, facts, m->popup_options,
                               &m->popup_verdicts);
        }
        if (!broken && m->popup_experiments) {
            expose_popup_experiments(L, m, facts, won);
        }
        if (won < m->popup_candidates.size()) {
            const Impl::Popup& pop = m->popups[m->popup_positions[won]];
            std::string_view id = m->popup_candidates[won].id;
            std::string html;
            render_template(L, m, pop.tpl, 0, 1, html);
            std::string tag;
            append_popup_runtime_tag(tag, m->facts->popup_runtime_path);
            m->decision->set_directives_json(
                directives_json(pop, id, html, m->facts->popup_beacon_path), tag);
            (void)m->decision->add_exposure(id, kPopupExperiment, kPopupVariant);
            (void)m->decision->set_variable("popup", std::string(id));
            ++m->rules[pop.rule].wins;
        }
        if (m->trace == nullptr) {
            return 0;
        }
        size_t c = 0;  // the next candidate, in the same order
        for (size_t i = 0; i < count; ++i) {
            const Impl::Popup& pop = m->popups[i];
            if (results[i] == kFailed) {
                continue;  // traced when it failed
            }
            if (results[i] == kOtherVariant) {
                lua_rawgeti(L, 4, static_cast<int>(i + 1));
                size_t len = 0;
                const char* arm = lua_tolstring(L, -1, &len);
                std::string variant = arm != nullptr ? std::string(arm, len) : std::string();
                lua_pop(L, 1);
                const RuleOutcome outcome =
                    variant == kHoldoutVariant ? RuleOutcome::kHoldout : RuleOutcome::kOtherVariant;
                m->record(pop.rule, outcome, std::move(variant));
                continue;
            }
            if (results[i] != kPassed) {
                m->record(pop.rule, RuleOutcome::kNoMatch, "");
                continue;
            }
            const size_t k = c++;
            if (broken) {
                m->record(pop.rule, RuleOutcome::kNotReached, "another pop-up's rule failed");
                continue;
            }
            PopupVerdict v = m->popup_verdicts[k];
            if (v == PopupVerdict::kChosen) {
                m->record(
                    pop.rule, RuleOutcome::kWon,
                    std::string(popup_intent_name(pop.candidate.intent)) + " " + pop.trigger_json);
            } else if (v == PopupVerdict::kOutranked) {
                m->record(pop.rule, RuleOutcome::kNotReached,
                          "outranked by " + std::string(m->popup_candidates[won].id));
            } else {
                m->record(pop.rule, is_exclusion(v) ? RuleOutcome::kExcluded : RuleOutcome::kCapped,
                          std::string(popup_verdict_name(v)));
            }
        }
        return 0;
    });
}

}  // namespace rules_detail
}  // namespace tailor
