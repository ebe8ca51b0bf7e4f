#include "tailor/store/visitor_read.h"

namespace tailor {

VisitorRead::VisitorRead(std::string_view vid, size_t max_bytes, VisitorReadCaps caps)
    : max_(std::to_string(max_bytes)),
      count_(caps == VisitorReadCaps::kRead ? kVisitorReadCommands : kVisitorReadCommands - 1) {
    static_assert(kVisitorReadKinds.back() == VisitorKeyKind::kCaps, "the caps are read last");
    constexpr std::string_view kExists = "EXISTS";
    constexpr std::string_view kGetRange = "GETRANGE";

    size_t total = visitor_key_size(vid, VisitorKeyKind::kErased);
    for (size_t i = 1; i < count_; i++) {
        total += visitor_key_size(vid, kVisitorReadKinds[i - 1]);
    }
    keys_.resize(total);

    // the tombstone first, then the values in kVisitorReadKinds order
    char* at = keys_.data();
    for (size_t i = 0; i < count_; i++) {
        VisitorKeyKind kind = i == 0 ? VisitorKeyKind::kErased : kVisitorReadKinds[i - 1];
        char* end = write_visitor_key(at, vid, kind);
        argv_[i][0] = i == 0 ? kExists.data() : kGetRange.data();
        argvlen_[i][0] = i == 0 ? kExists.size() : kGetRange.size();
        argv_[i][1] = at;
        argvlen_[i][1] = static_cast<size_t>(end - at);
        if (i != 0) {
            argv_[i][2] = "0";
            argvlen_[i][2] = 1;
            argv_[i][3] = max_.data();
            argvlen_[i][3] = max_.size();
        }
        at = end;
    }
    route_ = std::string_view(argv_[1][1], argvlen_[1][1]);
}

}  // namespace tailor
