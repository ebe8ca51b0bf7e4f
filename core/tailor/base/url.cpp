// Url: the query-component percent-decoder.
#include "tailor/base/url.h"

#include "tailor/base/ascii.h"

namespace tailor {

PercentDecoded percent_decode_query(std::string_view in, char* out, size_t cap) noexcept {
    PercentDecoded r;
    size_t i = 0;
    for (; i < in.size() && r.size < cap; ++i) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
            const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            if (hi >= 0 && lo >= 0) {
                c = static_cast<char>(hi * 16 + lo);
                i += 2;
            } else {
                r.bad_escape = true;
            }
        }
        out[r.size++] = c;
    }
    r.complete = i == in.size();
    return r;
}

}  // namespace tailor
