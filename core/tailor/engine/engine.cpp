// Engine: the built-in decision, the worker's rule runtime, and decide().
#include "tailor/engine/engine.h"

#include <exception>
#include <functional>
#include <string>
#include <utility>

#include "tailor/html/escape.h"
#include "tailor/popup/caps.h"
#include "tailor/profile/decode.h"
#include "tailor/rules/runtime.h"

namespace tailor {

namespace {

constexpr std::string_view kSlotAttributePrefix = "slot:";

// Tells packs apart in the memo's keys: the kit and every source.
uint64_t pack_generation(const RulePack& pack) {
    std::hash<std::string_view> h;
    uint64_t g = h(pack.kit_text);
    auto mix = [&g](uint64_t x) { g = (g ^ x) * 0x100000001b3ull; };
    for (const RulePackSource& s : pack.kit_modules) {
        mix(h(s.name));
        mix(h(s.text));
    }
    for (const RulePackSource& s : pack.sources) {
        mix(h(s.name));
        mix(h(s.text));
    }
    return g;
}

// The decision before rule packs: profile attributes "slot:NAME" name the
// text for slot NAME. Text only, escaped: a profile never carries markup.
void decide_builtin(const Profile& profile, Decision& decision) {
    for (const Attribute& a : profile.attributes) {
        if (a.type != AttributeType::kString ||
            a.name.substr(0, kSlotAttributePrefix.size()) != kSlotAttributePrefix) {
            continue;
        }
        std::string html;
        append_html_text(html, a.text);
        (void)decision.set_slot(a.name.substr(kSlotAttributePrefix.size()), std::move(html));
    }
    if (const Attribute* segment = profile.attribute("segment");
        segment != nullptr && segment->type == AttributeType::kString) {
        (void)decision.set_variable("segment", std::string(segment->text));
    }
}

}  // namespace

Engine::Engine(EngineOptions options, std::optional<RulePack> rules) noexcept
    : options_(options), rules_(std::move(rules)) {}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

bool Engine::has_popup(std::string_view id) const noexcept {
    return runtime_ != nullptr && runtime_->has_popup(id);
}

bool Engine::start_worker(RulesError* error) noexcept {
    if (!rules_ || runtime_ != nullptr) {
        return true;
    }
    runtime_ = RuleRuntime::create(*rules_, error);
    if (runtime_ == nullptr) {
        return false;
    }
    try {
        memo_ = std::make_unique<DecisionMemo>(options_.memo_entries, pack_generation(*rules_));
    } catch (const std::exception&) {
        memo_.reset();  // no memo: every visitor runs the rules
    }
    return true;
}

EvalSummary Engine::run_rules(const Profile& profile, const RequestFacts& facts,
                              const PopupCaps* caps, Personalization& out) {
    EvalSummary summary;
    if (!rules_) {
        decide_builtin(profile, out.decision());
        return summary;
    }
    if (runtime_ == nullptr) {
        out.add_failed_rules(1);
        summary.ok = false;
        return summary;
    }
    summary = runtime_->evaluate(profile, facts, caps, &out.decision());
    out.add_failed_rules(summary.failures + (summary.ok ? 0 : 1));
    return summary;
}

// A visitor with nothing stored: the memoized decision for these facts and
// this visitor's draws, or a fresh evaluation kept for the next one.
bool Engine::decide_memoized(const RequestFacts& facts, Personalization& out) {
    std::string key;
    if (!rules_ || runtime_ == nullptr || memo_ == nullptr || !memo_->key(facts, &key)) {
        return false;
    }
    struct DrawContext {
        const RuleRuntime* runtime;
        std::string_view vid;
    } ctx{runtime_.get(), facts.visitor_id};
    auto draw = [](void* c, uint32_t experiment) -> uint32_t {
        auto* d = static_cast<DrawContext*>(c);
        return d->runtime->draw(experiment, d->vid);
    };
    if (const DecisionMemo::Entry* e = memo_->find(key, facts.now, draw, &ctx)) {
        out.decision() = e->decision;
        runtime_->credit(e->counts);
        out.set_memo_hit();
        ++memo_hits_;
        return true;
    }
    ++memo_misses_;
    static const Profile kNobody;
    static const PopupCaps kNoCaps;
    std::vector<uint64_t> before = runtime_->count_snapshot();
    EvalSummary summary = run_rules(kNobody, facts, &kNoCaps, out);
    (void)memo_->insert(std::move(key), facts.now, summary, runtime_->draws(), out.decision(),
                        runtime_->counts_since(before));
    return true;
}

Outcome Engine::decide(const StoredView* stored, const RequestFacts& facts,
                       Personalization& out) noexcept {
    // Nothing stored: the empty profile and no caps, as decoded below.
    if (stored == nullptr ||
        (!stored->profile.present && !stored->live.present && !stored->caps.present)) {
        try {
            if (decide_memoized(facts, out)) {
                return Outcome::kMiss;
            }
        } catch (...) {
            out.decision().clear();
            out.add_failed_rules(1);
            return Outcome::kMiss;
        }
    }

    std::string_view profile_bytes;
    std::string_view live_bytes;
    if (stored != nullptr && stored->profile.present) {
        profile_bytes = stored->profile.bytes;
    }
    if (stored != nullptr && stored->live.present) {
        live_bytes = stored->live.bytes;
    }

    ProfileLimits limits;
    limits.max_bytes = options_.max_profile_bytes;
    ProfileDecoder::Result result = decoder_.decode(profile_bytes, live_bytes, limits);
    if (result.profile == nullptr) {
        return Outcome::kBadProfile;
    }

    // Caps the module wrote; a refused blob shows no pop-up (null caps),
    // an absent one is a visitor never shown any.
    PopupCapsDecodeResult caps;
    if (stored != nullptr && stored->caps.present) {
        caps = decode_popup_caps(stored->caps.bytes);
    }

    try {
        (void)run_rules(*result.profile, facts,
                        caps.error == PopupCapsError::kNone ? &caps.caps : nullptr, out);
    } catch (...) {
        out.decision().clear();
        out.add_failed_rules(1);
    }

    bool has_profile = stored != nullptr && stored->profile.present;
    return has_profile ? Outcome::kHit : Outcome::kMiss;
}

}  // namespace tailor
