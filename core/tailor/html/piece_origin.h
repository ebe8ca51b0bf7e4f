// PieceOrigin: where a piece of the rewriter's output lives, so a caller can forward it uncopied.
#pragma once

#include <cstdint>

namespace tailor {

// PieceOrigin
//
// Where the bytes of an output piece live, which decides how long the view
// stays valid and whether the caller must copy it. The nginx body filter
// points buffers at kInput and kFill pieces and copies only kCarry ones.
enum class PieceOrigin : uint8_t {
    kInput,  // inside the chunk given to the current write(): valid while the
             // caller keeps that buffer (the nginx glue points a buf into it)
    kFill,   // a fill's html or the injection: valid as long as those are
    kCarry,  // the rewriter's own carry-over buffer: valid only until the
             // sink returns; the caller copies it
};

}  // namespace tailor
