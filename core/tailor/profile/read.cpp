// ProfileRead: the visitor read's reply decoded into a StoredVisitor.
#include "tailor/profile/read.h"

namespace tailor {
namespace {

StoredBlob& blob_of(StoredVisitor& stored, VisitorKeyKind kind) noexcept {
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
    if (count != kVisitorReadKinds.size()) {
        return malformed("the visitor read's reply has the wrong number of elements");
    }
    ProfileReply reply;
    reply.status = ProfileReply::Status::kOk;
    for (size_t i = 0; i < count; ++i) {
        const ProfileReplyElement& e = elements[i];
        switch (e.kind) {
            case ProfileReplyElement::Kind::kNil:
                break;
            case ProfileReplyElement::Kind::kBytes: {
                if (e.bytes.size() > max_bytes) {
                    return malformed("the visitor read sent a value over its limit");
                }
                StoredBlob& blob = blob_of(reply.stored, kVisitorReadKinds[i]);
                blob.present = true;
                blob.bytes.assign(e.bytes.data(), e.bytes.size());
            } break;
            case ProfileReplyElement::Kind::kSize:
                // the script's marker is a size over the limit; any other integer is not its reply
                if (e.size < 0 || static_cast<unsigned long long>(e.size) <= max_bytes) {
                    return malformed("the visitor read's reply has an integer that is no size");
                }
                reply.status = ProfileReply::Status::kOversize;
                reply.oversize = e.size;
                break;
            case ProfileReplyElement::Kind::kOther:
                return malformed("the visitor read's reply element is neither nil, bytes nor size");
        }
    }
    if (reply.status == ProfileReply::Status::kOversize) {
        reply.stored = StoredVisitor();
    }
    return reply;
}

}  // namespace tailor
