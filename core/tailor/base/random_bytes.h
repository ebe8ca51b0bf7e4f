// random_bytes: bytes from OpenSSL's CSPRNG, drawn a page at a time.
//
// Why a pool: RAND_bytes costs about a microsecond per call whatever it is asked for (the
// DRBG's locking, fork check and reseed bookkeeping, not the bytes), and a page view asks
// for a few bytes several times over: a new visitor's id and its cookie's nonce, an event's
// id, a pop-up token's nonce. One call fills a 4 KiB pool per thread instead.
//
// Safety: every byte is handed out once and zeroed as it goes; a forked child starts with an
// empty pool (pthread_atfork), so two nginx workers never hand out the same bytes; where the
// fork handler cannot be registered, every call goes to RAND_bytes.
#pragma once

#include <cstddef>

namespace tailor {

// random_bytes
//
// Fills out[0, n) with CSPRNG bytes; false (nothing usable in out) when OpenSSL could not
// supply them. n over kRandomPoolBytes goes to RAND_bytes directly.
//
// Example:
//   unsigned char nonce[8];
//   if (!random_bytes(nonce, sizeof nonce)) return std::nullopt;
[[nodiscard]] bool random_bytes(unsigned char* out, size_t n) noexcept;

inline constexpr size_t kRandomPoolBytes = 4096;

}  // namespace tailor
