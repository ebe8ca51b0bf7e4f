// The inputs of a rules preview or test case, from JSON to what core decides on: a
// profile and pop-up caps go through MessagePack and the module's own decoders, so a
// preview reads them exactly as the module would; request facts come from a case's
// `request` table or the command line.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tailor/popup/caps.h"
#include "tailor/profile/decode.h"
#include "tailor/request/facts.h"

namespace tailorctl {

// A decoded profile and the MessagePack bytes its views point into.
struct OwnedProfile {
    std::vector<uint8_t> profile_bytes;
    std::vector<uint8_t> live_bytes;
    tailor::Profile profile;
};

// decode_json_profile
//
// The shop's profile and the live map (docs/profile.md's schema, as JSON; null:
// none) -> MessagePack -> decode_profile. Null, with `why`, when the module would
// refuse it.
//
// Example:
//   auto p = decode_json_profile(json{{"v", 1}, {"first_name", "Ann"}}, nullptr, &why);
[[nodiscard]] std::unique_ptr<OwnedProfile> decode_json_profile(const nlohmann::json& shop,
                                                                const nlohmann::json& live,
                                                                std::string* why);

// Pop-up caps and the MessagePack bytes they were decoded from.
struct OwnedCaps {
    std::vector<uint8_t> bytes;
    tailor::PopupCapsDecodeResult decoded;

    [[nodiscard]] const tailor::PopupCaps* usable() const {
        return decoded.error == tailor::PopupCapsError::kNone ? &decoded.caps : nullptr;
    }
};

// decode_json_caps
//
// Pop-up caps as the module stores them (docs/popups.md's schema, as JSON) ->
// MessagePack -> decode_popup_caps. Null: the visitor has none. A case may write
// just the per-pop-up map.
//
// Example:
//   decode_json_caps(json{{"welcome", {{"n", 1}}}})->usable() != nullptr
[[nodiscard]] std::unique_ptr<OwnedCaps> decode_json_caps(const nlohmann::json& caps);

// What the command line says of the request, for what a case's `request` omits.
struct RequestDefaults {
    std::string url;  // empty: "/"
    std::string device;
    std::string referrer;
    std::string vid;
    bool logged_in = false;
};

// facts_from
//
// Request facts from a case's `request` table (url, device, referrer, vid,
// logged_in, cookies), else `defaults`, at the clock `now`. The strings live in
// `store` and the cookies in `cookies`, so the views stay valid while both do.
//
// Example:
//   facts_from(json{{"url", "/p/x?a=1"}}, defaults, now, store, cookies).query == "a=1"
[[nodiscard]] tailor::RequestFacts facts_from(const nlohmann::json& request,
                                              const RequestDefaults& defaults, int64_t now,
                                              std::deque<std::string>& store,
                                              std::vector<tailor::RequestCookie>& cookies);

}  // namespace tailorctl
