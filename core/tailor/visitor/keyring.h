// Keyring: the HMAC keys that sign and verify visitor cookies, by key id, with rotation.
//
// Key file format (operators write it; tailorctl and nginx read it):
//
//   # Tailor visitor-cookie keys. The FIRST key signs new cookies; every
//   # key listed verifies. To rotate: put a new key on top, keep the old one
//   # below it until its cookies have expired, then delete it.
//   k2025b  5f0c3e...64 to 128 hex digits...a9
//   k2025a  0b8d41...
//
// - One key per line: `<kid> <secret>`, separated by spaces or tabs; leading
//   and trailing spaces, tabs and a CR (files edited on Windows) are ignored.
// - kid: [A-Za-z0-9_-]{1,16}; it travels in every cookie, so keep it short
//   and never reuse one for a different secret. Duplicate kids are an error.
// - secret: hexadecimal (either case), 64..128 digits, that is 32..64 bytes.
//   Generate one with `openssl rand -hex 32`. Hex was chosen over base64
//   because it has one alphabet, no padding rules, and no confusion between
//   the standard and URL-safe variants. More than 64 bytes buys nothing:
//   HMAC-SHA256 hashes longer keys down to 32 bytes.
// - Lines whose first non-blank character is `#` are comments; blank lines
//   are ignored. Nothing may follow the secret on a key line.
// - At most kMaxKeys keys and kMaxKeyFileBytes bytes.
//
// Secrets never appear in error messages, and the key material is wiped
// (OPENSSL_cleanse) when a Keyring is destroyed. Dedicate these keys to
// visitor cookies: a MAC made with them for anything else could be replayed
// as a cookie.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

inline constexpr size_t kKidMaxLength = 16;
inline constexpr size_t kMinSecretBytes = 32;
inline constexpr size_t kMaxSecretBytes = 64;
inline constexpr size_t kMaxKeys = 32;
inline constexpr size_t kMaxKeyFileBytes = 64 * 1024;
inline constexpr size_t kMacBytes = 32;  // HMAC-SHA256

// is_valid_kid
//
// True if `kid` is a well-formed key id: [A-Za-z0-9_-]{1,16}.
//
// Example:
//   is_valid_kid("k2025a") == true
//   is_valid_kid("k.1") == false
[[nodiscard]] bool is_valid_kid(std::string_view kid) noexcept;

// KeyringError
//
// Why a key file or an added key was refused. `line` is 1-based, 0 when the
// error is not about one line (the file cannot be read, no keys at all).
// `message` is ready for an operator and starts with "line N: " when `line`
// is set, e.g. "line 3: secret shorter than 32 bytes". It never holds secret
// material.
struct KeyringError {
    size_t line = 0;
    std::string message;
};

// Keyring
//
// An ordered set of keys; the first is current (signs), all verify. Movable,
// not copyable, so secrets exist once. Const member functions are safe to
// call from several threads at once.
class Keyring {
  public:
    Keyring() noexcept = default;
    ~Keyring() = default;  // each Key frees (and so wipes) its own material
    Keyring(Keyring&& other) noexcept = default;
    Keyring& operator=(Keyring&& other) noexcept = default;
    Keyring(const Keyring&) = delete;
    Keyring& operator=(const Keyring&) = delete;

    // Keyring::parse
    //
    // Reads a key file's contents (format above). Returns nullopt and fills
    // `*error` (when given) on the first bad line, a duplicate kid, too many
    // keys, or a file without any key.
    //
    // Example:
    //   KeyringError err;
    //   auto ring = Keyring::parse("# keys\nk1 " + std::string(64, 'a') + "\n", &err);
    //   ring->current_kid() == "k1"
    //   Keyring::parse("k1 abcd\n", &err);  // nullopt,
    //   // err.message == "line 1: secret shorter than 32 bytes"
    [[nodiscard]] static std::optional<Keyring> parse(std::string_view text,
                                                      KeyringError* error) noexcept;

    // Keyring::load_file
    //
    // Keyring::parse on the contents of the file at `path`. Errors with line 0
    // (unreadable, oversized, no keys) name the path in their message; line
    // errors do not, so the caller says "FILE: line 3: ..." as it likes.
    // The buffer that held the file is wiped before returning.
    //
    // Example:
    //   KeyringError err;
    //   auto ring = Keyring::load_file("/etc/nginx/tailor.keys", &err);
    [[nodiscard]] static std::optional<Keyring> load_file(const std::string& path,
                                                          KeyringError* error) noexcept;

    // Keyring::add
    //
    // Appends a key built in code (tests, tools). The first key added becomes
    // current. Returns false and fills `*error` (when given, line 0) for a bad
    // kid, a secret outside 32..64 bytes, a duplicate kid, a full ring, or an
    // OpenSSL failure.
    //
    // Example:
    //   Keyring ring;
    //   ring.add("k1", std::string(32, 'x'), nullptr);  // true; k1 is current
    //   ring.add("k1", std::string(32, 'y'), nullptr);  // false: duplicate
    [[nodiscard]] bool add(std::string_view kid, std::string_view secret,
                           KeyringError* error) noexcept;

    // Keyring::current_kid
    //
    // The kid of the key that signs new cookies; empty if the ring is empty.
    //
    // Example:
    //   ring.current_kid() == "k2025b"
    [[nodiscard]] std::string_view current_kid() const noexcept;

    // Keyring::contains
    //
    // True if a key with this kid is in the ring.
    //
    // Example:
    //   ring.contains("k2025a") == true
    [[nodiscard]] bool contains(std::string_view kid) const noexcept;

    // Keyring::size
    //
    // The number of keys.
    //
    // Example:
    //   Keyring().size() == 0
    [[nodiscard]] size_t size() const noexcept { return keys_.size(); }

    // Keyring::empty
    //
    // True if there is no key: nothing can be signed or verified.
    //
    // Example:
    //   Keyring().empty() == true
    [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }

    // Keyring::hmac_sha256
    //
    // Writes HMAC-SHA256(secret of `kid`, message) to `out`. Returns false if
    // no key has that kid, or OpenSSL fails (`out` is then unspecified).
    //
    // Example:
    //   unsigned char mac[kMacBytes];
    //   ring.hmac_sha256("k1", "vid.k1", mac);  // true
    [[nodiscard]] bool hmac_sha256(std::string_view kid, std::string_view message,
                                   unsigned char (&out)[kMacBytes]) const noexcept;

  private:
    // HMAC-SHA256's two hash states after the key block (defined in keyring.cpp,
    // kept out of this header with OpenSSL).
    struct Pads;
    static Pads* new_pads(const unsigned char* secret, size_t n) noexcept;

    // One key: its id and the hash states already keyed with its secret, so
    // each MAC costs two copies of a hash state and two short hashes, not a key
    // schedule. The raw secret is not kept; the pads are wiped when freed.
    struct Key {
        char kid[kKidMaxLength] = {};
        unsigned char kid_length = 0;
        Pads* pads = nullptr;

        Key() noexcept = default;
        Key(Key&& other) noexcept;
        Key& operator=(Key&& other) noexcept;
        Key(const Key&) = delete;
        Key& operator=(const Key&) = delete;
        ~Key();

        std::string_view id() const noexcept { return {kid, kid_length}; }
    };

    const Key* find(std::string_view kid) const noexcept;

    std::vector<Key> keys_;
};

}  // namespace tailor
