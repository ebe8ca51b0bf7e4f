// The pages and fills the page tests run every path over (layout_test.cpp, rendered_test.cpp),
// and the streaming rewriter's output for them: what every path must give, byte for byte.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_fill.h"
#include "tailor/html/slot_rewriter.h"

namespace tailor::page_cases {

// The streaming rewriter's output for `page` fed in writes of `chunk` bytes.
inline std::string stream(std::string_view page, const std::vector<SlotFill>& fills,
                          std::string_view injection, size_t chunk) {
    std::string out;
    auto append = [&out](std::string_view b, PieceOrigin) { out.append(b); };
    SlotRewriter rw(fills, injection);
    for (size_t at = 0; at < page.size(); at += chunk) {
        rw.write(page.substr(at, chunk), make_sink(append));
    }
    rw.finish(make_sink(append));
    return out;
}

inline std::string read_page(const char* name) {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/data/pages/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Case {
    const char* what;
    std::string page;
};

inline std::vector<Case> pages() {
    return {
        {"the product page", read_page("product.html")},
        {"no slots", read_page("product_noslots.html")},
        {"edge cases",
         "<html><body><tailor-slot name=hero>Hi</tailor-slot><tailor-slot "
         "name='cart'></tailor-slot>"
         "<tailor-slot name=\"x>y\">q</tailor-slot><TAILOR-SLOT name=hero>upper</TAILOR-SLOT>"
         "<tailor-slotx name=hero>no</tailor-slotx><tailor-slot>nameless</tailor-slot>"
         "<!-- <tailor-slot name=hero>commented</tailor-slot> -->"
         "<script>'<tailor-slot name=hero>'</script>"
         "<tailor-slot name=hero><tailor-slot name=cart>nested</tailor-slot></tailor-slot>"
         "<tailor-slot name=cart>never closed"},
        {"a body close inside a slot",
         "<tailor-slot name=hero>a</body>b</tailor-slot></body></html>"},
        {"empty", ""},
    };
}

inline std::vector<std::vector<SlotFill>> fill_sets() {
    return {
        {},
        {{"hero", "<p>Welcome back</p>"}},
        {{"hero", ""}},
        {{"cart", "<b>2 items</b>"}, {"hero", "<p>A</p>"}, {"hero", "<p>ignored</p>"}},
        {{"reorder", "time to restock"}, {"x>y", "z"}, {"", "never"}},
    };
}

}  // namespace tailor::page_cases
