#include "tailor/store/script.h"

#include <openssl/sha.h>

namespace tailor {

std::string redis_script_sha1(std::string_view source) {
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(source.data()), source.size(), md);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * SHA_DIGEST_LENGTH);
    for (unsigned char b : md) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0x0F]);
    }
    return out;
}

void use_eval_source(const char** argv, size_t* argvlen, size_t argc,
                     std::string_view source) noexcept {
    if (argc < 2) {
        return;
    }
    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = source.data();
    argvlen[1] = source.size();
}

}  // namespace tailor
