// ProfileRead: the reply side of the Redis read contract for one visitor's data. The commands
// are store/visitor_read.h (VisitorRead: the tombstone's EXISTS, then a bounded GETRANGE of the
// profile, the live map and the caps); this decodes their replies into a StoredVisitor. The glue
// sends the commands and hands back one element per reply, in command order; it never knows
// which element is which.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tailor/profile/cache.h"
#include "tailor/store/visitor_read.h"

namespace tailor {

// ProfileReplyElement
//
// One command's reply as the glue found it: nil, bytes (a bulk string), an
// integer, an error (`bytes` its text), or anything else (a reply the read
// never gives).
struct ProfileReplyElement {
    enum class Kind : unsigned char { kNil, kBytes, kInteger, kError, kOther };
    Kind kind = Kind::kNil;
    std::string_view bytes;
    long long integer = 0;
};

// ProfileReply
//
// What the replies say: the stored visitor (nothing stored when the visitor
// was erased); or that one value is over the byte limit (`oversize` the bytes
// the read got, max_bytes + 1: the value is at least that long; the visitor
// gets the default page, the connection and other visitors are untouched);
// or that Redis answered a command with an error (`why` is its text); or that
// a reply is not the contract's shape (`why` says how, for the log).
struct ProfileReply {
    enum class Status : unsigned char { kOk, kOversize, kRedisError, kMalformed };
    Status status = Status::kMalformed;
    StoredView stored;  // views the elements' bytes
    long long oversize = 0;
    std::string_view why;
};

// decode_profile_reply
//
// Decodes `count` elements (VisitorRead::count(): the tombstone's, then one per
// kVisitorReadKinds entry, the caps' left out by a read without them: no caps then);
// `max_bytes` is the limit the read was sent with.
// `why` may point into the elements' bytes.
//
// Example:
//   ProfileReplyElement e[4] = {{Kind::kInteger, {}, 0}, {Kind::kBytes, msgpack}, {}, {}};
//   decode_profile_reply(e, 4, 256 * 1024).stored.profile.present == true
[[nodiscard]] ProfileReply decode_profile_reply(const ProfileReplyElement* elements, size_t count,
                                                size_t max_bytes);

}  // namespace tailor
