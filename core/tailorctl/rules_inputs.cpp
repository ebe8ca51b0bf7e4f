// JSON fixtures -> the profile, caps and request facts a rule pack decides on.
#include "rules_inputs.h"

#include <string_view>
#include <utility>

namespace tailorctl {

using nlohmann::json;

std::unique_ptr<OwnedProfile> decode_json_profile(const json& shop, const json& live,
                                                  std::string* why) {
    auto owned = std::make_unique<OwnedProfile>();
    if (!shop.is_null()) {
        owned->profile_bytes = json::to_msgpack(shop);
    }
    if (!live.is_null()) {
        owned->live_bytes = json::to_msgpack(live);
    }
    auto as_sv = [](const std::vector<uint8_t>& b) {
        return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
    };
    tailor::ProfileDecodeResult r =
        tailor::decode_profile(as_sv(owned->profile_bytes), as_sv(owned->live_bytes));
    if (!r.profile) {
        *why = std::string("profile refused: ") + std::string(tailor::profile_error_name(r.error));
        return nullptr;
    }
    owned->profile = std::move(*r.profile);
    return owned;
}

std::unique_ptr<OwnedCaps> decode_json_caps(const json& caps) {
    auto owned = std::make_unique<OwnedCaps>();
    if (!caps.is_null()) {
        json blob = caps;
        // a case may write just the per-pop-up map
        if (blob.is_object() && !blob.contains("p") && !blob.contains("v")) {
            blob = json{{"v", 1}, {"p", caps}};
        }
        owned->bytes = json::to_msgpack(blob);
    }
    owned->decoded = tailor::decode_popup_caps(
        std::string_view(reinterpret_cast<const char*>(owned->bytes.data()), owned->bytes.size()));
    return owned;
}

tailor::RequestFacts facts_from(const json& request, const RequestDefaults& defaults, int64_t now,
                                std::deque<std::string>& store,
                                std::vector<tailor::RequestCookie>& cookies) {
    tailor::RequestFacts f;
    auto keep = [&](std::string s) -> std::string_view {
        store.push_back(std::move(s));
        return store.back();
    };
    auto str = [&](const char* key, const std::string& fallback) -> std::string_view {
        if (request.is_object() && request.contains(key) && request[key].is_string()) {
            return keep(request[key].get<std::string>());
        }
        return keep(fallback);
    };
    std::string url = defaults.url.empty() ? "/" : defaults.url;
    std::string_view full = str("url", url);
    size_t q = full.find('?');
    f.path = full.substr(0, q);
    f.query = q == std::string_view::npos ? std::string_view() : full.substr(q + 1);
    f.device_class = str("device", defaults.device);
    f.referrer_source = str("referrer", defaults.referrer);
    f.visitor_id = str("vid", defaults.vid);
    f.now = now;
    f.logged_in = defaults.logged_in;
    if (request.is_object() && request.contains("logged_in") && request["logged_in"].is_boolean()) {
        f.logged_in = request["logged_in"].get<bool>();
    }
    if (request.is_object() && request.contains("cookies") && request["cookies"].is_object()) {
        for (auto& [name, value] : request["cookies"].items()) {
            if (value.is_string()) {
                cookies.push_back({keep(name), keep(value.get<std::string>())});
            }
        }
    }
    f.cookies = cookies.data();
    f.cookie_count = cookies.size();
    return f;
}

}  // namespace tailorctl
