// Keyring: the HMAC keys that sign and verify visitor cookies, by key id, with rotation.
#include "tailor/visitor/keyring.h"

#include "tailor/base/ascii.h"

// The SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, whose
// per-call context duplication (provider dispatch, allocations, a cleanse)
// cost about two thirds of a cookie check: ~850 ns of CPU against ~280 ns here
// (tailor_bench BM_VisitorCookie_Verify). They remain in OpenSSL 3.x, use
// the same assembly (SHA-NI, AVX2), and their state is a plain struct, so a
// keyed state is copied by value.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

namespace tailor {
namespace {

// Blanks in a key file line: spaces, tabs, and the CR of a CRLF file.
constexpr std::string_view kBlanks = " \t\r";

constexpr bool is_blank(char c) noexcept {
    return kBlanks.find(c) != std::string_view::npos;
}

// Wipes a stack buffer of secret bytes on every way out of a scope.
class Wiper {
  public:
    Wiper(void* p, size_t n) noexcept : p_(p), n_(n) {}
    ~Wiper() { OPENSSL_cleanse(p_, n_); }
    Wiper(const Wiper&) = delete;
    Wiper& operator=(const Wiper&) = delete;

  private:
    void* p_;
    size_t n_;
};

constexpr size_t kShaBlockBytes = 64;

}  // namespace

struct Keyring::Pads {
    SHA256_CTX inner;  // after (key ^ ipad)
    SHA256_CTX outer;  // after (key ^ opad)

    ~Pads() { OPENSSL_cleanse(this, sizeof *this); }
};

// HMAC-SHA256's keyed states for `secret` (RFC 2104: a key longer than the
// block is hashed first; Keyring keeps secrets at 64 bytes or fewer, so it
// never is), or nullptr.
Keyring::Pads* Keyring::new_pads(const unsigned char* secret, size_t n) noexcept {
    if (n > kShaBlockBytes) {
        return nullptr;
    }
    auto* pads = new (std::nothrow) Keyring::Pads;
    if (pads == nullptr) {
        return nullptr;
    }
    unsigned char block[kShaBlockBytes];
    Wiper wipe(block, sizeof block);
    bool ok = true;
    for (unsigned char pad : {0x36, 0x5c}) {
        std::memset(block, pad, sizeof block);
        for (size_t i = 0; i < n; i++) {
            block[i] ^= secret[i];
        }
        SHA256_CTX* ctx = pad == 0x36 ? &pads->inner : &pads->outer;
        ok = ok && SHA256_Init(ctx) == 1 && SHA256_Update(ctx, block, sizeof block) == 1;
    }
    if (!ok) {
        delete pads;
        return nullptr;
    }
    return pads;
}

namespace {

void set_error(KeyringError* error, size_t line, std::string_view reason) noexcept {
    if (error == nullptr) {
        return;
    }
    try {
        error->line = line;
        error->message.clear();
        if (line != 0) {
            error->message += "line ";
            error->message += std::to_string(line);
            error->message += ": ";
        }
        error->message += reason;
    } catch (const std::bad_alloc&) {
        error->message.clear();  // cannot say more without memory
    }
}

}  // namespace

bool is_valid_kid(std::string_view kid) noexcept {
    if (kid.empty() || kid.size() > kKidMaxLength) {
        return false;
    }
    for (char c : kid) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

Keyring::Key::Key(Key&& other) noexcept
    : kid_length(other.kid_length), pads(std::exchange(other.pads, nullptr)) {
    std::memcpy(kid, other.kid, sizeof kid);
}

Keyring::Key& Keyring::Key::operator=(Key&& other) noexcept {
    if (this != &other) {
        delete pads;
        std::memcpy(kid, other.kid, sizeof kid);
        kid_length = other.kid_length;
        pads = std::exchange(other.pads, nullptr);
    }
    return *this;
}

Keyring::Key::~Key() {
    delete pads;
}

bool Keyring::add(std::string_view kid, std::string_view secret, KeyringError* error) noexcept {
    if (!is_valid_kid(kid)) {
        set_error(error, 0, "key id must be 1..16 characters of [A-Za-z0-9_-]");
        return false;
    }
    if (secret.size() < kMinSecretBytes) {
        set_error(error, 0, "secret shorter than 32 bytes");
        return false;
    }
    if (secret.size() > kMaxSecretBytes) {
        set_error(error, 0, "secret longer than 64 bytes");
        return false;
    }
    if (contains(kid)) {
        set_error(error, 0, "duplicate key id");
        return false;
    }
    if (keys_.size() >= kMaxKeys) {
        set_error(error, 0, "more than 32 keys");
        return false;
    }
    Key key;
    std::memcpy(key.kid, kid.data(), kid.size());
    key.kid_length = static_cast<unsigned char>(kid.size());
    key.pads = new_pads(reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    if (key.pads == nullptr) {
        set_error(error, 0, "OpenSSL could not set up HMAC-SHA256");
        return false;
    }
    try {
        keys_.push_back(std::move(key));
    } catch (const std::bad_alloc&) {
        set_error(error, 0, "out of memory");
        return false;
    }
    return true;
}

std::optional<Keyring> Keyring::parse(std::string_view text, KeyringError* error) noexcept {
    if (text.size() > kMaxKeyFileBytes) {
        set_error(error, 0, "key file larger than 65536 bytes");
        return std::nullopt;
    }
    Keyring ring;
    unsigned char secret[kMaxSecretBytes];
    Wiper wipe(secret, sizeof secret);
    size_t line_number = 0;
    while (!text.empty()) {
        ++line_number;
        const size_t nl = text.find('\n');
        const std::string_view line = trim(text.substr(0, nl), kBlanks);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        size_t kid_end = 0;
        while (kid_end < line.size() && !is_blank(line[kid_end])) {
            ++kid_end;
        }
        const std::string_view kid = line.substr(0, kid_end);
        const std::string_view rest = trim(line.substr(kid_end), kBlanks);
        size_t secret_end = 0;
        while (secret_end < rest.size() && !is_blank(rest[secret_end])) {
            ++secret_end;
        }
        const std::string_view hex = rest.substr(0, secret_end);
        if (!is_valid_kid(kid)) {
            set_error(error, line_number, "key id must be 1..16 characters of [A-Za-z0-9_-]");
            return std::nullopt;
        }
        if (hex.empty()) {
            set_error(error, line_number, "expected \"<kid> <hex secret>\"");
            return std::nullopt;
        }
        if (secret_end != rest.size()) {
            set_error(error, line_number, "unexpected text after the secret");
            return std::nullopt;
        }
        for (char c : hex) {
            if (hex_value(c) < 0) {
                set_error(error, line_number, "secret is not hexadecimal");
                return std::nullopt;
            }
        }
        if (hex.size() % 2 != 0) {
            set_error(error, line_number, "secret has an odd number of hex digits");
            return std::nullopt;
        }
        if (hex.size() / 2 < kMinSecretBytes) {
            set_error(error, line_number, "secret shorter than 32 bytes");
            return std::nullopt;
        }
        if (hex.size() / 2 > kMaxSecretBytes) {
            set_error(error, line_number, "secret longer than 64 bytes");
            return std::nullopt;
        }
        if (ring.contains(kid)) {
            // The kid is not secret and already checked to be plain characters.
            std::string reason = "duplicate key id \"";
            try {
                reason.append(kid);
                reason += '"';
            } catch (const std::bad_alloc&) {
                reason.clear();
            }
            set_error(error, line_number, reason);
            return std::nullopt;
        }
        const size_t n = hex.size() / 2;
        for (size_t i = 0; i < n; ++i) {
            secret[i] =
                static_cast<unsigned char>(hex_value(hex[2 * i]) * 16 + hex_value(hex[2 * i + 1]));
        }
        KeyringError add_error;
        if (!ring.add(kid, std::string_view(reinterpret_cast<const char*>(secret), n),
                      &add_error)) {
            set_error(error, line_number, add_error.message);
            return std::nullopt;
        }
    }
    if (ring.empty()) {
        set_error(error, 0, "no keys in key file");
        return std::nullopt;
    }
    return ring;
}

std::optional<Keyring> Keyring::load_file(const std::string& path, KeyringError* error) noexcept {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        const int e = errno;
        try {
            set_error(error, 0, "cannot open \"" + path + "\": " + std::strerror(e));
        } catch (const std::bad_alloc&) {
            set_error(error, 0, "cannot open key file");
        }
        return std::nullopt;
    }
    // One byte more than allowed, to tell "exactly at the cap" from "over it".
    // On the heap: 64 KiB is too much stack for a config-time helper.
    char* buffer = new (std::nothrow) char[kMaxKeyFileBytes + 1];
    if (buffer == nullptr) {
        std::fclose(f);
        set_error(error, 0, "out of memory");
        return std::nullopt;
    }
    const size_t n = std::fread(buffer, 1, kMaxKeyFileBytes + 1, f);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    std::optional<Keyring> ring;
    if (failed) {
        try {
            set_error(error, 0, "cannot read \"" + path + "\"");
        } catch (const std::bad_alloc&) {
            set_error(error, 0, "cannot read key file");
        }
    } else if (n > kMaxKeyFileBytes) {
        try {
            set_error(error, 0, "\"" + path + "\" is larger than 65536 bytes");
        } catch (const std::bad_alloc&) {
            set_error(error, 0, "key file larger than 65536 bytes");
        }
    } else {
        ring = parse(std::string_view(buffer, n), error);
        if (!ring && error != nullptr && error->line == 0) {
            try {
                error->message.insert(0, "\"" + path + "\": ");  // "no keys" needs the path
            } catch (const std::bad_alloc&) {
            }
        }
    }
    OPENSSL_cleanse(buffer, kMaxKeyFileBytes + 1);
    delete[] buffer;
    return ring;
}

std::string_view Keyring::current_kid() const noexcept {
    return keys_.empty() ? std::string_view() : keys_.front().id();
}

bool Keyring::contains(std::string_view kid) const noexcept {
    return find(kid) != nullptr;
}

const Keyring::Key* Keyring::find(std::string_view kid) const noexcept {
    for (const Key& key : keys_) {
        if (key.id() == kid) {
            return &key;
        }
    }
    return nullptr;
}

bool Keyring::hmac_sha256(std::string_view kid, std::string_view message,
                          unsigned char (&out)[kMacBytes]) const noexcept {
    const Key* key = find(kid);
    if (key == nullptr) {
        return false;
    }
    SHA256_CTX ctx = key->pads->inner;
    unsigned char inner[SHA256_DIGEST_LENGTH];
    Wiper wipe_ctx(&ctx, sizeof ctx);
    const bool ok =
        SHA256_Update(&ctx, message.data(), message.size()) == 1 && SHA256_Final(inner, &ctx) == 1;
    ctx = key->pads->outer;
    return ok && SHA256_Update(&ctx, inner, sizeof inner) == 1 && SHA256_Final(out, &ctx) == 1;
}

}  // namespace tailor
