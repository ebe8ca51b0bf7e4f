// DeviceClass: a coarse device class (mobile, tablet, desktop, bot) from a User-Agent header.
//
// Events carry only this class, never the User-Agent itself: a full UA string
// is a fingerprinting input (with the IP it often singles out one person), and
// email triggers only need to know which layout the visitor saw. The match is
// deliberately coarse and table-driven; it looks at the first kMaxUserAgentScan
// bytes only, case-insensitively, and never allocates.
//
// Known limit: iPadOS 13+ Safari sends a desktop macOS User-Agent by default,
// so those iPads count as desktop. Nothing in the header distinguishes them.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

// Longer User-Agents exist (stacked browser tokens) but everything the table
// looks for appears well within the first 512 bytes.
inline constexpr size_t kMaxUserAgentScan = 512;

// DeviceClass
//
// kUnknown is an absent or empty User-Agent: neither a browser nor a named bot.
enum class DeviceClass : unsigned char {
    kUnknown = 0,
    kDesktop,
    kMobile,
    kTablet,
    kBot,
};

// device_class_name
//
// The lower-case name stored in events.
//
// Example:
//   device_class_name(DeviceClass::kTablet) == "tablet"
[[nodiscard]] std::string_view device_class_name(DeviceClass device) noexcept;

// parse_device_class
//
// The inverse of device_class_name; nullopt-like kUnknown for anything else.
//
// Example:
//   parse_device_class("mobile") == DeviceClass::kMobile
//   parse_device_class("phone") == DeviceClass::kUnknown
[[nodiscard]] DeviceClass parse_device_class(std::string_view name) noexcept;

// classify_device
//
// The device class of a User-Agent value. Bots are tested first (crawlers
// often claim "Mobile" too), then tablets (Android tablets omit "Mobile"),
// then phones; any other non-empty value is a desktop.
//
// Example:
//   classify_device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) ... Mobile/15E148")
//       == DeviceClass::kMobile
//   classify_device("Mozilla/5.0 (Linux; Android 14; SM-X710) ... Safari/537.36")
//       == DeviceClass::kTablet
//   classify_device("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
//       == DeviceClass::kBot
//   classify_device("") == DeviceClass::kUnknown
[[nodiscard]] DeviceClass classify_device(std::string_view user_agent) noexcept;

}  // namespace tailor
