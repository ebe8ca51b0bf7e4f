// Proxied page fuzz: a body compared with a cached copy as it arrives (PageMatch) gives the
// client exactly the streaming rewriter's page for that body, whether it matches (replayed from
// the copy's layout) or differs anywhere (streamed: the matched prefix from the copy, then the
// body); and a capture keeps exactly the body it was given, or nothing.
//
// Input: byte 0 picks the fills (bits 0-3: which of four slot names; bit 4:
// inject); byte 1 bounds the chunk size the body arrives in; byte 2 how the
// body differs from the copy (0-84: not at all; 85-169: one byte flipped;
// 170-255: cut short), bytes 3-4 where; the rest is the cached page. A body
// is never longer than the copy: the length is part of the copy's key, and
// nginx's upstream stops at the declared length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/page/layout.h"
#include "tailor/page/proxied.h"

namespace {

constexpr std::string_view kNames[] = {"hero", "cart", "reorder", "x"};

std::vector<tailor::SlotFill> fills_for(uint8_t pick) {
    std::vector<tailor::SlotFill> fills;
    for (size_t i = 0; i < 4; ++i) {
        if ((pick & (1u << i)) != 0) {
            fills.push_back({kNames[i], "<p>for you</p>"});
        }
    }
    return fills;
}

std::string stream(std::string_view body, const std::vector<tailor::SlotFill>& fills,
                   std::string_view injection) {
    std::string out;
    auto append = [&out](std::string_view b, tailor::PieceOrigin) { out.append(b); };
    tailor::SlotRewriter rw(fills, injection);
    rw.write(body, tailor::make_sink(append));
    rw.finish(tailor::make_sink(append));
    return out;
}

std::string replay(std::string_view page, const std::vector<tailor::SlotFill>& fills,
                   std::string_view injection) {
    auto layout = tailor::PageLayout::record(page, fills.data(), fills.size(), injection);
    if (!layout) {
        return stream(page, fills, injection);  // the glue streams when recording fails
    }
    std::string out;
    for (const tailor::LayoutPiece& piece : layout->pieces()) {
        out.append(layout->resolve(piece, page, fills.data(), fills.size(), injection));
    }
    return out;
}

std::string body_for(std::string_view page, uint8_t how, size_t where) {
    std::string body(page);
    if (how < 85 || body.empty()) {
        return body;
    }
    if (how < 170) {
        body[where % body.size()] ^= 0x01;
    } else {
        body.resize(where % body.size());
    }
    return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 6) {
        return 0;
    }
    const uint8_t pick = data[0];
    const size_t chunk = 1 + data[1];
    const uint8_t how = data[2];
    const size_t where = static_cast<size_t>(data[3]) << 8 | data[4];
    const std::string_view page(reinterpret_cast<const char*>(data + 5), size - 5);
    const std::string body = body_for(page, how, where);
    const std::string_view injection = (pick & 0x10) != 0 ? "<i>inject</i>" : "";
    const auto fills = fills_for(pick);

    // the proxied path, as the glue runs it
    tailor::PageMatch match(page);
    std::string out;
    bool decided = false;
    for (size_t at = 0; at < body.size() && !decided; at += chunk) {
        const std::string_view piece = std::string_view(body).substr(at, chunk);
        switch (match.feed(piece)) {
            case tailor::PageMatch::Step::kMatching:
                break;
            case tailor::PageMatch::Step::kComplete:
                if (at + piece.size() != body.size()) {
                    std::abort();  // the page's last byte is the body's
                }
                out = replay(page, fills, injection);
                decided = true;
                break;
            case tailor::PageMatch::Step::kMismatch:
                out = stream(std::string(page.substr(0, match.matched())) + body.substr(at), fills,
                             injection);
                decided = true;
                break;
        }
    }
    if (!decided) {
        // the body ended: complete only if every byte of the page came
        if (match.complete() && !page.empty()) {
            out = replay(page, fills, injection);
        } else {
            out = stream(std::string(page.substr(0, match.matched())), fills, injection);
        }
    }
    if (match.complete() != (body == page)) {
        std::abort();  // a match completes exactly when the body is the page
    }
    if (out != stream(body, fills, injection)) {
        std::abort();  // the client's page is the streaming path's page for this body
    }

    // a capture of the body, in the same chunks, keeps exactly it
    tailor::PageCapture capture;
    if (!body.empty() && capture.start(body.size())) {
        for (size_t at = 0; at < body.size(); at += chunk) {
            if (!capture.append(std::string_view(body).substr(at, chunk))) {
                std::abort();
            }
        }
        if (!capture.complete() || capture.take() != body) {
            std::abort();
        }
    }
    return 0;
}
