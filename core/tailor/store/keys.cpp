#include "tailor/store/keys.h"

#include <cstring>

namespace tailor {
namespace {

// The schema's fixed parts: `tailor:{` <vid> `}:` <suffix>.
constexpr std::string_view kOpen = "tailor:{";
constexpr std::string_view kClose = "}:";

char* append(char* out, std::string_view s) noexcept {
    if (!s.empty()) {
        std::memcpy(out, s.data(), s.size());
    }
    return out + s.size();
}

}  // namespace

std::size_t visitor_key_size(std::string_view vid, VisitorKeyKind kind) noexcept {
    return kOpen.size() + vid.size() + kClose.size() + visitor_key_suffix(kind).size();
}

char* write_visitor_key(char* out, std::string_view vid, VisitorKeyKind kind) noexcept {
    out = append(out, kOpen);
    out = append(out, vid);
    out = append(out, kClose);
    return append(out, visitor_key_suffix(kind));
}

std::string visitor_key(std::string_view vid, VisitorKeyKind kind) {
    std::string key(visitor_key_size(vid, kind), '\0');
    write_visitor_key(key.data(), vid, kind);
    return key;
}

}  // namespace tailor
