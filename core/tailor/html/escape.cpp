// HtmlEscape: one table-driven loop shared by the HTML and JSON-in-script escapers.
#include "tailor/html/escape.h"

#include "tailor/base/utf8.h"

#include <array>
#include <cstddef>

namespace tailor {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

enum Mode : unsigned char { kText, kAttribute, kJson, kJsonString, kModeCount };

// What the loop does with a byte: copy it as part of a clean run, escape it,
// or validate a multi-byte UTF-8 sequence starting at it.
enum ByteClass : unsigned char { kCopy = 0, kSpecial = 1, kNonAscii = 2 };

constexpr std::array<unsigned char, 256> make_table(Mode mode) {
    std::array<unsigned char, 256> t{};
    for (int c = 0x80; c < 0x100; ++c) {
        t[static_cast<size_t>(c)] = kNonAscii;
    }
    t[0] = kSpecial;
    t['&'] = kSpecial;
    t['<'] = kSpecial;
    t['>'] = kSpecial;
    if (mode == kAttribute) {
        t['"'] = kSpecial;
        t['\''] = kSpecial;
        t['`'] = kSpecial;
    }
    if (mode == kJsonString) {
        for (int c = 0; c < 0x20; ++c) {
            t[static_cast<size_t>(c)] = kSpecial;
        }
        t['"'] = kSpecial;
        t['\\'] = kSpecial;
    }
    return t;
}

constexpr std::array<std::array<unsigned char, 256>, kModeCount> kTables = {
    make_table(kText), make_table(kAttribute), make_table(kJson), make_table(kJsonString)};

void append_hex_escape(std::string& out, unsigned c) {
    static constexpr char kHex[] = "0123456789abcdef";
    const char buf[6] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xF], kHex[c & 0xF]};
    out.append(buf, sizeof buf);
}

template <Mode M>
void emit_special(std::string& out, unsigned char c) {
    constexpr bool kIsJson = M == kJson || M == kJsonString;
    switch (c) {
        case '&':
            out.append(kIsJson ? "\\u0026" : "&amp;");
            return;
        case '<':
            out.append(kIsJson ? "\\u003c" : "&lt;");
            return;
        case '>':
            out.append(kIsJson ? "\\u003e" : "&gt;");
            return;
        case '"':
            out.append(kIsJson ? "\\\"" : "&quot;");
            return;
        case '\'':
            out.append("&#39;");
            return;
        case '`':
            out.append("&#96;");
            return;
        case '\\':
            out.append("\\\\");
            return;
        default:
            break;
    }
    if (!kIsJson) {
        out.append(kReplacement);  // NUL
        return;
    }
    switch (c) {
        case '\b':
            out.append("\\b");
            return;
        case '\f':
            out.append("\\f");
            return;
        case '\n':
            out.append("\\n");
            return;
        case '\r':
            out.append("\\r");
            return;
        case '\t':
            out.append("\\t");
            return;
        default:
            append_hex_escape(out, c);
            return;
    }
}

template <Mode M>
void append_escaped(std::string& out, std::string_view in) {
    constexpr bool kIsJson = M == kJson || M == kJsonString;
    const auto& table = kTables[M];
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const size_t n = in.size();
    size_t start = 0;  // first byte of the clean run not yet appended
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        const unsigned char cls = table[c];
        if (cls == kCopy) {
            ++i;
            continue;
        }
        if (cls == kNonAscii) {
            const int len = utf8_sequence(p + i, n - i);
            if (len > 0) {
                // U+2028/U+2029 end a line in pre-ES2019 JavaScript.
                const bool line_sep = kIsJson && len == 3 && c == 0xE2 && p[i + 1] == 0x80 &&
                                      (p[i + 2] == 0xA8 || p[i + 2] == 0xA9);
                if (!line_sep) {
                    i += static_cast<size_t>(len);
                    continue;
                }
                out.append(in.data() + start, i - start);
                out.append(p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
                i += 3;
            } else {
                out.append(in.data() + start, i - start);
                out.append(kReplacement);
                i += static_cast<size_t>(-len);
            }
            start = i;
            continue;
        }
        out.append(in.data() + start, i - start);
        emit_special<M>(out, c);
        ++i;
        start = i;
    }
    out.append(in.data() + start, n - start);
}

}  // namespace

void append_html_text(std::string& out, std::string_view in) {
    append_escaped<kText>(out, in);
}

void append_html_attribute(std::string& out, std::string_view in) {
    append_escaped<kAttribute>(out, in);
}

std::string html_escape_text(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    append_html_text(out, in);
    return out;
}

std::string html_escape_attribute(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    append_html_attribute(out, in);
    return out;
}

void append_json_for_script(std::string& out, std::string_view json) {
    append_escaped<kJson>(out, json);
}

void append_json_string_for_script(std::string& out, std::string_view text) {
    out.push_back('"');
    append_escaped<kJsonString>(out, text);
    out.push_back('"');
}

}  // namespace tailor
