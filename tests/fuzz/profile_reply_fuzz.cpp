// Profile reply fuzz: decode_profile_reply on whatever Redis could answer the visitor read
// (the tombstone's EXISTS, a GETRANGE per value; each reply nil, bytes, an integer, an error
// or anything else), in any number.
//
// Input: byte 0 picks the element count (4 is the read's, 3 a read without the caps; others
// must be refused), byte 1
// the byte limit (255: the default 256 KiB); then per element a kind byte, a length byte and
// that many bytes (an integer's value is their first byte). Invariants: decoding is
// deterministic; only a well-formed read is kOk, and then a present value views non-empty
// input bytes within the limit, and an erased visitor has none; every other status has no
// value; the profile cache's owned copy views the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tailor/profile/cache.h"
#include "tailor/profile/read.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

bool within(std::string_view v, const uint8_t* data, size_t size) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    return p >= data && p + v.size() <= data + size;
}

bool same(const tailor::StoredBlobView& a, const tailor::StoredBlobView& b) {
    return a.present == b.present && a.bytes == b.bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using Kind = tailor::ProfileReplyElement::Kind;
    if (size < 2) {
        return 0;
    }
    const size_t count = data[0] % 7;
    const size_t max_bytes = data[1] == 255 ? 256 * 1024 : data[1];
    tailor::ProfileReplyElement elements[6];
    size_t at = 2;
    for (size_t i = 0; i < count && at + 2 <= size; ++i) {
        tailor::ProfileReplyElement& e = elements[i];
        e.kind = static_cast<Kind>(data[at] % 5);
        size_t len = data[at + 1];
        at += 2;
        if (len > size - at) {
            len = size - at;
        }
        e.bytes = std::string_view(reinterpret_cast<const char*>(data) + at, len);
        e.integer = len > 0 ? static_cast<long long>(data[at]) % 3 : 0;
        at += len;
    }

    const tailor::ProfileReply r = tailor::decode_profile_reply(elements, count, max_bytes);
    const tailor::ProfileReply again = tailor::decode_profile_reply(elements, count, max_bytes);
    check(r.status == again.status && r.oversize == again.oversize && r.why == again.why);
    check(same(r.stored.profile, again.stored.profile) && same(r.stored.live, again.stored.live) &&
          same(r.stored.caps, again.stored.caps));

    const tailor::StoredBlobView* blobs[] = {&r.stored.profile, &r.stored.live, &r.stored.caps};
    if (r.status != tailor::ProfileReply::Status::kOk) {
        for (const tailor::StoredBlobView* b : blobs) {
            check(!b->present && b->bytes.empty());
        }
        return 0;
    }
    check(count == tailor::kVisitorReadCommands || count == tailor::kVisitorReadCommands - 1);
    check(count == tailor::kVisitorReadCommands || !r.stored.caps.present);
    for (const tailor::StoredBlobView* b : blobs) {
        if (b->present) {
            check(!b->bytes.empty() && b->bytes.size() <= max_bytes &&
                  within(b->bytes, data, size));
            check(elements[0].kind == Kind::kInteger && elements[0].integer == 0);
        } else {
            check(b->bytes.empty());
        }
    }

    const tailor::StoredVisitor copy = tailor::StoredVisitor::copy_of(r.stored);
    const tailor::StoredView view = copy.view();
    check(same(view.profile, r.stored.profile) && same(view.live, r.stored.live) &&
          same(view.caps, r.stored.caps));
    return 0;
}
