// DeviceClass: table-driven, case-insensitive token search over a bounded User-Agent prefix.
#include "tailor/request/device_class.h"

#include "tailor/base/ascii.h"

#include <array>

namespace tailor {
namespace {

template <size_t N>
bool contains_any(std::string_view hay, const std::array<std::string_view, N>& needles) noexcept {
    for (std::string_view n : needles) {
        if (ascii_icontains(hay, n)) {
            return true;
        }
    }
    return false;
}

// Self-declared automation: search and social crawlers, link previewers,
// monitoring, headless browsers and HTTP libraries. "bot" alone covers most
// (Googlebot, bingbot, AhrefsBot, ...).
constexpr std::array<std::string_view, 22> kBotTokens = {
    "bot",        "crawl",          "spider",      "slurp",         "facebookexternalhit",
    "headless",   "lighthouse",     "pingdom",     "curl/",         "wget/",
    "python-",    "go-http-client", "java/",       "okhttp",        "libwww",
    "httpclient", "preview",        "feedfetcher", "mediapartners", "whatsapp",
    "phantomjs",  "scrapy",
};

constexpr std::array<std::string_view, 6> kTabletTokens = {
    "ipad", "tablet", "kindle", "silk/", "playbook", "sm-t",
};

constexpr std::array<std::string_view, 7> kMobileTokens = {
    "mobi", "iphone", "ipod", "windows phone", "blackberry", "opera mini", "bb10",
};

}  // namespace

std::string_view device_class_name(DeviceClass device) noexcept {
    switch (device) {
        case DeviceClass::kDesktop:
            return "desktop";
        case DeviceClass::kMobile:
            return "mobile";
        case DeviceClass::kTablet:
            return "tablet";
        case DeviceClass::kBot:
            return "bot";
        case DeviceClass::kUnknown:
            break;
    }
    return "unknown";
}

DeviceClass parse_device_class(std::string_view name) noexcept {
    for (DeviceClass d :
         {DeviceClass::kDesktop, DeviceClass::kMobile, DeviceClass::kTablet, DeviceClass::kBot}) {
        if (device_class_name(d) == name) {
            return d;
        }
    }
    return DeviceClass::kUnknown;
}

DeviceClass classify_device(std::string_view user_agent) noexcept {
    const std::string_view ua = user_agent.substr(0, kMaxUserAgentScan);
    if (ua.empty()) {
        return DeviceClass::kUnknown;
    }
    if (contains_any(ua, kBotTokens)) {
        return DeviceClass::kBot;
    }
    if (contains_any(ua, kTabletTokens)) {
        return DeviceClass::kTablet;
    }
    // Android phones say "Mobile"; Android without it is a tablet by Google's
    // own guidance to browser vendors.
    if (ascii_icontains(ua, "android")) {
        return ascii_icontains(ua, "mobile") ? DeviceClass::kMobile : DeviceClass::kTablet;
    }
    if (contains_any(ua, kMobileTokens)) {
        return DeviceClass::kMobile;
    }
    return DeviceClass::kDesktop;
}

}  // namespace tailor
