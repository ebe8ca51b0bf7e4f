# Embeds a browser script in core as a C++ string: cmake -DINPUT=popups.js
# -DOUTPUT=asset.cpp -DNAME=popup_runtime -DHEADER=tailor/popup/runtime.h -P EmbedScript.cmake
#
# The script is shipped trimmed, not minified: indentation, blank lines and
# whole-line `//` comments go (client/popups.js keeps to that comment style),
# nothing else changes, so what runs is what was reviewed. The version is the
# first 12 hex digits of the trimmed text's SHA-256: the cache-busting token
# in the injected <script src>, so a new build never meets a stale cached copy.
file(READ "${INPUT}" text)
string(REGEX REPLACE "\r" "" text "${text}")
# (a leading newline, so every line starts after one: CMake's `^` is not a line anchor)
string(PREPEND text "\n")
string(REGEX REPLACE "\n[ \t]+" "\n" text "${text}")
string(REGEX REPLACE "\n//[^\n]*" "\n" text "${text}")
string(REGEX REPLACE "\n\n+" "\n" text "${text}")
string(REGEX REPLACE "^\n" "" text "${text}")
if(text MATCHES "\\)tailor_embed\"")
    message(FATAL_ERROR "${INPUT} contains the raw string delimiter )tailor_embed\"")
endif()
string(SHA256 digest "${text}")
string(SUBSTRING "${digest}" 0 12 version)
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by core/cmake/EmbedScript.cmake; do not edit.
#include \"${HEADER}\"

namespace tailor {

std::string_view ${NAME}_script() noexcept {
    static constexpr std::string_view kScript = R\"tailor_embed(${text})tailor_embed\";
    return kScript;
}

std::string_view ${NAME}_version() noexcept { return \"${version}\"; }

}  // namespace tailor
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
