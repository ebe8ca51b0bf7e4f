// PatternMatcher: the reference Lua 5.1 matcher's rules, every step counted.
#include "tailor/rules/pattern.h"

#include <cctype>
#include <cstring>

namespace tailor {
namespace {

constexpr size_t kFail = static_cast<size_t>(-1);
constexpr char kEsc = '%';

}  // namespace

void PatternMatcher::refuse(PatternStatus status, const char* message) noexcept {
    if (status_ == PatternStatus::kNoMatch || status_ == PatternStatus::kMatch) {
        status_ = status;
        message_ = message;
    }
}

bool PatternMatcher::step() noexcept {
    if (++steps_ > limits_.max_steps) {
        refuse(PatternStatus::kTooComplex, "pattern too complex for this subject (step budget)");
        return false;
    }
    return true;
}

// The end of the single-character class at p (".", "%a", "[...]", "x").
size_t PatternMatcher::class_end(size_t p) noexcept {
    char c = p_[p++];
    if (c == kEsc) {
        if (p >= p_.size()) {
            refuse(PatternStatus::kMalformed, "malformed pattern (ends with '%')");
            return kFail;
        }
        return p + 1;
    }
    if (c == '[') {
        if (p < p_.size() && p_[p] == '^') {
            ++p;
        }
        do {  // look for a ']'
            if (p >= p_.size()) {
                refuse(PatternStatus::kMalformed, "malformed pattern (missing ']')");
                return kFail;
            }
            char d = p_[p++];
            if (d == kEsc && p < p_.size()) {
                ++p;  // skip escapes (e.g. '%]')
            }
        } while (p >= p_.size() || p_[p] != ']');
        return p + 1;
    }
    return p;
}

bool PatternMatcher::match_class(unsigned char c, unsigned char cl) const noexcept {
    bool res = false;
    switch (std::tolower(cl)) {
        case 'a':
            res = std::isalpha(c) != 0;
            break;
        case 'c':
            res = std::iscntrl(c) != 0;
            break;
        case 'd':
            res = std::isdigit(c) != 0;
            break;
        case 'l':
            res = std::islower(c) != 0;
            break;
        case 'p':
            res = std::ispunct(c) != 0;
            break;
        case 's':
            res = std::isspace(c) != 0;
            break;
        case 'u':
            res = std::isupper(c) != 0;
            break;
        case 'w':
            res = std::isalnum(c) != 0;
            break;
        case 'x':
            res = std::isxdigit(c) != 0;
            break;
        case 'z':
            res = c == 0;
            break;
        default:
            return cl == c;
    }
    return std::isupper(cl) != 0 ? !res : res;
}

// p is the '[' of a set, ec its ']'.
bool PatternMatcher::match_set(unsigned char c, size_t p, size_t ec) const noexcept {
    bool sig = true;
    if (p + 1 < p_.size() && p_[p + 1] == '^') {
        sig = false;
        ++p;
    }
    while (++p < ec) {
        auto pc = static_cast<unsigned char>(p_[p]);
        if (pc == kEsc) {
            ++p;
            if (match_class(c, static_cast<unsigned char>(p_[p]))) {
                return sig;
            }
        } else if (p + 2 < ec && p_[p + 1] == '-') {
            p += 2;
            if (pc <= c && c <= static_cast<unsigned char>(p_[p])) {
                return sig;
            }
        } else if (pc == c) {
            return sig;
        }
    }
    return !sig;
}

bool PatternMatcher::single_match(size_t s, size_t p, size_t ep) const noexcept {
    if (s >= s_.size()) {
        return false;
    }
    auto c = static_cast<unsigned char>(s_[s]);
    switch (p_[p]) {
        case '.':
            return true;
        case kEsc:
            return match_class(c, static_cast<unsigned char>(p_[p + 1]));
        case '[':
            return match_set(c, p, ep - 1);
        default:
            return static_cast<unsigned char>(p_[p]) == c;
    }
}

size_t PatternMatcher::match_balance(size_t s, size_t p) noexcept {
    if (p + 1 >= p_.size()) {
        refuse(PatternStatus::kMalformed, "malformed pattern (missing arguments to '%b')");
        return kFail;
    }
    if (s >= s_.size() || s_[s] != p_[p]) {
        return kFail;
    }
    char b = p_[p];
    char e = p_[p + 1];
    int cont = 1;
    while (++s < s_.size()) {
        if (!step()) {
            return kFail;
        }
        if (s_[s] == e) {
            if (--cont == 0) {
                return s + 1;
            }
        } else if (s_[s] == b) {
            ++cont;
        }
    }
    return kFail;
}

size_t PatternMatcher::max_expand(size_t s, size_t p, size_t ep) noexcept {
    size_t i = 0;
    while (single_match(s + i, p, ep)) {
        if (!step()) {
            return kFail;
        }
        ++i;
    }
    for (;;) {  // the most repetitions first
        size_t res = do_match(s + i, ep + 1);
        if (res != kFail || status_ != PatternStatus::kNoMatch) {
            return res;
        }
        if (i == 0) {
            return kFail;
        }
        --i;
    }
}

size_t PatternMatcher::min_expand(size_t s, size_t p, size_t ep) noexcept {
    for (;;) {
        size_t res = do_match(s, ep + 1);
        if (res != kFail || status_ != PatternStatus::kNoMatch) {
            return res;
        }
        if (!single_match(s, p, ep)) {
            return kFail;
        }
        ++s;
    }
}

size_t PatternMatcher::start_capture(size_t s, size_t p, ptrdiff_t what) noexcept {
    if (level_ >= kMaxCaptures) {
        refuse(PatternStatus::kMalformed, "too many captures");
        return kFail;
    }
    capture_[level_].init = s;
    capture_[level_].len = what;
    ++level_;
    size_t res = do_match(s, p);
    if (res == kFail) {
        --level_;
    }
    return res;
}

int PatternMatcher::capture_to_close() noexcept {
    for (int level = level_ - 1; level >= 0; --level) {
        if (capture_[level].len == kUnclosedCapture) {
            return level;
        }
    }
    refuse(PatternStatus::kMalformed, "invalid pattern capture");
    return -1;
}

size_t PatternMatcher::end_capture(size_t s, size_t p) noexcept {
    int l = capture_to_close();
    if (l < 0) {
        return kFail;
    }
    capture_[l].len = static_cast<ptrdiff_t>(s - capture_[l].init);
    size_t res = do_match(s, p);
    if (res == kFail) {
        capture_[l].len = kUnclosedCapture;
    }
    return res;
}

size_t PatternMatcher::match_capture(size_t s, int l) noexcept {
    l -= '1';
    if (l < 0 || l >= level_ || capture_[l].len == kUnclosedCapture ||
        capture_[l].len == kPositionCapture) {
        refuse(PatternStatus::kMalformed, "invalid capture index");
        return kFail;
    }
    auto len = static_cast<size_t>(capture_[l].len);
    if (s_.size() - s >= len &&
        std::memcmp(s_.data() + capture_[l].init, s_.data() + s, len) == 0) {
        return s + len;
    }
    return kFail;
}

size_t PatternMatcher::do_match(size_t s, size_t p) noexcept {
    if (!step()) {
        return kFail;
    }
    if (++depth_ > limits_.max_depth) {
        --depth_;
        refuse(PatternStatus::kTooDeep, "pattern too complex (nesting)");
        return kFail;
    }
    struct Leave {
        int& depth;
        ~Leave() { --depth; }
    } leave{depth_};
    for (;;) {  // a loop for the reference's tail calls
        if (p >= p_.size()) {
            return s;  // end of pattern: a match
        }
        char pc = p_[p];
        if (pc == '(') {
            if (p + 1 < p_.size() && p_[p + 1] == ')') {
                return start_capture(s, p + 2, kPositionCapture);
            }
            return start_capture(s, p + 1, kUnclosedCapture);
        }
        if (pc == ')') {
            return end_capture(s, p + 1);
        }
        if (pc == '$' && p + 1 == p_.size()) {
            return s == s_.size() ? s : kFail;
        }
        if (pc == kEsc && p + 1 < p_.size()) {
            char next = p_[p + 1];
            if (next == 'b') {
                s = match_balance(s, p + 2);
                if (s == kFail) {
                    return kFail;
                }
                p += 4;
                continue;
            }
            if (next == 'f') {
                p += 2;
                if (p >= p_.size() || p_[p] != '[') {
                    refuse(PatternStatus::kMalformed, "missing '[' after '%f' in pattern");
                    return kFail;
                }
                size_t ep = class_end(p);
                if (ep == kFail) {
                    return kFail;
                }
                auto previous = static_cast<unsigned char>(s == 0 ? '\0' : s_[s - 1]);
                auto current = static_cast<unsigned char>(s < s_.size() ? s_[s] : '\0');
                if (match_set(previous, p, ep - 1) || !match_set(current, p, ep - 1)) {
                    return kFail;
                }
                p = ep;
                continue;
            }
            if (std::isdigit(static_cast<unsigned char>(next)) != 0) {
                s = match_capture(s, static_cast<unsigned char>(next));
                if (s == kFail) {
                    return kFail;
                }
                p += 2;
                continue;
            }
        }
        // a single-character class, maybe with a quantifier
        size_t ep = class_end(p);
        if (ep == kFail) {
            return kFail;
        }
        bool m = single_match(s, p, ep);
        char q = ep < p_.size() ? p_[ep] : '\0';
        if (q == '?') {
            if (m) {
                size_t res = do_match(s + 1, ep + 1);
                if (res != kFail || status_ != PatternStatus::kNoMatch) {
                    return res;
                }
            }
            p = ep + 1;
            continue;
        }
        if (q == '*') {
            return max_expand(s, p, ep);
        }
        if (q == '+') {
            return m ? max_expand(s + 1, p, ep) : kFail;
        }
        if (q == '-') {
            return min_expand(s, p, ep);
        }
        if (!m) {
            return kFail;
        }
        ++s;
        p = ep;
        if (!step()) {
            return kFail;
        }
    }
}

PatternStatus PatternMatcher::match_at(size_t at, size_t* end, bool skip_anchor) noexcept {
    level_ = 0;
    depth_ = 0;
    status_ = PatternStatus::kNoMatch;
    size_t p = skip_anchor && anchored() ? 1 : 0;
    size_t e = do_match(at, p);
    if (status_ != PatternStatus::kNoMatch) {
        return status_;
    }
    if (e == kFail) {
        return PatternStatus::kNoMatch;
    }
    *end = e;
    return PatternStatus::kMatch;
}

PatternStatus PatternMatcher::find(size_t from, size_t* start, size_t* end) noexcept {
    bool anchor = anchored();
    size_t s = from;
    do {
        PatternStatus st = match_at(s, end);
        if (st == PatternStatus::kMatch) {
            *start = s;
            return st;
        }
        if (st != PatternStatus::kNoMatch) {
            return st;
        }
    } while (s++ < s_.size() && !anchor);
    return PatternStatus::kNoMatch;
}

}  // namespace tailor
