// random_bytes: a per-thread pool filled from RAND_bytes (model: random_bytes.h).
#include "tailor/base/random_bytes.h"

#include <openssl/rand.h>

#include <pthread.h>

#include <cstring>

namespace tailor {
namespace {

thread_local unsigned char random_pool[kRandomPoolBytes];
thread_local size_t random_left = 0;

void forget_random_pool() noexcept {
    std::memset(random_pool, 0, sizeof random_pool);
    random_left = 0;
}

}  // namespace

bool random_bytes(unsigned char* out, size_t n) noexcept {
    static const bool registered = pthread_atfork(nullptr, nullptr, forget_random_pool) == 0;
    if (!registered || n > kRandomPoolBytes) {
        return RAND_bytes(out, static_cast<int>(n)) == 1;
    }
    if (random_left < n) {
        if (RAND_bytes(random_pool, static_cast<int>(kRandomPoolBytes)) != 1) {
            random_left = 0;
            return false;
        }
        random_left = kRandomPoolBytes;
    }
    unsigned char* from = random_pool + kRandomPoolBytes - random_left;
    std::memcpy(out, from, n);
    std::memset(from, 0, n);
    random_left -= n;
    return true;
}

}  // namespace tailor
