// DeviceClass: one pass over a lower-cased, bounded User-Agent prefix, looking up the tokens
// that can start at each byte.
#include "tailor/request/device_class.h"

#include "tailor/base/ascii.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace tailor {
namespace {

// What a token found anywhere in the User-Agent says; classify_device weighs
// them in the order of the enum (a bot token wins over everything).
enum Mark : uint8_t {
    kMarkBot = 1,
    kMarkTablet = 2,
    kMarkAndroid = 4,
    kMarkMobileWord = 8,  // "mobile": an Android phone (Android without it is a tablet)
    kMarkMobile = 16,
};

struct Token {
    std::string_view text;  // lower case
    uint8_t mark;
};

// Self-declared automation first: search and social crawlers, link previewers,
// monitoring, headless browsers and HTTP libraries. "bot" alone covers most
// (Googlebot, bingbot, AhrefsBot, ...).
constexpr std::array<Token, 37> kTokens = {{
    {"bot", kMarkBot},
    {"crawl", kMarkBot},
    {"spider", kMarkBot},
    {"slurp", kMarkBot},
    {"facebookexternalhit", kMarkBot},
    {"headless", kMarkBot},
    {"lighthouse", kMarkBot},
    {"pingdom", kMarkBot},
    {"curl/", kMarkBot},
    {"wget/", kMarkBot},
    {"python-", kMarkBot},
    {"go-http-client", kMarkBot},
    {"java/", kMarkBot},
    {"okhttp", kMarkBot},
    {"libwww", kMarkBot},
    {"httpclient", kMarkBot},
    {"preview", kMarkBot},
    {"feedfetcher", kMarkBot},
    {"mediapartners", kMarkBot},
    {"whatsapp", kMarkBot},
    {"phantomjs", kMarkBot},
    {"scrapy", kMarkBot},
    {"ipad", kMarkTablet},
    {"tablet", kMarkTablet},
    {"kindle", kMarkTablet},
    {"silk/", kMarkTablet},
    {"playbook", kMarkTablet},
    {"sm-t", kMarkTablet},
    {"android", kMarkAndroid},
    {"mobile", kMarkMobileWord},
    {"mobi", kMarkMobile},
    {"iphone", kMarkMobile},
    {"ipod", kMarkMobile},
    {"windows phone", kMarkMobile},
    {"blackberry", kMarkMobile},
    {"opera mini", kMarkMobile},
    {"bb10", kMarkMobile},
}};

// For each byte, the tokens that start with it (bit i: kTokens[i]): the scan
// looks at a position only when some token could start there.
constexpr std::array<uint64_t, 256> first_bytes() noexcept {
    std::array<uint64_t, 256> by_byte{};
    for (size_t i = 0; i < kTokens.size(); ++i) {
        if (!kTokens[i].text.empty()) {
            by_byte[static_cast<unsigned char>(kTokens[i].text[0])] |= uint64_t{1} << i;
        }
    }
    return by_byte;
}
constexpr std::array<uint64_t, 256> kTokensByFirstByte = first_bytes();

// Every mark of a token found in `lower` (already lower case), in one pass.
uint8_t marks_of(std::string_view lower) noexcept {
    uint8_t marks = 0;
    for (size_t at = 0; at < lower.size(); ++at) {
        uint64_t candidates = kTokensByFirstByte[static_cast<unsigned char>(lower[at])];
        while (candidates != 0) {
            const Token& t = kTokens[static_cast<size_t>(__builtin_ctzll(candidates))];
            candidates &= candidates - 1;
            if ((marks & t.mark) == 0 && lower.compare(at, t.text.size(), t.text) == 0) {
                marks |= t.mark;
            }
        }
    }
    return marks;
}

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

namespace {

// The User-Agents classified last and their classes, per thread (an nginx
// worker has one). Three callers ask about each request's value (consent gate,
// request facts, events), and a shop's traffic repeats a few hundred values;
// a hit costs a compare of the scanned bytes instead of ~1,500 instructions
// of folding and matching. Exact: a hit compares every scanned byte.
// Zero-initialized: an empty entry has size 0, which no lookup asks for.
struct RecentAgent {
    uint16_t size;
    DeviceClass device;
    char bytes[kMaxUserAgentScan];
};
constexpr size_t kRecentAgents = 16;
thread_local RecentAgent recent_agents[kRecentAgents];

// Where `ua` (not empty) is kept: a mix of its length and three of its bytes,
// which differ between browsers and versions more than its first bytes do.
RecentAgent& recent_agent_for(std::string_view ua) noexcept {
    const size_t n = ua.size();
    const size_t h = n ^ (static_cast<size_t>(static_cast<unsigned char>(ua[n / 2])) << 1) ^
                     (static_cast<size_t>(static_cast<unsigned char>(ua[n - 1])) << 2) ^
                     (static_cast<size_t>(static_cast<unsigned char>(ua[n * 3 / 4])) << 3);
    return recent_agents[(h ^ (h >> 4)) % kRecentAgents];
}

DeviceClass classify_scanned(std::string_view ua) noexcept {
    // one lower-cased copy and one pass over it
    char lower[kMaxUserAgentScan];
    for (size_t i = 0; i < ua.size(); ++i) {
        lower[i] = ascii_lower(ua[i]);
    }
    const uint8_t marks = marks_of(std::string_view(lower, ua.size()));
    if (marks & kMarkBot) {
        return DeviceClass::kBot;
    }
    if (marks & kMarkTablet) {
        return DeviceClass::kTablet;
    }
    // Android phones say "Mobile"; Android without it is a tablet by Google's
    // own guidance to browser vendors.
    if (marks & kMarkAndroid) {
        return (marks & kMarkMobileWord) ? DeviceClass::kMobile : DeviceClass::kTablet;
    }
    if (marks & kMarkMobile) {
        return DeviceClass::kMobile;
    }
    return DeviceClass::kDesktop;
}

}  // namespace

DeviceClass classify_device(std::string_view user_agent) noexcept {
    const std::string_view ua = user_agent.substr(0, kMaxUserAgentScan);
    if (ua.empty()) {
        return DeviceClass::kUnknown;
    }
    RecentAgent& recent = recent_agent_for(ua);
    if (recent.size == ua.size() && std::memcmp(recent.bytes, ua.data(), ua.size()) == 0) {
        return recent.device;
    }
    const DeviceClass device = classify_scanned(ua);
    recent.size = static_cast<uint16_t>(ua.size());
    recent.device = device;
    std::memcpy(recent.bytes, ua.data(), ua.size());
    return device;
}

}  // namespace tailor
