// Outcome: why a request got the page it got; one vocabulary for logs, metrics and $tailor_status.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

// Outcome
//
// Exactly one per request the module sees. Everything but `hit` and `cached`
// means the visitor got the default page (fail open), and says why.
enum class Outcome : unsigned char {
    kNone = 0,    // not looked at (module off, subrequest)
    kHit,         // profile read from Redis and decided on
    kCached,      // profile served from the worker cache
    kMiss,        // known visitor, no profile stored yet
    kNewVisitor,  // no valid cookie: a new id was issued
    kTimeout,     // Redis did not answer within tailor_timeout
    kError,       // Redis error reply, garbage or a dropped connection
    kDown,        // not connected, or backed up: not even asked
    kBadProfile,  // the stored profile was rejected (size, nesting, not a map)
    kNoConsent,   // the consent source did not grant personalization
    kGpc,         // Sec-GPC: 1
    kBot,         // a crawler: no cookie, no Redis, no event (nothing to remember)
    kLimited,     // no valid cookie, and its client is over tailor_limit_new_ids: no id minted
    kCount
};

inline constexpr std::size_t kOutcomeCount = static_cast<std::size_t>(Outcome::kCount);

// outcome_name
//
// The lower-case name used in $tailor_status and in metric labels.
// Example: outcome_name(Outcome::kNoConsent) == "no-consent"
[[nodiscard]] constexpr std::string_view outcome_name(Outcome o) noexcept {
    switch (o) {
        case Outcome::kNone:
            return "none";
        case Outcome::kHit:
            return "hit";
        case Outcome::kCached:
            return "cached";
        case Outcome::kMiss:
            return "miss";
        case Outcome::kNewVisitor:
            return "new";
        case Outcome::kTimeout:
            return "timeout";
        case Outcome::kError:
            return "error";
        case Outcome::kDown:
            return "down";
        case Outcome::kBadProfile:
            return "bad-profile";
        case Outcome::kNoConsent:
            return "no-consent";
        case Outcome::kGpc:
            return "gpc";
        case Outcome::kBot:
            return "bot";
        case Outcome::kLimited:
            return "limited";
        case Outcome::kCount:
            break;
    }
    return "none";
}

}  // namespace tailor
