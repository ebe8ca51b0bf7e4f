// Popup caps fuzz: decode_popup_caps on attacker-shaped blobs, then the policy over them.
//
// Input: byte 0 picks the policy's clock and time zone, the rest is the caps
// blob. Invariants: a refused blob has no entries; a read one respects every
// cap, its ids are non-empty, at most 64 bytes and point into the input;
// decoding is deterministic; choose_popup over candidates named after the
// entries returns an eligible one or none, the same way twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "tailor/popup/caps.h"
#include "tailor/popup/policy.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::string_view blob(reinterpret_cast<const char*>(data) + 1, size - 1);
    const tailor::PopupCapsDecodeResult r = tailor::decode_popup_caps(blob);
    const tailor::PopupCapsDecodeResult again = tailor::decode_popup_caps(blob);
    check(r.error == again.error && r.skipped == again.skipped &&
          r.caps.entries.size() == again.caps.entries.size());
    check(!tailor::popup_caps_error_name(r.error).empty());
    if (r.error != tailor::PopupCapsError::kNone) {
        check(r.caps.entries.empty());
        return 0;
    }
    check(r.caps.entries.size() <= tailor::kMaxPopupCapsEntries);
    for (const tailor::PopupCapsEntry& e : r.caps.entries) {
        check(!e.id.empty() && e.id.size() <= 64);
        check(e.id.data() >= blob.data() && e.id.data() + e.id.size() <= blob.data() + blob.size());
        check(e.impression_count <= tailor::kMaxPopupImpressions);
        check(e.closed_at >= 0 && e.converted_at >= 0 && e.visit >= 0);
    }

    // The policy over candidates named after the entries, shaped by byte 0.
    const uint8_t knob = data[0];
    std::vector<tailor::PopupCandidate> candidates;
    for (size_t i = 0; i < r.caps.entries.size(); ++i) {
        tailor::PopupCandidate c;
        c.id = r.caps.entries[i].id;
        c.intent = static_cast<tailor::PopupIntent>((knob + i) % 3);
        c.priority = static_cast<double>((knob >> 2) % 3);
        c.order = static_cast<uint32_t>(i);
        c.caps.per_day = (knob >> 4) % 3;
        c.caps.cooldown_hours = knob % 48;
        candidates.push_back(c);
    }
    tailor::PopupVisitorFacts facts;
    facts.now = 1763600000 + static_cast<int64_t>(knob) * 3917;
    facts.visit = knob % 7;
    facts.has_cart = (knob & 0x40) != 0;
    tailor::PopupPolicyOptions options;
    options.utc_offset_minutes = (static_cast<int64_t>(knob) - 128) * 7;
    std::vector<tailor::PopupVerdict> why;
    const size_t won = tailor::choose_popup(candidates, &r.caps, facts, options, &why);
    std::vector<tailor::PopupVerdict> why_again;
    check(won == tailor::choose_popup(candidates, &r.caps, facts, options, &why_again));
    check(why == why_again && why.size() == candidates.size());
    size_t chosen = 0;
    for (size_t i = 0; i < why.size(); ++i) {
        chosen += why[i] == tailor::PopupVerdict::kChosen ? 1 : 0;
        check(!tailor::popup_verdict_name(why[i]).empty());
    }
    check(won == candidates.size() ? chosen == 0
                                   : (chosen == 1 && why[won] == tailor::PopupVerdict::kChosen));
    return 0;
}
