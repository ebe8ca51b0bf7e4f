#include "tailor/engine.h"

#include <string>
#include <utility>

#include "tailor/html_escape.h"
#include "tailor/profile.h"

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

Outcome Engine::decide(std::string_view, const StoredVisitor* stored, const RequestFacts&,
                       Personalization& out) const noexcept {
    if (stored == nullptr || (!stored->profile.present && !stored->live.present)) {
        return Outcome::kMiss;
    }

    ProfileLimits limits;
    limits.max_bytes = options_.max_profile_bytes;
    ProfileDecodeResult result = decode_profile(
        stored->profile.present ? std::string_view(stored->profile.bytes) : std::string_view(),
        stored->live.present ? std::string_view(stored->live.bytes) : std::string_view(), limits);
    if (!result.profile) {
        return Outcome::kBadProfile;
    }

    try {
        decide_builtin(*result.profile, out.decision_);
    } catch (...) {
        out.decision_.clear();
        ++out.failed_rules_;
    }
    return stored->profile.present ? Outcome::kHit : Outcome::kMiss;
}

}  // namespace tailor
