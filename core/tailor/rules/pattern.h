// PatternMatcher: Lua 5.1 patterns with a step budget, for the string functions rules call.
//
// Why not LuaJIT's own matcher: it backtracks without bound in C, where the
// instruction hook never fires, so `string.find(("a"):rep(4096), "a*a*b")`
// held a worker forever. This is the same matching (the reference
// implementation's semantics: classes, sets, quantifiers, captures, %b, %f,
// anchors), written as an explicit search that counts every step and stops
// with kTooComplex past `max_steps`, and with kTooDeep past `max_depth`
// nested sub-matches. Nothing here allocates or touches a Lua state, so a
// refusal is a plain return value the caller turns into a Lua error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tailor {

// PatternStatus
//
// How one match attempt ended.
enum class PatternStatus : unsigned char {
    kMatch = 0,
    kNoMatch,
    kMalformed,   // the pattern is not a valid Lua pattern (`message()` says why)
    kTooComplex,  // more than max_steps steps
    kTooDeep,     // more than max_depth nested sub-matches
};

// PatternMatcher
//
// One subject and one pattern; match_at() may be called for several start
// positions (find, gmatch, gsub), and the step count adds up over them, so
// the budget is per call of the Lua function, not per position.
//
// Example:
//   PatternMatcher m("hello world", "o (w%a+)", {});
//   size_t start = 0, end = 0;
//   m.find(0, &start, &end) == PatternStatus::kMatch;   // start 4, end 11
//   m.capture(0) == "world"
class PatternMatcher {
  public:
    static constexpr int kMaxCaptures = 32;
    static constexpr ptrdiff_t kPositionCapture = -2;  // a `()` capture: a position
    static constexpr ptrdiff_t kUnclosedCapture = -1;

    struct Limits {
        uint64_t max_steps = 100000;
        int max_depth = 200;
    };

    PatternMatcher(std::string_view subject, std::string_view pattern, Limits limits) noexcept
        : s_(subject), p_(pattern), limits_(limits) {}

    // find
    //
    // The first match starting at or after `from` (only at `from` when the
    // pattern starts with '^'): its [start, end) in the subject.
    [[nodiscard]] PatternStatus find(size_t from, size_t* start, size_t* end) noexcept;

    // match_at
    //
    // A match starting exactly at `at`: its end. With `skip_anchor` a
    // leading '^' is skipped (the caller decides what anchoring means);
    // without it, it is a literal '^' (gmatch).
    [[nodiscard]] PatternStatus match_at(size_t at, size_t* end, bool skip_anchor = true) noexcept;

    // Whether the pattern starts with '^'.
    [[nodiscard]] bool anchored() const noexcept { return !p_.empty() && p_[0] == '^'; }

    // Captures of the last match: count, and each one's text or, for a
    // position capture, capture_position() (1-based, as Lua gives it).
    [[nodiscard]] int captures() const noexcept { return level_; }
    [[nodiscard]] bool is_position(int i) const noexcept {
        return capture_[i].len == kPositionCapture;
    }
    [[nodiscard]] bool is_unclosed(int i) const noexcept {
        return capture_[i].len == kUnclosedCapture;
    }
    [[nodiscard]] size_t capture_position(int i) const noexcept { return capture_[i].init + 1; }
    [[nodiscard]] std::string_view capture(int i) const noexcept {
        return s_.substr(capture_[i].init, static_cast<size_t>(capture_[i].len));
    }

    [[nodiscard]] uint64_t steps() const noexcept { return steps_; }
    [[nodiscard]] const char* message() const noexcept { return message_; }

  private:
    struct Capture {
        size_t init = 0;
        ptrdiff_t len = 0;
    };

    // Returns the end of a match of p_[p..] at s_[s..], or npos; sets
    // status_ and returns npos on a refusal.
    size_t do_match(size_t s, size_t p) noexcept;
    size_t class_end(size_t p) noexcept;
    bool single_match(size_t s, size_t p, size_t ep) const noexcept;
    bool match_class(unsigned char c, unsigned char cl) const noexcept;
    bool match_set(unsigned char c, size_t p, size_t ec) const noexcept;
    size_t max_expand(size_t s, size_t p, size_t ep) noexcept;
    size_t min_expand(size_t s, size_t p, size_t ep) noexcept;
    size_t start_capture(size_t s, size_t p, ptrdiff_t what) noexcept;
    size_t end_capture(size_t s, size_t p) noexcept;
    size_t match_balance(size_t s, size_t p) noexcept;
    size_t match_capture(size_t s, int l) noexcept;
    int capture_to_close() noexcept;
    bool step() noexcept;
    void refuse(PatternStatus status, const char* message) noexcept;

    std::string_view s_;
    std::string_view p_;
    Limits limits_;
    uint64_t steps_ = 0;
    int depth_ = 0;
    int level_ = 0;
    Capture capture_[kMaxCaptures];
    PatternStatus status_ = PatternStatus::kNoMatch;
    const char* message_ = "";
};

}  // namespace tailor
