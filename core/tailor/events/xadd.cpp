// XaddCommand: the XADD argv over the config, the event's type and vid, and its blob.
#include "tailor/events/xadd.h"

#include <charconv>

namespace tailor {

void XaddCommand::build(const StreamConfig& config, std::string_view type, std::string_view vid,
                        std::string_view blob) noexcept {
    int n = 0;
    auto add = [&](std::string_view s) {
        argv_[n] = s.data();
        argvlen_[n] = s.size();
        ++n;
    };
    add("XADD");
    add(config.key);
    if (config.maxlen != 0) {
        const auto r = std::to_chars(maxlen_, maxlen_ + sizeof maxlen_, config.maxlen);
        add("MAXLEN");
        add("~");
        add(std::string_view(maxlen_, static_cast<size_t>(r.ptr - maxlen_)));
    }
    add("*");
    add("type");
    add(type);
    add("vid");
    add(vid);
    add("e");
    add(blob);
    argc_ = n;
}

}  // namespace tailor
