// XaddCommand: the event stream's config and the allocation-free XADD argv that appends a blob.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tailor {

// StreamConfig
//
// The event stream's key and approximate length cap (`MAXLEN ~`; 0 means
// uncapped). Directive: tailor_event_stream key [maxlen=N].
struct StreamConfig {
    std::string key = "tailor:events";
    uint64_t maxlen = 1000000;
};

// XaddCommand
//
// `XADD <key> MAXLEN ~ <N> * type <type> vid <vid> e <blob>` as an argv for
// hiredis's redisAsyncCommandArgv (or `XADD <key> * ...` when maxlen is 0).
// Fixed inline storage, no allocation: argv() views the config, the strings
// passed to build() and this object, so all of those must outlive the call
// that sends it (hiredis copies the argv into its output buffer at once).
//
// Example:
//   XaddCommand cmd;
//   cmd.build(config, "Product Viewed", vid, blob);
//   redisAsyncCommandArgv(ac, cb, data, cmd.argc(), cmd.argv(), cmd.argvlen());
class XaddCommand {
  public:
    static constexpr int kMaxArgc = 12;

    // build
    //
    // Fills the argv; `type` is the event's name as stored (Segment name).
    void build(const StreamConfig& config, std::string_view type, std::string_view vid,
               std::string_view blob) noexcept;

    [[nodiscard]] int argc() const noexcept { return argc_; }
    [[nodiscard]] const char** argv() noexcept { return argv_; }
    [[nodiscard]] const size_t* argvlen() const noexcept { return argvlen_; }

  private:
    const char* argv_[kMaxArgc] = {};
    size_t argvlen_[kMaxArgc] = {};
    char maxlen_[24] = {};
    int argc_ = 0;
};

}  // namespace tailor
