// JsonReader: a bounded JSON (RFC 8259) parser for small documents a backend sends in a header.
//
// Core had only a writer (triggers/json_text.h); the upstream event header
// (events/upstream_event.h) is the first JSON Tailor reads, from a source it
// trusts less than its own config. So everything is bounded before a byte is
// looked at twice: the input size, the nesting depth and the number of
// values; a document over any bound is refused, never cut. Duplicate keys are
// refused too (parsers disagree on which one wins, and a validator that reads
// the first while a consumer reads the last is a bypass). Strings must be
// valid UTF-8 with no raw control characters; escapes, surrogate pairs
// included, are decoded. The result is a flat array of values in document
// order, each knowing where its subtree ends: no allocation per value, one
// reserved block for the decoded strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

// JsonLimits
//
// Every bound has a default sized for one event in one header.
struct JsonLimits {
    size_t max_bytes = 8192;  // the whole document
    size_t max_depth = 4;     // nested arrays and objects; the root container is 1
    size_t max_values = 512;  // every value, object keys included
};

enum class JsonType : unsigned char {
    kNull = 0,
    kFalse,
    kTrue,
    kNumber,
    kString,
    kArray,
    kObject,
};

// JsonError
enum class JsonError : unsigned char {
    kOk = 0,
    kTooLarge,       // over max_bytes
    kTooDeep,        // over max_depth
    kTooManyValues,  // over max_values
    kSyntax,         // not JSON, or bytes after the document
    kBadString,      // a raw control character, invalid UTF-8, a bad escape or lone surrogate
    kBadNumber,      // not RFC 8259's number grammar
    kDuplicateKey,   // a key twice in one object
    kOutOfMemory,
};

// json_error_name
//
// A short lower-case name for logs: "too large", "syntax", ...
//
// Example:
//   json_error_name(JsonError::kDuplicateKey) == "duplicate key"
[[nodiscard]] std::string_view json_error_name(JsonError error) noexcept;

// JsonValue
//
// One value. `text`: a string's decoded UTF-8, a number as written, empty
// otherwise. `count`: an array's elements or an object's members. `end`: the
// index one past this value's subtree, so the next sibling is values()[end].
// An object's members are stored as a key (a kString) followed by its value.
struct JsonValue {
    JsonType type = JsonType::kNull;
    uint32_t count = 0;
    uint32_t end = 0;
    std::string_view text;
};

// JsonDocument
//
// Example:
//   JsonDocument doc;
//   doc.parse(R"({"a":[1,"x"]})") == JsonError::kOk
//   doc.values().size() == 5           // object, key "a", array, 1, "x"
//   doc.member(0, "a") == 2            // the array
//   doc.values()[3].text == "1"
class JsonDocument {
  public:
    static constexpr size_t npos = static_cast<size_t>(-1);

    // JsonDocument::parse
    //
    // Parses `text` (any previous content is dropped). On an error the
    // document is empty. Views in values() stay valid until the next parse
    // or the document's end; they never point into `text`.
    [[nodiscard]] JsonError parse(std::string_view text, const JsonLimits& limits = {}) noexcept;

    [[nodiscard]] const std::vector<JsonValue>& values() const noexcept { return values_; }

    // JsonDocument::member
    //
    // The index of the value of `key` in the object at `object`, or npos
    // (also when `object` is not an object).
    [[nodiscard]] size_t member(size_t object, std::string_view key) const noexcept;

  private:
    std::vector<JsonValue> values_;
    std::string strings_;
};

}  // namespace tailor
