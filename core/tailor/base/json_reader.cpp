// JsonReader: recursive descent over a bounded document into a flat value array.
#include "tailor/base/json_reader.h"

#include "tailor/base/utf8.h"

namespace tailor {
namespace {

// Recursion is bounded by max_depth, itself capped here so a caller's
// careless limit cannot reach the stack.
constexpr size_t kMaxDepthCap = 64;

class Parser {
  public:
    Parser(std::string_view in, const JsonLimits& limits, std::vector<JsonValue>* values,
           std::string* strings) noexcept
        : p_(in.data()),
          end_(in.data() + in.size()),
          limits_(limits),
          values_(values),
          strings_(strings) {}

    JsonError document() noexcept {
        skip_space();
        if (!value(1)) {
            return error_;
        }
        skip_space();
        if (p_ != end_) {
            return JsonError::kSyntax;
        }
        return JsonError::kOk;
    }

  private:
    bool fail(JsonError e) noexcept {
        if (error_ == JsonError::kOk) {
            error_ = e;
        }
        return false;
    }

    void skip_space() noexcept {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
            ++p_;
        }
    }

    bool literal(std::string_view word) noexcept {
        if (static_cast<size_t>(end_ - p_) < word.size() ||
            std::string_view(p_, word.size()) != word) {
            return fail(JsonError::kSyntax);
        }
        p_ += word.size();
        return true;
    }

    // Appends a value; the index it got goes to *index.
    bool push(JsonType type, size_t* index) noexcept {
        if (values_->size() >= limits_.max_values) {
            return fail(JsonError::kTooManyValues);
        }
        // reserved up front (parse()), so this never allocates
        values_->push_back(JsonValue{type, 0, 0, {}});
        *index = values_->size() - 1;
        return true;
    }

    void close(size_t index) noexcept {
        (*values_)[index].end = static_cast<uint32_t>(values_->size());
    }

    bool value(size_t depth) noexcept {
        if (p_ == end_) {
            return fail(JsonError::kSyntax);
        }
        size_t index = 0;
        switch (*p_) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                if (!push(JsonType::kTrue, &index) || !literal("true")) {
                    return false;
                }
                close(index);
                return true;
            case 'f':
                if (!push(JsonType::kFalse, &index) || !literal("false")) {
                    return false;
                }
                close(index);
                return true;
            case 'n':
                if (!push(JsonType::kNull, &index) || !literal("null")) {
                    return false;
                }
                close(index);
                return true;
            default:
                if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) {
                    return number();
                }
                return fail(JsonError::kSyntax);
        }
    }

    static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

    bool digits() noexcept {
        const char* start = p_;
        while (p_ != end_ && digit(*p_)) {
            ++p_;
        }
        return p_ != start;
    }

    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    bool number() noexcept {
        size_t index = 0;
        if (!push(JsonType::kNumber, &index)) {
            return false;
        }
        const char* start = p_;
        if (*p_ == '-') {
            ++p_;
        }
        if (p_ == end_) {
            return fail(JsonError::kBadNumber);
        }
        if (*p_ == '0') {
            ++p_;
        } else if (!digits()) {
            return fail(JsonError::kBadNumber);
        }
        if (p_ != end_ && *p_ == '.') {
            ++p_;
            if (!digits()) {
                return fail(JsonError::kBadNumber);
            }
        }
        if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
            ++p_;
            if (p_ != end_ && (*p_ == '+' || *p_ == '-')) {
                ++p_;
            }
            if (!digits()) {
                return fail(JsonError::kBadNumber);
            }
        }
        if (p_ != end_ && (digit(*p_) || *p_ == '.')) {
            return fail(JsonError::kBadNumber);  // "01", "1.2.3"
        }
        const size_t at = strings_->size();
        strings_->append(start, static_cast<size_t>(p_ - start));
        (*values_)[index].text = std::string_view(strings_->data() + at, strings_->size() - at);
        close(index);
        return true;
    }

    static int hex(char c) noexcept {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    bool hex4(uint32_t* out) noexcept {
        if (end_ - p_ < 4) {
            return fail(JsonError::kBadString);
        }
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hex(p_[i]);
            if (h < 0) {
                return fail(JsonError::kBadString);
            }
            v = v * 16 + static_cast<uint32_t>(h);
        }
        p_ += 4;
        *out = v;
        return true;
    }

    // Writes a code point as UTF-8. Every escape is at least 2 bytes of input
    // (\n) and writes at most as many (\u0800-\uFFFF: 6 in, 3 out; a pair: 12
    // in, 4 out), so the decoded strings never outgrow the input.
    void put_utf8(uint32_t cp) noexcept {
        if (cp < 0x80) {
            strings_->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            strings_->push_back(static_cast<char>(0xC0 | (cp >> 6)));
            strings_->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            strings_->push_back(static_cast<char>(0xE0 | (cp >> 12)));
            strings_->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            strings_->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            strings_->push_back(static_cast<char>(0xF0 | (cp >> 18)));
            strings_->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            strings_->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            strings_->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }

    bool escape() noexcept {
        // p_ is past the backslash
        if (p_ == end_) {
            return fail(JsonError::kBadString);
        }
        const char c = *p_++;
        switch (c) {
            case '"':
            case '\\':
            case '/':
                strings_->push_back(c);
                return true;
            case 'b':
                strings_->push_back('\b');
                return true;
            case 'f':
                strings_->push_back('\f');
                return true;
            case 'n':
                strings_->push_back('\n');
                return true;
            case 'r':
                strings_->push_back('\r');
                return true;
            case 't':
                strings_->push_back('\t');
                return true;
            case 'u':
                break;
            default:
                return fail(JsonError::kBadString);
        }
        uint32_t cp = 0;
        if (!hex4(&cp)) {
            return false;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail(JsonError::kBadString);  // a low surrogate alone
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
                return fail(JsonError::kBadString);
            }
            p_ += 2;
            if (!hex4(&low)) {
                return false;
            }
            if (low < 0xDC00 || low > 0xDFFF) {
                return fail(JsonError::kBadString);
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        put_utf8(cp);
        return true;
    }

    bool string() noexcept {
        size_t index = 0;
        if (!push(JsonType::kString, &index)) {
            return false;
        }
        ++p_;  // the opening quote
        const size_t at = strings_->size();
        for (;;) {
            const char* run = p_;
            while (p_ != end_ && *p_ != '"' && *p_ != '\\' &&
                   static_cast<unsigned char>(*p_) >= 0x20 &&
                   static_cast<unsigned char>(*p_) < 0x80) {
                ++p_;
            }
            strings_->append(run, static_cast<size_t>(p_ - run));
            if (p_ == end_) {
                return fail(JsonError::kBadString);  // unterminated
            }
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                ++p_;
                break;
            }
            if (c == '\\') {
                ++p_;
                if (!escape()) {
                    return false;
                }
                continue;
            }
            if (c < 0x20) {
                return fail(JsonError::kBadString);
            }
            const int len = utf8_sequence(reinterpret_cast<const unsigned char*>(p_),
                                          static_cast<size_t>(end_ - p_));
            if (len <= 0) {
                return fail(JsonError::kBadString);
            }
            strings_->append(p_, static_cast<size_t>(len));
            p_ += len;
        }
        (*values_)[index].text = std::string_view(strings_->data() + at, strings_->size() - at);
        close(index);
        return true;
    }

    bool enter(size_t depth) noexcept {
        if (depth > limits_.max_depth || depth > kMaxDepthCap) {
            return fail(JsonError::kTooDeep);
        }
        return true;
    }

    // An array or an object, at its opening bracket: members separated by commas up to
    // `closer`. `member` reads one (a value; a key, a colon and a value) into the container
    // pushed at the index it is given.
    template <typename ReadMember>
    bool container(size_t depth, JsonType type, char closer, ReadMember&& member) noexcept {
        size_t index = 0;
        if (!enter(depth) || !push(type, &index)) {
            return false;
        }
        ++p_;
        skip_space();
        uint32_t count = 0;
        if (p_ != end_ && *p_ == closer) {
            ++p_;
        } else {
            for (;;) {
                skip_space();
                if (!member(index)) {
                    return false;
                }
                ++count;
                skip_space();
                if (p_ != end_ && *p_ == ',') {
                    ++p_;
                    continue;
                }
                if (p_ != end_ && *p_ == closer) {
                    ++p_;
                    break;
                }
                return fail(JsonError::kSyntax);
            }
        }
        (*values_)[index].count = count;
        close(index);
        return true;
    }

    bool array(size_t depth) noexcept {
        return container(depth, JsonType::kArray, ']',
                         [this, depth](size_t) { return value(depth + 1); });
    }

    // Is the key just pushed at `key` already one of the object's at `object`?
    bool duplicate(size_t object, size_t key) const noexcept {
        const std::vector<JsonValue>& v = *values_;
        for (size_t k = object + 1; k < key; k = v[k + 1].end) {
            if (v[k].text == v[key].text) {
                return true;
            }
        }
        return false;
    }

    // One member of the object at `object`: its key (unique in the object), a colon, a value.
    bool member(size_t object, size_t depth) noexcept {
        if (p_ == end_ || *p_ != '"') {
            return fail(JsonError::kSyntax);
        }
        const size_t key = values_->size();
        if (!string()) {
            return false;
        }
        if (duplicate(object, key)) {
            return fail(JsonError::kDuplicateKey);
        }
        skip_space();
        if (p_ == end_ || *p_ != ':') {
            return fail(JsonError::kSyntax);
        }
        ++p_;
        skip_space();
        return value(depth + 1);
    }

    bool object(size_t depth) noexcept {
        return container(depth, JsonType::kObject, '}',
                         [this, depth](size_t index) { return member(index, depth); });
    }

    const char* p_;
    const char* end_;
    const JsonLimits& limits_;
    std::vector<JsonValue>* values_;
    std::string* strings_;
    JsonError error_ = JsonError::kOk;
};

}  // namespace

std::string_view json_error_name(JsonError error) noexcept {
    switch (error) {
        case JsonError::kOk:
            return "ok";
        case JsonError::kTooLarge:
            return "too large";
        case JsonError::kTooDeep:
            return "too deep";
        case JsonError::kTooManyValues:
            return "too many values";
        case JsonError::kSyntax:
            return "syntax";
        case JsonError::kBadString:
            return "bad string";
        case JsonError::kBadNumber:
            return "bad number";
        case JsonError::kDuplicateKey:
            return "duplicate key";
        case JsonError::kOutOfMemory:
            return "out of memory";
    }
    return "unknown";
}

JsonError JsonDocument::parse(std::string_view text, const JsonLimits& limits) noexcept {
    values_.clear();
    strings_.clear();
    if (text.size() > limits.max_bytes) {
        return JsonError::kTooLarge;
    }
    // Each value takes at least one input byte, and decoded strings never
    // outgrow the input: reserving both here means the views handed out
    // never move and parsing itself never allocates.
    try {
        const size_t most =
            text.size() + 1 < limits.max_values ? text.size() + 1 : limits.max_values;
        values_.reserve(most);
        strings_.reserve(text.size());
    } catch (...) {
        return JsonError::kOutOfMemory;
    }
    Parser parser(text, limits, &values_, &strings_);
    const JsonError error = parser.document();
    if (error != JsonError::kOk) {
        values_.clear();
        strings_.clear();
    }
    return error;
}

size_t JsonDocument::member(size_t object, std::string_view key) const noexcept {
    if (object >= values_.size() || values_[object].type != JsonType::kObject) {
        return npos;
    }
    for (size_t k = object + 1; k < values_[object].end; k = values_[k + 1].end) {
        if (values_[k].text == key) {
            return k + 1;
        }
    }
    return npos;
}

}  // namespace tailor
