// VisitorRead: the commands that read a visitor's profile, live map and caps: four plain
// commands pipelined on one connection, each value bounded in bytes, no script.
//
//   EXISTS   tailor:{<vid>}:erased            the erase's tombstone: 1 reads as nothing stored
//   GETRANGE tailor:{<vid>}:profile 0 <max>   at most max + 1 bytes of each value
//   GETRANGE tailor:{<vid>}:live 0 <max>
//   GETRANGE tailor:{<vid>}:caps 0 <max>         only when the rules have pop-ups
//
// The caps are the pop-ups' frequency caps and nothing else reads them: a pack without
// pop-ups leaves their command out (VisitorReadCaps::kSkip), one command less for Redis and
// the worker on every page view.
//
// Why not MGET: one oversize value (a 16 MB profile) came back whole over the worker's shared
// connection, went over the reply cap and reset it, so every other visitor on that worker got
// the default page while it reconnected. GETRANGE 0 <max> sends at most max + 1 bytes: a value
// that comes back longer than max is over the limit, and the rest of it never left Redis.
//
// Why not the Lua script that did this before (STRLEN of each key, then MGET): running it cost
// Redis about 47,000 instructions per page view (bench/http/events_callgrind), more than the
// whole nginx worker spent on the request; the four commands cost it about a fifth of that.
//
// Replies, in command order (profile/read.h decodes them): EXISTS an integer; GETRANGE a bulk
// string, empty for a missing key (so an empty value reads as no value), or a WRONGTYPE error
// for a key of another type (read as no value, as MGET answers nil).
//
// The four keys share the visitor's hash tag: one Redis Cluster slot, one node.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "tailor/store/keys.h"

namespace tailor {

// kVisitorReadKinds
//
// The keys whose values the read returns, in the order of its GETRANGE commands.
inline constexpr std::array<VisitorKeyKind, 3> kVisitorReadKinds = {
    VisitorKeyKind::kProfile, VisitorKeyKind::kLive, VisitorKeyKind::kCaps};

// kVisitorReadCommands
//
// The tombstone's EXISTS, then one GETRANGE per kVisitorReadKinds entry: the most a read
// sends. Without the caps (the last kind) it sends one less.
inline constexpr size_t kVisitorReadCommands = 1 + kVisitorReadKinds.size();

// Whether a read asks for the caps (the last of kVisitorReadKinds).
enum class VisitorReadCaps : unsigned char { kSkip, kRead };

// VisitorRead
//
// The read's commands in argv form for hiredis, which copies them when they are sent.
// Throws std::bad_alloc.
//
// Example:
//   VisitorRead cmd("abc", 256 * 1024, VisitorReadCaps::kRead);
//   for (size_t i = 0; i < cmd.count(); i++) {
//       redisAsyncCommandArgv(ac, done, &parts[i], cmd.argc(i), cmd.argv(i), cmd.argvlen(i));
//   }
class VisitorRead {
  public:
    VisitorRead(std::string_view vid, size_t max_bytes, VisitorReadCaps caps);

    VisitorRead(const VisitorRead&) = delete;
    VisitorRead& operator=(const VisitorRead&) = delete;

    // The profile key: the commands' routing key (Redis Cluster).
    [[nodiscard]] std::string_view route_key() const noexcept { return route_; }

    // How many commands: kVisitorReadCommands, or one less without the caps.
    [[nodiscard]] size_t count() const noexcept { return count_; }

    // Command i, i < count().
    [[nodiscard]] int argc(size_t i) const noexcept { return i == 0 ? 2 : 4; }
    [[nodiscard]] const char** argv(size_t i) noexcept { return argv_[i].data(); }
    [[nodiscard]] const size_t* argvlen(size_t i) const noexcept { return argvlen_[i].data(); }

  private:
    std::string keys_;  // the four keys, back to back
    std::string max_;
    std::string_view route_;
    size_t count_ = kVisitorReadCommands;
    std::array<std::array<const char*, 4>, kVisitorReadCommands> argv_{};
    std::array<std::array<size_t, 4>, kVisitorReadCommands> argvlen_{};
};

}  // namespace tailor
