// The pop-up client runtime (client/popups.js), embedded at build time, and the tag that loads it.
#pragma once

#include <string>
#include <string_view>

namespace tailor {

// kPopupRuntimePath
//
// Where the page expects the runtime when the operator says nothing else
// ("tailor_popup_urls"); the module serves it there with "tailor_popup_runtime".
inline constexpr std::string_view kPopupRuntimePath = "/tailor/popups.js";

// popup_runtime_script
//
// The script as served: client/popups.js with indentation, blank lines and
// whole-line comments removed (core/cmake/EmbedScript.cmake). Static storage.
[[nodiscard]] std::string_view popup_runtime_script() noexcept;

// popup_runtime_version
//
// 12 lower-case hex digits of the served script's SHA-256: the cache-busting
// token of the script URL, and a strong ETag.
[[nodiscard]] std::string_view popup_runtime_version() noexcept;

// append_popup_runtime_tag
//
// Appends `<script src="PATH?v=VERSION" defer></script>` to `out`, PATH
// escaped for a double-quoted attribute (an empty path means
// kPopupRuntimePath). The runtime finds the directives by id, so the tag may
// come before or after them.
//
// Example:
//   std::string s;
//   append_popup_runtime_tag(s, "/t/p.js");
//   // s == "<script src=\"/t/p.js?v=" + version + "\" defer></script>"
void append_popup_runtime_tag(std::string& out, std::string_view path);

}  // namespace tailor
