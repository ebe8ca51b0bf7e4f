// What the rewriter needs from a decision: slot name -> replacement HTML.
#pragma once

#include <string_view>

namespace tailor {

// SlotFill
//
// One slot's replacement: the children of `<tailor-slot name="...">` become
// `html`. Both views point into memory owned by whoever made the decision and
// must outlive the rewriter that reads them.
struct SlotFill {
    std::string_view name;
    std::string_view html;
};

}  // namespace tailor
