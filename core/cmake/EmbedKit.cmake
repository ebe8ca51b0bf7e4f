# Embeds the rule kit (lua/tailor.lua and lua/tailor/*.lua) in core as C++ strings:
#   cmake -DKIT_DIR=lua -DOUTPUT=kit.cpp -P EmbedKit.cmake
#
# The module and tailorctl then carry the kit they were built with: nothing is
# read from the build machine's source tree at run time, so the .so runs on
# any machine and a kit can never be out of step with the runtime that loads it.
# Files are embedded byte for byte (no trimming: error lines stay true).
file(GLOB parts RELATIVE "${KIT_DIR}" "${KIT_DIR}/tailor/*.lua")
list(SORT parts)
set(files tailor.lua ${parts})

set(body "")
foreach(rel IN LISTS files)
    file(READ "${KIT_DIR}/${rel}" text)
    if(text MATCHES "\\)tailor_kit\"")
        message(FATAL_ERROR "${KIT_DIR}/${rel} contains the raw string delimiter )tailor_kit\"")
    endif()
    # long files are cut into pieces: compilers cap one string literal's length
    string(LENGTH "${text}" len)
    set(pieces "")
    set(at 0)
    while(at LESS len)
        string(SUBSTRING "${text}" ${at} 8000 piece)
        string(APPEND pieces "R\"tailor_kit(${piece})tailor_kit\"\n")
        math(EXPR at "${at} + 8000")
    endwhile()
    if(pieces STREQUAL "")
        set(pieces "\"\"")
    endif()
    string(APPEND body "    {\"${rel}\",\n${pieces}},\n")
endforeach()

file(WRITE "${OUTPUT}.tmp" "// Generated from ${KIT_DIR} by core/cmake/EmbedKit.cmake; do not edit.
#include \"tailor/rules/kit.h\"

namespace tailor {
namespace {

constexpr KitFile kFiles[] = {
${body}};

}  // namespace

const KitFile* embedded_kit_files(size_t* count) noexcept {
    *count = sizeof(kFiles) / sizeof(kFiles[0]);
    return kFiles;
}

}  // namespace tailor
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
