// PersonalData: email, phone, card and token shapes, personal query names and variables.
#include "tailor/request/personal_data.h"

#include <array>

#include "tailor/base/ascii.h"
#include "tailor/base/word_filter.h"
#include "tailor/base/url.h"

namespace tailor {
namespace {

constexpr bool is_local_char(char c) noexcept {
    return is_ascii_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' ||
           c == '\'';
}

constexpr bool is_phone_char(char c) noexcept {
    return is_ascii_digit(c) || c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' ||
           c == '/' || c == '+';
}

bool has_hex_escape(std::string_view s) noexcept {
    for (size_t i = s.find('%'); i != std::string_view::npos; i = s.find('%', i + 1)) {
        if (i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            return true;
        }
    }
    return false;
}

// The length of the `@` spelling that starts at s[i], 0 if none does.
size_t at_sign_at(std::string_view s, size_t i) noexcept {
    if (s[i] == '@') {
        return 1;
    }
    if (s[i] == '\xEF' && s.substr(i, 3) == "\xEF\xBC\xA0") {  // fullwidth commercial at
        return 3;
    }
    if (s[i] != '&') {
        return 0;
    }
    for (std::string_view e : {"&#64;", "&#x40;", "&commat;", "&#064;"}) {
        if (s.size() - i >= e.size() && ascii_iequals(s.substr(i, e.size()), e)) {
            return e.size();
        }
    }
    return 0;
}

bool luhn_valid(const char* digits, size_t n) noexcept {
    unsigned sum = 0;
    bool twice = false;
    for (size_t i = n; i-- > 0;) {
        unsigned d = static_cast<unsigned>(digits[i] - '0');
        if (twice) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        twice = !twice;
    }
    return sum % 10 == 0;
}

// One run of digits and phone punctuation, as the phone and card checks see it.
struct DigitRun {
    char digits[24];
    size_t ndigits = 0;  // may exceed sizeof digits (then only counted)
    size_t groups = 0;
    size_t longest_group = 0;
    size_t seps = 0;
    char sep = 0;  // the separator, if all separators are the same one
    bool mixed_seps = false;
    size_t group_len[3] = {};
    bool plus = false;  // starts with `+` or `(+`
    bool leading_zero = false;
    bool double_zero = false;
};

DigitRun read_digit_run(std::string_view run) noexcept {
    DigitRun r;
    size_t current = 0;
    bool in_digits = false;
    for (size_t i = 0; i < run.size(); ++i) {
        const char c = run[i];
        if (is_ascii_digit(c)) {
            if (r.ndigits == 0) {
                r.leading_zero = c == '0';
                r.double_zero = c == '0' && i + 1 < run.size() && run[i + 1] == '0';
            }
            if (r.ndigits < sizeof r.digits) {
                r.digits[r.ndigits] = c;
            }
            ++r.ndigits;
            if (!in_digits) {
                ++r.groups;
                current = 0;
            }
            ++current;
            if (r.groups <= 3) {
                r.group_len[r.groups - 1] = current;
            }
            if (current > r.longest_group) {
                r.longest_group = current;
            }
            in_digits = true;
            continue;
        }
        if (c == '+' && r.ndigits == 0) {
            r.plus = true;
        }
        if (in_digits) {
            ++r.seps;
            if (r.sep == 0) {
                r.sep = c;
            } else if (r.sep != c) {
                r.mixed_seps = true;
            }
        }
        in_digits = false;
    }
    return r;
}

bool is_date_or_number(const DigitRun& r) noexcept {
    const bool date_sep = !r.mixed_seps && (r.sep == '-' || r.sep == '.' || r.sep == '/');
    if (r.groups == 3 && date_sep) {
        const size_t a = r.group_len[0], b = r.group_len[1], c = r.group_len[2];
        if ((a == 4 && b <= 2 && c <= 2) || (a <= 2 && b <= 2 && (c == 4 || c == 2))) {
            return true;
        }
    }
    // a decimal number, a range of two numbers
    return r.groups == 2 && !r.mixed_seps && (r.sep == '.' || r.sep == ',' || r.sep == '-');
}

PersonalShape digit_run_shape(std::string_view run) noexcept {
    const DigitRun r = read_digit_run(run);
    if (r.ndigits >= 14 && r.ndigits <= 19 && !r.mixed_seps &&
        (r.seps == 0 || r.sep == ' ' || r.sep == '-') && luhn_valid(r.digits, r.ndigits)) {
        return PersonalShape::kCard;
    }
    if (r.ndigits < 7 || r.ndigits > 15) {
        return PersonalShape::kNone;
    }
    if (r.plus || r.double_zero) {
        return PersonalShape::kPhone;
    }
    if (r.seps > 0 && !is_date_or_number(r)) {
        return PersonalShape::kPhone;
    }
    if (r.groups == 1 && r.leading_zero && r.ndigits >= 9) {
        return PersonalShape::kPhone;  // a national number written without spaces
    }
    return PersonalShape::kNone;
}

bool has_phone_or_card(std::string_view s, PersonalShape* shape) noexcept {
    // a phone number has at least 7 digits, a card 14: a value with fewer has neither
    size_t digits = 0;
    for (char c : s) {
        digits += is_ascii_digit(c) ? 1 : 0;
    }
    if (digits < 7) {
        return false;
    }
    size_t i = 0;
    while (i < s.size()) {
        if (!is_ascii_digit(s[i]) && s[i] != '+' && s[i] != '(') {
            ++i;
            continue;
        }
        // a run that starts inside a word (`SKU1234567`) is a code, not a number
        const bool in_word = i > 0 && is_ascii_alpha(s[i - 1]);
        size_t end = i;
        while (end < s.size() && is_phone_char(s[end])) {
            ++end;
        }
        size_t last = end;
        while (last > i && !is_ascii_digit(s[last - 1])) {
            --last;
        }
        const bool glued = end < s.size() && is_ascii_alpha(s[end]) && last == end;
        if (!in_word && !glued && last > i) {
            const PersonalShape p = digit_run_shape(s.substr(i, last - i));
            if (p != PersonalShape::kNone) {
                *shape = p;
                return true;
            }
        }
        i = end > i ? end : i + 1;
    }
    return false;
}

enum class CharClass : unsigned char { kLower, kUpper, kDigit, kOther };

constexpr CharClass char_class(char c) noexcept {
    return is_ascii_lower(c)   ? CharClass::kLower
           : is_ascii_upper(c) ? CharClass::kUpper
           : is_ascii_digit(c) ? CharClass::kDigit
                               : CharClass::kOther;
}

// A run of letters and digits (`alnum`), or of those plus `-` and `_`
// (base64url, UUIDs): random ones switch class far more often than words,
// slugs and product codes do.
bool is_token_run(std::string_view run, bool alnum) noexcept {
    bool letter = false, digit = false, lower_only = true;
    size_t switches = 0, digit_switches = 0;
    CharClass prev = CharClass::kOther;
    for (size_t i = 0; i < run.size(); ++i) {
        const CharClass c = char_class(run[i]);
        letter |= c == CharClass::kLower || c == CharClass::kUpper;
        digit |= c == CharClass::kDigit;
        lower_only &= c == CharClass::kLower;
        if (i > 0 && c != prev && c != CharClass::kOther && prev != CharClass::kOther) {
            ++switches;
            digit_switches += (c == CharClass::kDigit) != (prev == CharClass::kDigit);
        }
        if (c != CharClass::kOther) {
            prev = c;
        }
    }
    if (alnum) {
        return (run.size() >= kMinTokenRunBytes && letter && digit) ||
               (run.size() >= 16 && switches >= 6) || (run.size() >= 40 && !lower_only);
    }
    return run.size() >= 24 && digit_switches >= 8;
}

bool has_token(std::string_view s) noexcept {
    if (s.size() < 16) {
        return false;  // no run is long enough (is_token_run needs 16 at least)
    }
    for (int pass = 0; pass < 2; ++pass) {
        const bool alnum = pass == 0;
        size_t start = 0;
        for (size_t i = 0; i <= s.size(); ++i) {
            const bool in =
                i < s.size() && (is_ascii_alnum(s[i]) || (!alnum && (s[i] == '-' || s[i] == '_')));
            if (in) {
                continue;
            }
            if (i - start >= 16 && is_token_run(s.substr(start, i - start), alnum)) {
                return true;
            }
            start = i + 1;
        }
    }
    return false;
}

// Parts of personal query names (whole parts: `tel` matches `tel` and
// `tel_no`, not `hotel`).
constexpr std::array<std::string_view, 60> kPersonalNameParts = {
    "email",    "mail",      "phone",      "tel",     "mobile",   "fax",       "password",
    "pass",     "passwd",    "pwd",        "token",   "otp",      "pin",       "code",
    "secret",   "key",       "apikey",     "auth",    "session",  "sessionid", "sid",
    "ssn",      "dob",       "birthday",   "card",    "cc",       "cvv",       "cvc",
    "iban",     "address",   "street",     "zip",     "postcode", "name",      "firstname",
    "lastname", "fname",     "lname",      "surname", "customer", "user",      "username",
    "login",    "account",   "signature",  "sig",     "kx",       "eid",       "hsenc",
    "hsmi",     "ip",        "jwt",        "nonce",   "hash",     "uid",       "cid",
    "contact",  "recipient", "subscriber", "member",
};
constexpr WordFilter kPersonalNamePartFilter(kPersonalNameParts);
constexpr std::array<std::string_view, 5> kPersonalNameSubstrings = {"mail", "token", "phone",
                                                                     "passw", "secret"};

// Variables that identify a person or carry a secret, whatever their use.
constexpr std::array<std::string_view, 26> kPersonalVariables = {
    "remote_addr",
    "binary_remote_addr",
    "realip_remote_addr",
    "remote_user",
    "http_user_agent",
    "http_cookie",
    "http_authorization",
    "http_proxy_authorization",
    "http_referer",
    "http_from",
    "http_x_forwarded_for",
    "http_x_real_ip",
    "http_forwarded",
    "http_true_client_ip",
    "http_cf_connecting_ip",
    "http_x_client_ip",
    "proxy_add_x_forwarded_for",
    "request",
    "request_uri",
    "request_body",
    "args",
    "query_string",
    "http_x_tailor_identify",
    "sent_http_set_cookie",
    "sent_http_x_tailor_identify",
    "upstream_http_x_tailor_identify",
};
constexpr std::array<std::string_view, 3> kPersonalVariablePrefixes = {"cookie_", "ssl_client_",
                                                                       "upstream_cookie_"};
// `$<prefix>NAME` is personal when NAME is a personal query name.
constexpr std::array<std::string_view, 4> kNamedVariablePrefixes = {"arg_", "http_", "sent_http_",
                                                                    "upstream_http_"};

bool starts_with(std::string_view s, std::string_view p) noexcept {
    return s.size() >= p.size() && s.substr(0, p.size()) == p;
}

}  // namespace

bool contains_email(std::string_view s) noexcept {
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c != '@' && c != '&' && c != '\xEF') {
            continue;  // no spelling of `@` starts here
        }
        const size_t at = at_sign_at(s, i);
        if (at == 0) {
            continue;
        }
        const bool before = i > 0 && is_local_char(s[i - 1]) && s[i - 1] != '.';
        const bool after = i + at < s.size() && is_ascii_alnum(s[i + at]);
        if (before && after) {
            return true;
        }
    }
    return false;
}

PersonalShape personal_shape(std::string_view value) noexcept {
    if (value.size() > 3 * kMaxCheckedValueBytes) {
        return PersonalShape::kUnreadable;
    }
    char once[kMaxCheckedValueBytes];
    char twice[kMaxCheckedValueBytes];
    std::string_view s = value;
    // nearly every value has neither `%` nor `+`: decoding it would copy it unchanged
    bool encoded = value.size() > kMaxCheckedValueBytes;
    for (size_t i = 0; i < value.size() && !encoded; ++i) {
        encoded = value[i] == '%' || value[i] == '+';
    }
    if (encoded) {
        PercentDecoded r = percent_decode_query(value, once, sizeof once);
        if (!r.complete) {
            return PersonalShape::kUnreadable;
        }
        s = std::string_view(once, r.size);
        if (has_hex_escape(s)) {  // encoded twice: `%2540` is an `@` too
            r = percent_decode_query(s, twice, sizeof twice);
            s = std::string_view(twice, r.size);
        }
    }
    if (contains_email(s)) {
        return PersonalShape::kEmail;
    }
    PersonalShape p = PersonalShape::kNone;
    if (has_phone_or_card(s, &p)) {
        return p;
    }
    if (has_token(s)) {
        return PersonalShape::kToken;
    }
    return PersonalShape::kNone;
}

bool is_personal_property_value(std::string_view value) noexcept {
    const PersonalShape s = personal_shape(value);
    return s == PersonalShape::kEmail || s == PersonalShape::kCard;
}

std::string_view personal_shape_name(PersonalShape s) noexcept {
    switch (s) {
        case PersonalShape::kNone:
            return "";
        case PersonalShape::kEmail:
            return "email";
        case PersonalShape::kPhone:
            return "phone";
        case PersonalShape::kCard:
            return "card";
        case PersonalShape::kToken:
            return "token";
        case PersonalShape::kUnreadable:
            break;
    }
    return "unreadable";
}

bool is_personal_query_name(std::string_view name) noexcept {
    // one pass for the substrings: each starts with `m`, `t`, `p` or `s`
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (c != 'm' && c != 't' && c != 'p' && c != 's') {
            continue;
        }
        const std::string_view rest = name.substr(i);
        for (std::string_view sub : kPersonalNameSubstrings) {
            if (sub[0] == c && rest.size() >= sub.size() && rest.substr(0, sub.size()) == sub) {
                return true;
            }
        }
    }
    size_t start = 0;
    for (size_t i = 0; i <= name.size(); ++i) {
        if (i < name.size() && is_ascii_alnum(name[i])) {
            continue;
        }
        const std::string_view part = name.substr(start, i - start);
        if (kPersonalNamePartFilter.may_contain(part)) {
            for (std::string_view p : kPersonalNameParts) {
                if (part == p) {
                    return true;
                }
            }
        }
        start = i + 1;
    }
    return false;
}

std::string_view personal_variable(std::string_view value) noexcept {
    for (size_t i = value.find('$'); i != std::string_view::npos; i = value.find('$', i + 1)) {
        std::string_view name;
        if (i + 1 < value.size() && value[i + 1] == '{') {
            const size_t close = value.find('}', i + 2);
            if (close == std::string_view::npos) {
                continue;
            }
            name = value.substr(i + 2, close - i - 2);
        } else {
            size_t end = i + 1;
            while (end < value.size() && (is_ascii_alnum(value[end]) || value[end] == '_')) {
                ++end;
            }
            name = value.substr(i + 1, end - i - 1);
        }
        if (name.empty() || name.size() > 128) {
            continue;
        }
        char buf[128];
        for (size_t k = 0; k < name.size(); ++k) {
            buf[k] = ascii_lower(name[k]);
        }
        const std::string_view lower(buf, name.size());
        for (std::string_view v : kPersonalVariables) {
            if (lower == v) {
                return name;
            }
        }
        for (std::string_view p : kPersonalVariablePrefixes) {
            if (starts_with(lower, p)) {
                return name;
            }
        }
        for (std::string_view p : kNamedVariablePrefixes) {
            if (starts_with(lower, p) && is_personal_query_name(lower.substr(p.size()))) {
                return name;
            }
        }
    }
    return {};
}

}  // namespace tailor
