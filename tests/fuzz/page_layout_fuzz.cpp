// PageLayout fuzz: a layout recorded with one request's fills replays, for another request with
// the same fill signature, exactly what the streaming rewriter gives that request; and that
// replay rendered to a file (page/rendered.h) holds those bytes, framed as one chunk when asked.
//
// Input: byte 0 picks which of four slot names get fills (bits 0-3), whether
// the fills are empty (bit 5), whether to inject (bit 4) and whether the rendered
// body is chunked (bit 6); byte 1 bounds the streaming chunk size; the rest is the page.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/page/layout.h"
#include "tailor/page/rendered.h"

namespace {

constexpr std::string_view kNames[] = {"hero", "cart", "reorder", "x"};

std::vector<tailor::SlotFill> fills_for(uint8_t pick, std::string_view text) {
    std::vector<tailor::SlotFill> fills;
    for (size_t i = 0; i < 4; ++i) {
        if ((pick & (1u << i)) != 0) {
            fills.push_back({kNames[i], (pick & 0x20) != 0 ? std::string_view() : text});
        }
    }
    return fills;
}

std::string stream(std::string_view page, const std::vector<tailor::SlotFill>& fills,
                   std::string_view injection, size_t chunk) {
    std::string out;
    auto append = [&out](std::string_view b, tailor::PieceOrigin) { out.append(b); };
    tailor::SlotRewriter rw(fills, injection);
    for (size_t at = 0; at < page.size(); at += chunk) {
        const std::string piece(page.substr(at, chunk));
        rw.write(piece, tailor::make_sink(append));
    }
    rw.finish(tailor::make_sink(append));
    return out;
}

// The rendered body of `layout` for `fills` must be `replay`, framed when asked; an empty
// replay is never rendered (an empty chunk would end the body).
void check_rendered(std::string_view page, const tailor::PageLayout& layout,
                    const std::vector<tailor::SlotFill>& fills, std::string_view injection,
                    bool chunked, const std::string& replay) {
    const char* dir = std::getenv("TMPDIR");
    auto body =
        tailor::RenderedPage::write(dir != nullptr ? dir : "/tmp", page,
                                    {&layout, fills.data(), fills.size(), injection, chunked});
    if (replay.empty()) {
        if (body != nullptr) {
            std::abort();
        }
        return;
    }
    if (body == nullptr) {
        return;  // no file could be made here: nothing to compare
    }
    std::string want = replay;
    if (chunked) {
        char size[24];
        std::snprintf(size, sizeof size, "%zx\r\n", replay.size());
        want = size + replay + "\r\n0\r\n\r\n";
    }
    std::string got(body->size(), '\0');
    if (body->size() != want.size() ||
        ::pread(body->fd(), got.data(), got.size(), 0) != static_cast<ssize_t>(got.size()) ||
        got != want || !body->same({&layout, fills.data(), fills.size(), injection, chunked})) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return 0;
    }
    const uint8_t pick = data[0];
    const size_t chunk = 1 + data[1];
    const std::string_view page(reinterpret_cast<const char*>(data + 2), size - 2);
    const std::string_view injection = (pick & 0x10) != 0 ? "<i>inject</i>" : "";

    const auto recorded_with = fills_for(pick, "<p>first visitor</p>");
    const auto replayed_for = fills_for(pick, "<b>a second, longer visitor's text</b>");
    auto layout =
        tailor::PageLayout::record(page, recorded_with.data(), recorded_with.size(), injection);
    if (!layout) {
        return 0;
    }
    std::string replay;
    for (const tailor::LayoutPiece& piece : layout->pieces()) {
        const std::string_view bytes =
            layout->resolve(piece, page, replayed_for.data(), replayed_for.size(), injection);
        if (bytes.empty()) {
            std::abort();  // a piece that resolves to nothing would be a zero-size nginx buffer
        }
        replay.append(bytes);
    }
    if (!layout->content_specific() && replay != stream(page, replayed_for, injection, chunk)) {
        std::abort();
    }
    check_rendered(page, *layout, replayed_for, injection, (pick & 0x40) != 0, replay);
    return 0;
}
