// RespCommand: a command in Redis's wire form.
#include "tailor/store/resp.h"

#include <charconv>
#include <cstring>

namespace tailor {
namespace {

size_t digits(size_t n) noexcept {
    size_t d = 1;
    while (n >= 10) {
        n /= 10;
        ++d;
    }
    return d;
}

// "<kind><n>\r\n" at `p`; returns the end.
char* write_header(char* p, char kind, size_t n) noexcept {
    *p++ = kind;
    p = std::to_chars(p, p + 20, n).ptr;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

}  // namespace

size_t resp_command_bytes(int argc, const size_t* argvlen) noexcept {
    if (argc < 1) {
        return 0;
    }
    size_t bytes = 1 + digits(static_cast<size_t>(argc)) + 2;
    for (int i = 0; i < argc; ++i) {
        bytes += 1 + digits(argvlen[i]) + 2 + argvlen[i] + 2;
    }
    return bytes;
}

size_t write_resp_command(char* out, size_t cap, int argc, const char* const* argv,
                          const size_t* argvlen) noexcept {
    const size_t bytes = resp_command_bytes(argc, argvlen);
    if (bytes == 0 || bytes > cap) {
        return 0;
    }
    char* p = write_header(out, '*', static_cast<size_t>(argc));
    for (int i = 0; i < argc; ++i) {
        p = write_header(p, '$', argvlen[i]);
        if (argvlen[i] != 0) {
            std::memcpy(p, argv[i], argvlen[i]);
        }
        p += argvlen[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    return static_cast<size_t>(p - out);
}

size_t append_resp_command(std::string* out, int argc, const char* const* argv,
                           const size_t* argvlen) {
    const size_t need = resp_command_bytes(argc, argvlen);
    const size_t at = out->size();
    out->resize(at + need);
    const size_t n = write_resp_command(out->data() + at, need, argc, argv, argvlen);
    out->resize(at + n);
    return n;
}

}  // namespace tailor
