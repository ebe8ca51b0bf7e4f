// Visitor cookie fuzz: Cookie header parsing, cookie verification and base64url, under one input.
//
// Input: a Cookie header value. Every cookie in it, and the whole input as
// one value, is verified against a fixed keyring; prefixes of the input are
// also tried as external visitor ids and signed. Invariants:
//  - cookies found lie inside the header, with a token name and no `;`/`"`;
//  - find_cookie returns the first cookie of that name the cursor walks;
//  - a verified cookie's vid is well-formed; re-signed under the same key
//    and issue time it verifies to the same vid and issue time, and differs
//    (a fresh nonce) unless it was of the legacy form;
//  - anything signed verifies back to the same vid, and under no other kid;
//  - base64url decodes only what it would encode the same way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/base/base64url.h"
#include "tailor/request/cookie_header.h"
#include "tailor/visitor/keyring.h"
#include "tailor/visitor/visitor_id.h"

namespace {

const tailor::Keyring& fuzz_keyring() {
    // The seeds in corpus/visitor_cookie were signed with these secrets.
    static const tailor::Keyring ring = [] {
        tailor::Keyring r;
        if (!r.add("k1", std::string(32, '1'), nullptr) ||
            !r.add("k0", std::string(32, '0'), nullptr)) {
            std::abort();
        }
        return r;
    }();
    return ring;
}

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void check_value(std::string_view value, const tailor::Keyring& ring) {
    const auto result = tailor::check_visitor_cookie(value, ring);
    if (result.status != tailor::VisitorCookieStatus::kValid) {
        check(!result.vid);
        check(!tailor::verify_visitor_cookie(value, ring));
        return;
    }
    check(result.vid && tailor::is_valid_vid(result.vid->view()));
    check(ring.contains(result.kid));
    const auto resigned = tailor::sign_visitor_id(*result.vid, ring, result.kid, result.issued_at);
    check(resigned.has_value());
    const auto again = tailor::check_visitor_cookie(resigned->view(), ring);
    check(again.vid == result.vid && again.issued_at == result.issued_at && !again.legacy);
    check(resigned->view() != value);
    check(tailor::verify_visitor_cookie(value, ring) == result.vid);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const tailor::Keyring& ring = fuzz_keyring();

    tailor::CookieCursor cursor(input);
    tailor::Cookie cookie;
    bool seen_vid_cookie = false;
    std::string_view first_vid_cookie;
    while (cursor.next(&cookie)) {
        check(!cookie.name.empty());
        check(cookie.name.data() >= input.data() &&
              cookie.name.data() + cookie.name.size() <= input.data() + input.size());
        check(cookie.value.data() >= input.data() &&
              cookie.value.data() + cookie.value.size() <= input.data() + input.size());
        check(cookie.name.find_first_of(";=\" \t") == std::string_view::npos);
        check(cookie.value.find_first_of(";\"") == std::string_view::npos);
        if (!seen_vid_cookie && cookie.name == tailor::kDefaultVisitorCookieName) {
            seen_vid_cookie = true;
            first_vid_cookie = cookie.value;
        }
        check_value(cookie.value, ring);
    }
    const auto found = tailor::find_cookie(input, tailor::kDefaultVisitorCookieName);
    check(found.has_value() == seen_vid_cookie);
    check(!found || found->data() == first_vid_cookie.data());

    check_value(input, ring);

    // Sign input-derived ids and read them back.
    for (size_t n = tailor::kVidMinLength; n <= tailor::kVidMaxLength && n <= size; n += 7) {
        const auto vid = tailor::VisitorId::from_string(input.substr(0, n));
        if (!vid) {
            continue;
        }
        for (std::string_view kid : {"k1", "k0"}) {
            const auto signed_id = tailor::sign_visitor_id(*vid, ring, kid);
            check(signed_id.has_value());
            const auto back = tailor::check_visitor_cookie(signed_id->view(), ring);
            check(back.status == tailor::VisitorCookieStatus::kValid && back.vid == vid &&
                  back.kid == kid);
            // The same MAC under the other kid is a forgery.
            std::string swapped(signed_id->view());
            swapped.replace(vid->view().size() + 1, 2, kid == "k1" ? "k0" : "k1");
            check(!tailor::verify_visitor_cookie(swapped, ring));
        }
    }

    if (const auto decoded = tailor::base64url_decode(input)) {
        check(tailor::base64url_encode(*decoded) == input);
    }
    return 0;
}
