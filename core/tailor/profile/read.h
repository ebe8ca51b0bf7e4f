// ProfileRead: the Redis read contract for one visitor's data, both ways: the MGET that asks
// for it (keys from store/keys.h, in one order) and the reply that answers it, decoded into a
// StoredVisitor in that same order. The glue sends the argv and hands back the reply's
// elements; it never knows which element is which.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "tailor/profile/cache.h"
#include "tailor/store/keys.h"
#include "tailor/visitor/visitor_id.h"

namespace tailor {

// The profile, live and caps keys share the visitor's hash tag, so one MGET
// reads all three from one cluster slot.
inline constexpr std::array<VisitorKeyKind, 3> kProfileReadKinds = {
    VisitorKeyKind::kProfile, VisitorKeyKind::kLive, VisitorKeyKind::kCaps};
inline constexpr size_t kProfileReadArgc = 1 + kProfileReadKinds.size();

// ProfileReadCommand
//
// The MGET for one visitor, in argv form with its keys in inline storage
// (no allocation); argv()/argvlen() stay valid as long as this object, and
// route() is the key that picks a Redis Cluster node. Ids longer than
// kVidMaxLength are refused (valid() is false): they never pass the cookie
// check.
//
// Example:
//   ProfileReadCommand mget("q3Zf0x8W2mYbT1kL9cVn_A");
//   mget.valid() == true
//   std::string_view(mget.argv()[1], mget.argvlen()[1]) ==
//   "tailor:{q3Zf0x8W2mYbT1kL9cVn_A}:profile" mget.route() ==
//   "tailor:{q3Zf0x8W2mYbT1kL9cVn_A}:profile"
class ProfileReadCommand {
  public:
    explicit ProfileReadCommand(std::string_view vid) noexcept;
    ProfileReadCommand(const ProfileReadCommand&) = delete;
    ProfileReadCommand& operator=(const ProfileReadCommand&) = delete;

    [[nodiscard]] bool valid() const noexcept { return valid_; }
    [[nodiscard]] const char** argv() noexcept { return argv_.data(); }
    [[nodiscard]] const size_t* argvlen() const noexcept { return argvlen_.data(); }
    [[nodiscard]] std::string_view route() const noexcept { return {argv_[1], argvlen_[1]}; }

  private:
    // "tailor:{" vid "}:" and the longest suffix
    static constexpr size_t kMaxKeyBytes = 8 + kVidMaxLength + 2 + 8;

    bool valid_ = false;
    std::array<std::array<char, kMaxKeyBytes>, kProfileReadKinds.size()> keys_{};
    std::array<const char*, kProfileReadArgc> argv_{};
    std::array<size_t, kProfileReadArgc> argvlen_{};
};

// ProfileReplyElement
//
// One element of the MGET's array reply as the glue found it: nil (nothing
// stored), bytes (a bulk string), or anything else (a reply no MGET gives).
struct ProfileReplyElement {
    enum class Kind : unsigned char { kNil, kBytes, kOther };
    Kind kind = Kind::kNil;
    std::string_view bytes;
};

// decode_profile_reply
//
// The stored visitor from the MGET's reply elements, or nullopt when the
// reply does not have the contract's shape (not kProfileReadKinds.size()
// elements, or an element that is neither nil nor bytes); then `*why`, when
// given, says what was wrong, for the log.
//
// Example:
//   ProfileReplyElement e[3] = {{Kind::kBytes, msgpack}, {Kind::kNil, {}}, {Kind::kNil, {}}};
//   decode_profile_reply(e, 3, nullptr)->profile.present == true
[[nodiscard]] std::optional<StoredVisitor> decode_profile_reply(const ProfileReplyElement* elements,
                                                                size_t count,
                                                                std::string_view* why);

}  // namespace tailor
