// VisitorRead: the one command that reads a visitor's profile, live map and caps, as a small
// Redis script that leaves any value over a byte limit in Redis and answers its size instead.
//
// Why not MGET: one oversize value (a 16 MB profile) came back whole over the worker's shared
// connection, went over the reply cap and reset it, so every other visitor on that worker got
// the default page while it reconnected. The script asks STRLEN first; nothing over the limit
// is ever sent.
//
// Reply: an array of three, in kVisitorReadKinds order, each
//   a bulk string  the value (at most max_bytes)
//   nil            no such key, or not a string (as MGET answers)
//   an integer     the value's size in bytes: over max_bytes, not sent
//
// The three keys share the visitor's hash tag: one Redis Cluster slot.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "tailor/store/keys.h"

namespace tailor {

// kVisitorReadScript
//
// The Lua source (EVAL after a NOSCRIPT reply: Redis lost its script cache).
extern const std::string_view kVisitorReadScript;

// visitor_read_sha1
//
// Example:
//   visitor_read_sha1().size() == 40
[[nodiscard]] std::string_view visitor_read_sha1() noexcept;

// kVisitorReadKinds
//
// The keys the command reads, in the reply's order.
inline constexpr std::array<VisitorKeyKind, 3> kVisitorReadKinds = {
    VisitorKeyKind::kProfile, VisitorKeyKind::kLive, VisitorKeyKind::kCaps};

// VisitorRead
//
// `EVALSHA <sha> 3 <profile key> <live key> <caps key> <max_bytes>` in argv form for hiredis,
// which copies it when it is sent. Throws std::bad_alloc.
//
// Example:
//   VisitorRead cmd("abc", 256 * 1024);
//   redisAsyncCommandArgv(ac, done, data, cmd.argc(), cmd.argv(), cmd.argvlen());
//   // NOSCRIPT: cmd.use_eval() and send it again
class VisitorRead {
  public:
    VisitorRead(std::string_view vid, size_t max_bytes);

    VisitorRead(const VisitorRead&) = delete;
    VisitorRead& operator=(const VisitorRead&) = delete;

    // VisitorRead::use_eval
    //
    // Turns the command into `EVAL <script> ...`.
    void use_eval() noexcept;

    // The profile key: the command's routing key (Redis Cluster).
    [[nodiscard]] std::string_view route_key() const noexcept { return keys_[0]; }

    [[nodiscard]] int argc() const noexcept { return static_cast<int>(kArgs); }
    [[nodiscard]] const char** argv() noexcept { return argv_.data(); }
    [[nodiscard]] const size_t* argvlen() const noexcept { return argvlen_.data(); }

  private:
    static constexpr size_t kArgs = 7;
    std::array<std::string, 3> keys_;
    std::string max_;
    std::array<const char*, kArgs> argv_{};
    std::array<size_t, kArgs> argvlen_{};
};

}  // namespace tailor
