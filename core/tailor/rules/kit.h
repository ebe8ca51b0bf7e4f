// The rule kit built into the library: lua/tailor.lua and its parts, embedded at build time.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

// KitFile
//
// One file of the kit by its path under lua/: "tailor.lua" (the entry file,
// always first) or "tailor/<part>.lua".
struct KitFile {
    std::string_view name;
    std::string_view text;
};

// embedded_kit_files
//
// The kit this library was built with (core/cmake/EmbedKit.cmake).
//
// Example:
//   size_t n = 0;
//   const KitFile* files = embedded_kit_files(&n);
//   files[0].name == "tailor.lua"
[[nodiscard]] const KitFile* embedded_kit_files(size_t* count) noexcept;

}  // namespace tailor
