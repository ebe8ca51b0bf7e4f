// MsgpackWriter: MessagePack written straight into a caller's buffer, byte for byte as libmsgpackc.
//
// The event encoder ran through libmsgpackc's packer, whose callback appended
// each header and body to a std::string: a call and a capacity check per
// piece, a fifth of an event's cost in nginx. This writer stores into memory
// the caller sized (a bound it computed), checking only that it stays inside;
// every format is the smallest libmsgpackc's msgpack_pack_* would choose
// (str8 included, doubles always float64), so the bytes are identical
// (tests/unit/base/msgpack_writer_test.cpp compares them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tailor {

// MsgpackWriter
//
// Example:
//   char buf[64];
//   MsgpackWriter w(buf, sizeof buf);
//   w.map(1); w.str("v"); w.uint(1);
//   w.ok() == true, w.size() == 4
class MsgpackWriter {
  public:
    // The longest header any value or container takes (uint64, float64: 9 bytes).
    static constexpr size_t kMaxHeaderBytes = 9;

    MsgpackWriter(char* begin, size_t cap) noexcept : begin_(begin), p_(begin), end_(begin + cap) {}

    // False once a write did not fit (nothing more is written then).
    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] size_t size() const noexcept { return static_cast<size_t>(p_ - begin_); }

    void map(size_t n) noexcept { container(n, 0x80, 0xde); }
    void array(size_t n) noexcept { container(n, 0x90, 0xdc); }

    void str_header(size_t n) noexcept {
        if (!room(n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5)) {
            return;
        }
        if (n < 32) {
            *p_++ = static_cast<char>(0xa0 | n);
        } else if (n < 256) {
            *p_++ = static_cast<char>(0xd9);
            *p_++ = static_cast<char>(n);
        } else if (n < 65536) {
            *p_++ = static_cast<char>(0xda);
            be(n, 2);
        } else {
            *p_++ = static_cast<char>(0xdb);
            be(n, 4);
        }
    }

    // Raw bytes (a str body); returns where they went, or null when they did not fit.
    char* raw(const char* s, size_t n) noexcept {
        if (!room(n)) {
            return nullptr;
        }
        char* at = p_;
        if (n != 0) {
            std::memcpy(p_, s, n);
        }
        p_ += n;
        return at;
    }

    void str(std::string_view s) noexcept {
        str_header(s.size());
        raw(s.data(), s.size());
    }

    // msgpack_pack_uint32/uint64: the smallest unsigned format.
    void uint(uint64_t d) noexcept {
        if (!room(d < 128 ? 1 : d < 256 ? 2 : d < 65536 ? 3 : d < (1ULL << 32) ? 5 : 9)) {
            return;
        }
        if (d < 128) {
            *p_++ = static_cast<char>(d);
        } else if (d < 256) {
            *p_++ = static_cast<char>(0xcc);
            *p_++ = static_cast<char>(d);
        } else if (d < 65536) {
            *p_++ = static_cast<char>(0xcd);
            be(d, 2);
        } else if (d < (1ULL << 32)) {
            *p_++ = static_cast<char>(0xce);
            be(d, 4);
        } else {
            *p_++ = static_cast<char>(0xcf);
            be(d, 8);
        }
    }

    // msgpack_pack_int64: unsigned formats for d >= 0, the smallest signed one below.
    void int64(int64_t d) noexcept {
        if (d >= 0) {
            uint(static_cast<uint64_t>(d));
            return;
        }
        if (!room(d >= -32 ? 1 : d >= -128 ? 2 : d >= -32768 ? 3 : d >= -2147483648LL ? 5 : 9)) {
            return;
        }
        const auto u = static_cast<uint64_t>(d);
        if (d >= -32) {
            *p_++ = static_cast<char>(u);
        } else if (d >= -128) {
            *p_++ = static_cast<char>(0xd0);
            *p_++ = static_cast<char>(u);
        } else if (d >= -32768) {
            *p_++ = static_cast<char>(0xd1);
            be(u, 2);
        } else if (d >= -2147483648LL) {
            *p_++ = static_cast<char>(0xd2);
            be(u, 4);
        } else {
            *p_++ = static_cast<char>(0xd3);
            be(u, 8);
        }
    }

    // msgpack_pack_double: always float64.
    void float64(double d) noexcept {
        if (!room(9)) {
            return;
        }
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        *p_++ = static_cast<char>(0xcb);
        be(bits, 8);
    }

  private:
    bool room(size_t n) noexcept {
        ok_ = ok_ && static_cast<size_t>(end_ - p_) >= n;
        return ok_;
    }

    void be(uint64_t v, int bytes) noexcept {
        for (int i = bytes - 1; i >= 0; --i) {
            *p_++ = static_cast<char>(v >> (8 * i));
        }
    }

    void container(size_t n, unsigned fix, unsigned c16) noexcept {
        if (!room(n < 16 ? 1 : n < 65536 ? 3 : 5)) {
            return;
        }
        if (n < 16) {
            *p_++ = static_cast<char>(fix | n);
        } else if (n < 65536) {
            *p_++ = static_cast<char>(c16);
            be(n, 2);
        } else {
            *p_++ = static_cast<char>(c16 + 1);
            be(n, 4);
        }
    }

    char* begin_;
    char* p_;
    char* end_;
    bool ok_ = true;
};

}  // namespace tailor
