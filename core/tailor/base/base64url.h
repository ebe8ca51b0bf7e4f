// Base64url: RFC 4648 section 5 (URL- and filename-safe alphabet), without padding, strict.
//
// Tailor puts binary values (random visitor ids, MACs) into cookies, where
// `+`, `/` and `=` would need quoting. The decoder is strict on purpose: it
// accepts exactly the strings the encoder produces (no padding, no
// whitespace, no unused bits set), so each value has one spelling and two
// cookies that decode alike are byte-for-byte equal.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tailor {

// base64url_encoded_size
//
// The length of the unpadded encoding of `n` bytes: ceil(4n / 3).
//
// Example:
//   base64url_encoded_size(16) == 22
//   base64url_encoded_size(32) == 43
[[nodiscard]] constexpr size_t base64url_encoded_size(size_t n) noexcept {
    return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

// is_base64url_char
//
// True for the 64 characters of the alphabet: [A-Za-z0-9_-].
//
// Example:
//   is_base64url_char('_') == true
//   is_base64url_char('+') == false
[[nodiscard]] constexpr bool is_base64url_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

// all_base64url
//
// True when every character of `s` is in the alphabet (true for an empty `s`). One table
// lookup a character: a cookie's four parts are checked on every request.
//
// Example:
//   all_base64url("a-Z_9") == true
//   all_base64url("a.b") == false
[[nodiscard]] bool all_base64url(std::string_view s) noexcept;

// base64url_encode_to
//
// Writes the unpadded encoding of `in[0, n)` to `out`, which must have room
// for base64url_encoded_size(n) characters; returns that count. No NUL is
// written. For hot paths that own a fixed buffer.
//
// Example:
//   char buf[4];
//   const unsigned char bytes[] = {0xfb, 0xff};
//   base64url_encode_to(bytes, 2, buf);  // == 3, buf starts "-_8"
size_t base64url_encode_to(const unsigned char* in, size_t n, char* out) noexcept;

// base64url_decode_to
//
// Decodes `in` into `out` (room for `out_capacity` bytes) and returns the
// number of bytes written, or nullopt if `in` is not a canonical unpadded
// encoding: a character outside the alphabet, `=`, a length of 4k+1, unused
// low bits that are not zero, or a result larger than `out_capacity`.
// `out` may be partly written on failure.
//
// Example:
//   unsigned char buf[2];
//   base64url_decode_to("-_8", buf, 2);  // == 2, buf == {0xfb, 0xff}
//   base64url_decode_to("-_9", buf, 2);  // nullopt: unused bits set
[[nodiscard]] std::optional<size_t> base64url_decode_to(std::string_view in, unsigned char* out,
                                                        size_t out_capacity) noexcept;

// base64url_encode
//
// base64url_encode_to into a new string; for cold paths and tests.
//
// Example:
//   base64url_encode("\xfb\xff") == "-_8"
[[nodiscard]] std::string base64url_encode(std::string_view bytes);

// base64url_decode
//
// base64url_decode_to into a new string; nullopt on the same inputs.
//
// Example:
//   base64url_decode("aGk") == "hi"
//   base64url_decode("aGk=") == std::nullopt
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace tailor
