// JsonText: a small append-only JSON writer for the consumer-side formats (Klaviyo, Segment).
//
// Core has no JSON library; the forwarding formats only ever write, in a
// fixed key order, so a writer that tracks commas is all they need. Strings
// are escaped per RFC 8259 (the event's strings are valid UTF-8 already).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

class JsonText {
  public:
    JsonText& begin_object();
    JsonText& end_object();
    JsonText& begin_array();
    JsonText& end_array();
    JsonText& key(std::string_view k);
    JsonText& string(std::string_view s);
    JsonText& integer(int64_t v);
    // JsonText::number
    //
    // The shortest text that reads back as `v` (19.99 stays "19.99"); a
    // non-finite value is written as null.
    JsonText& number(double v);
    JsonText& boolean(bool v);

    [[nodiscard]] const std::string& text() const noexcept { return out_; }

  private:
    void comma();
    std::string out_;
    std::vector<bool> first_;  // per open container: nothing written in it yet
    bool after_key_ = false;
};

// iso8601_utc
//
//   iso8601_utc(1750000000123) == "2025-06-15T15:06:40.123Z"
[[nodiscard]] std::string iso8601_utc(int64_t unix_ms);

}  // namespace tailor
