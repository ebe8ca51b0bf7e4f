// ProfileRead: the MGET for one visitor and its reply decoded into a StoredVisitor.
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

}  // namespace

ProfileReadCommand::ProfileReadCommand(std::string_view vid) noexcept {
    argv_[0] = "MGET";
    argvlen_[0] = 4;
    if (vid.empty() || vid.size() > kVidMaxLength) {
        return;
    }
    for (size_t i = 0; i < kProfileReadKinds.size(); ++i) {
        const size_t len = visitor_key_size(vid, kProfileReadKinds[i]);
        if (len > kMaxKeyBytes) {
            return;
        }
        write_visitor_key(keys_[i].data(), vid, kProfileReadKinds[i]);
        argv_[i + 1] = keys_[i].data();
        argvlen_[i + 1] = len;
    }
    valid_ = true;
}

std::optional<StoredVisitor> decode_profile_reply(const ProfileReplyElement* elements, size_t count,
                                                  std::string_view* why) {
    if (count != kProfileReadKinds.size()) {
        if (why != nullptr) {
            *why = "MGET reply has the wrong number of elements";
        }
        return std::nullopt;
    }
    StoredVisitor stored;
    for (size_t i = 0; i < count; ++i) {
        switch (elements[i].kind) {
            case ProfileReplyElement::Kind::kNil:
                break;
            case ProfileReplyElement::Kind::kBytes: {
                StoredBlob& blob = blob_of(stored, kProfileReadKinds[i]);
                blob.present = true;
                blob.bytes.assign(elements[i].bytes.data(), elements[i].bytes.size());
            } break;
            case ProfileReplyElement::Kind::kOther:
                if (why != nullptr) {
                    *why = "MGET reply element is neither nil nor a string";
                }
                return std::nullopt;
        }
    }
    return stored;
}

}  // namespace tailor
