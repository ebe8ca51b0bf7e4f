// ProfileRead: the reply side of the Redis read contract for one visitor's data. The command is
// store/visitor_read.h (VisitorRead: profile, live and caps in one call, oversize values
// answered by their size); this decodes its reply into a StoredVisitor in the command's key
// order. The glue sends the argv and hands back the reply's elements; it never knows which
// element is which.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tailor/profile/cache.h"
#include "tailor/store/visitor_read.h"

namespace tailor {

// ProfileReplyElement
//
// One element of the read's array reply as the glue found it: nil (nothing
// stored), bytes (a bulk string), a size (an integer: the value was left in
// Redis), or anything else (a reply the read never gives).
struct ProfileReplyElement {
    enum class Kind : unsigned char { kNil, kBytes, kSize, kOther };
    Kind kind = Kind::kNil;
    std::string_view bytes;
    long long size = 0;
};

// ProfileReply
//
// What the reply says: the stored visitor; or that one value is over the
// byte limit (`oversize` its size; the visitor gets the default page, the
// connection and other visitors are untouched); or that the reply is not
// the contract's shape (`why` says how, for the log).
struct ProfileReply {
    enum class Status : unsigned char { kOk, kOversize, kMalformed };
    Status status = Status::kMalformed;
    StoredVisitor stored;
    long long oversize = 0;
    std::string_view why;
};

// decode_profile_reply
//
// Decodes `count` elements; `max_bytes` is the limit the read was sent with.
//
// Example:
//   ProfileReplyElement e[3] = {{Kind::kBytes, msgpack}, {}, {}};
//   decode_profile_reply(e, 3, 256 * 1024).stored.profile.present == true
[[nodiscard]] ProfileReply decode_profile_reply(const ProfileReplyElement* elements, size_t count,
                                                size_t max_bytes);

}  // namespace tailor
