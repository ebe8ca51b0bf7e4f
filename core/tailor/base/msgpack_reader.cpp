// MsgpackReader: error names, float values, and the iterative skip of a whole container.
#include "tailor/base/msgpack_reader.h"

namespace tailor {

std::string_view msgpack_error_name(MsgpackError error) noexcept {
    switch (error) {
        case MsgpackError::kNone:
            return "none";
        case MsgpackError::kTruncated:
            return "truncated";
        case MsgpackError::kMalformed:
            return "malformed";
        case MsgpackError::kTooDeep:
            return "too-deep";
        case MsgpackError::kTooLarge:
            return "too-large";
        case MsgpackError::kWrongType:
            return "wrong-type";
    }
    return "unknown";
}

double MsgpackHead::float_value() const noexcept {
    if (type == MsgpackType::kFloat32) {
        const auto bits = static_cast<uint32_t>(u);
        float f = 0;
        std::memcpy(&f, &bits, sizeof f);
        return f;
    }
    if (type == MsgpackType::kFloat64) {
        double d = 0;
        std::memcpy(&d, &u, sizeof d);
        return d;
    }
    return 0;
}

}  // namespace tailor
