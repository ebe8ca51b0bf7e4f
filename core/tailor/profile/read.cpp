// ProfileRead: the visitor read's reply decoded into a StoredVisitor.
#include "tailor/profile/read.h"

namespace tailor {
namespace {

StoredBlobView& blob_of(StoredView& stored, VisitorKeyKind kind) noexcept {
    if (kind == VisitorKeyKind::kLive) {
        return stored.live;
    }
    if (kind == VisitorKeyKind::kCaps) {
        return stored.caps;
    }
    return stored.profile;
}

ProfileReply malformed(std::string_view why) {
    ProfileReply reply;
    reply.status = ProfileReply::Status::kMalformed;
    reply.why = why;
    return reply;
}

}  // namespace

ProfileReply decode_profile_reply(const ProfileReplyElement* elements, size_t count,
                                  size_t max_bytes) {
    if (count != kVisitorReadCommands && count != kVisitorReadCommands - 1) {
        return malformed("the visitor read has the wrong number of replies");
    }

    ProfileReply reply;
    reply.status = ProfileReply::Status::kOk;

    const ProfileReplyElement& tombstone = elements[0];
    if (tombstone.kind == ProfileReplyElement::Kind::kError) {
        reply.status = ProfileReply::Status::kRedisError;
        reply.why = tombstone.bytes;
        return reply;
    }
    if (tombstone.kind != ProfileReplyElement::Kind::kInteger ||
        (tombstone.integer != 0 && tombstone.integer != 1)) {
        return malformed("the visitor read's EXISTS answered no 0 or 1");
    }
    if (tombstone.integer == 1) {
        return reply;  // erased (tailorctl profile erase): nothing of it is read again
    }

    for (size_t i = 1; i < count; ++i) {
        const ProfileReplyElement& e = elements[i];
        switch (e.kind) {
            case ProfileReplyElement::Kind::kNil:
                break;
            case ProfileReplyElement::Kind::kBytes: {
                if (e.bytes.size() > max_bytes) {
                    // GETRANGE 0 <max> sent max + 1 bytes: the value is longer than the limit
                    reply.status = ProfileReply::Status::kOversize;
                    reply.oversize = static_cast<long long>(e.bytes.size());
                    break;
                }
                if (e.bytes.empty()) {
                    break;  // GETRANGE's answer for a missing key
                }
                StoredBlobView& blob = blob_of(reply.stored, kVisitorReadKinds[i - 1]);
                blob.present = true;
                blob.bytes = e.bytes;
            } break;
            case ProfileReplyElement::Kind::kError:
                if (e.bytes.substr(0, 10) == "WRONGTYPE ") {
                    break;  // a key of another type: no value, as MGET answers
                }
                reply.status = ProfileReply::Status::kRedisError;
                reply.why = e.bytes;
                reply.stored = StoredView();
                return reply;
            case ProfileReplyElement::Kind::kInteger:
            case ProfileReplyElement::Kind::kOther:
                return malformed("the visitor read's GETRANGE answered neither bytes nor an error");
        }
    }
    if (reply.status == ProfileReply::Status::kOversize) {
        reply.stored = StoredView();
    }
    return reply;
}

}  // namespace tailor
