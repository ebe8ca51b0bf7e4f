#include "tailor/triggers/json_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace tailor {

void JsonText::comma() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.empty()) {
        if (!first_.back()) {
            out_ += ',';
        }
        first_.back() = false;
    }
}

JsonText& JsonText::begin_object() {
    comma();
    out_ += '{';
    first_.push_back(true);
    return *this;
}

JsonText& JsonText::end_object() {
    out_ += '}';
    first_.pop_back();
    return *this;
}

JsonText& JsonText::begin_array() {
    comma();
    out_ += '[';
    first_.push_back(true);
    return *this;
}

JsonText& JsonText::end_array() {
    out_ += ']';
    first_.pop_back();
    return *this;
}

JsonText& JsonText::key(std::string_view k) {
    string(k);
    out_ += ':';
    after_key_ = true;
    return *this;
}

JsonText& JsonText::string(std::string_view s) {
    comma();
    out_ += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out_ += "\\\"";
                break;
            case '\\':
                out_ += "\\\\";
                break;
            case '\n':
                out_ += "\\n";
                break;
            case '\r':
                out_ += "\\r";
                break;
            case '\t':
                out_ += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out_ += buf;
                } else {
                    out_ += ch;
                }
        }
    }
    out_ += '"';
    return *this;
}

JsonText& JsonText::integer(int64_t v) {
    comma();
    out_ += std::to_string(v);
    return *this;
}

JsonText& JsonText::number(double v) {
    if (!std::isfinite(v)) {
        comma();
        out_ += "null";
        return *this;
    }
    char buf[32];
    for (int precision = 15; precision <= 17; precision++) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) {
            break;
        }
    }
    comma();
    out_ += buf;
    return *this;
}

JsonText& JsonText::boolean(bool v) {
    comma();
    out_ += v ? "true" : "false";
    return *this;
}

std::string iso8601_utc(int64_t unix_ms) {
    int64_t ms = unix_ms % 1000;
    auto seconds = static_cast<std::time_t>(unix_ms / 1000);
    if (ms < 0) {
        ms += 1000;
        seconds -= 1;
    }
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[80];  // the compiler's bound for any int fields
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return buf;
}

}  // namespace tailor
