// Engine: the built-in decision, the worker's rule runtime, and decide().
#include "tailor/engine/engine.h"

#include <string>
#include <utility>

#include "tailor/html/escape.h"
#include "tailor/popup/caps.h"
#include "tailor/profile/decode.h"
#include "tailor/rules/runtime.h"

namespace tailor {

namespace {

constexpr std::string_view kSlotAttributePrefix = "slot:";

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
    return runtime_ != nullptr;
}

void Engine::run_rules(const Profile& profile, const RequestFacts& facts, const PopupCaps* caps,
                       Personalization& out) {
    if (!rules_) {
        decide_builtin(profile, out.decision());
        return;
    }
    if (runtime_ == nullptr) {
        out.add_failed_rules(1);
        return;
    }
    EvalSummary summary = runtime_->evaluate(profile, facts, caps, &out.decision());
    out.add_failed_rules(summary.failures + (summary.ok ? 0 : 1));
}

Outcome Engine::decide(const StoredVisitor* stored, const RequestFacts& facts,
                       Personalization& out) noexcept {
    static const std::string_view kAbsent;
    std::string_view profile_bytes = kAbsent;
    std::string_view live_bytes = kAbsent;
    if (stored != nullptr && stored->profile.present) {
        profile_bytes = stored->profile.bytes;
    }
    if (stored != nullptr && stored->live.present) {
        live_bytes = stored->live.bytes;
    }

    ProfileLimits limits;
    limits.max_bytes = options_.max_profile_bytes;
    ProfileDecodeResult result = decode_profile(profile_bytes, live_bytes, limits);
    if (!result.profile) {
        return Outcome::kBadProfile;
    }

    // Caps the module wrote; a refused blob shows no pop-up (null caps),
    // an absent one is a visitor never shown any.
    PopupCapsDecodeResult caps;
    if (stored != nullptr && stored->caps.present) {
        caps = decode_popup_caps(stored->caps.bytes);
    }

    try {
        run_rules(*result.profile, facts,
                  caps.error == PopupCapsError::kNone ? &caps.caps : nullptr, out);
    } catch (...) {
        out.decision().clear();
        out.add_failed_rules(1);
    }

    bool has_profile = stored != nullptr && stored->profile.present;
    return has_profile ? Outcome::kHit : Outcome::kMiss;
}

}  // namespace tailor
