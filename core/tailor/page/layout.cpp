#include "tailor/page/layout.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <new>

namespace tailor {
namespace {

// The first fill named `name`, as SlotRewriter::find_fill picks it.
const SlotFill* first_fill(const SlotFill* fills, size_t count, std::string_view name) noexcept {
    for (size_t i = 0; i < count; ++i) {
        if (fills[i].name == name) {
            return &fills[i];
        }
    }
    return nullptr;
}

bool inside(std::string_view outer, std::string_view part) noexcept {
    return !outer.empty() && part.data() >= outer.data() &&
           part.data() + part.size() <= outer.data() + outer.size();
}

bool whole(std::string_view fill, std::string_view part) noexcept {
    return !fill.empty() && part.data() == fill.data() && part.size() == fill.size();
}

uint32_t offset_in(std::string_view outer, std::string_view part) noexcept {
    return static_cast<uint32_t>(part.data() - outer.data());
}

// Collects the rewriter's pieces; on allocation failure it stops and says so.
struct Recorder {
    std::string_view page;
    const SlotFill* fills;
    size_t count;
    std::string_view injection;
    std::vector<LayoutPiece>* pieces;
    std::vector<std::string>* names;
    std::string* carried;
    bool* content_specific;
    size_t output = 0;
    bool failed = false;

    void add(LayoutPiece piece) {
        // adjacent page ranges (a tag emitted apart from the text before it) merge
        if (!pieces->empty() && piece.kind == LayoutPiece::Kind::kPage &&
            pieces->back().kind == LayoutPiece::Kind::kPage && pieces->back().end == piece.begin) {
            pieces->back().end = piece.end;
            return;
        }
        pieces->push_back(piece);
    }

    uint32_t name_index(std::string_view name) {
        for (size_t i = 0; i < names->size(); ++i) {
            if ((*names)[i] == name) {
                return static_cast<uint32_t>(i);
            }
        }
        names->emplace_back(name);
        return static_cast<uint32_t>(names->size() - 1);
    }

    void operator()(std::string_view bytes, PieceOrigin origin) noexcept {
        if (failed) {
            return;
        }
        try {
            output += bytes.size();
            if (origin == PieceOrigin::kInput && inside(page, bytes)) {
                const uint32_t b = offset_in(page, bytes);
                add({LayoutPiece::Kind::kPage, 0, b, b + static_cast<uint32_t>(bytes.size())});
                return;
            }
            if (origin == PieceOrigin::kFill) {
                // a fill or the injection is emitted whole: the piece names
                // it, so another request's text of the same fill replays
                if (whole(injection, bytes)) {
                    add({LayoutPiece::Kind::kInjection, 0, 0, 0});
                    return;
                }
                for (size_t i = 0; i < count; ++i) {
                    if (whole(fills[i].html, bytes) &&
                        first_fill(fills, count, fills[i].name) == &fills[i]) {
                        add({LayoutPiece::Kind::kFill, name_index(fills[i].name), 0, 0});
                        return;
                    }
                }
                *content_specific = true;  // part of a fill: only this text replays
            }
            // carried bytes, or anything not recognised: keep a copy
            const uint32_t b = static_cast<uint32_t>(carried->size());
            carried->append(bytes);
            add({LayoutPiece::Kind::kCarried, 0, b, b + static_cast<uint32_t>(bytes.size())});
        } catch (...) {
            failed = true;
        }
    }
};

std::string_view range(std::string_view from, const LayoutPiece& piece) noexcept {
    if (piece.end > from.size() || piece.begin >= piece.end) {
        return {};
    }
    return from.substr(piece.begin, piece.end - piece.begin);
}

}  // namespace

std::string fill_signature(const SlotFill* fills, size_t count, std::string_view injection) {
    // Asked on every replayed response: the chosen fills sit on the stack when there are
    // few, and the signature is written with one allocation at most.
    constexpr size_t kOnStack = 16;
    const SlotFill* on_stack[kOnStack];
    std::vector<const SlotFill*> on_heap;
    const SlotFill** chosen = on_stack;
    if (count > kOnStack) {
        on_heap.resize(count);
        chosen = on_heap.data();
    }
    size_t n = 0;
    size_t bytes = 1;
    for (size_t i = 0; i < count; ++i) {
        if (!fills[i].name.empty() && first_fill(fills, count, fills[i].name) == &fills[i]) {
            chosen[n++] = &fills[i];
            bytes += std::numeric_limits<size_t>::digits10 + 2 + fills[i].name.size();
        }
    }
    std::sort(chosen, chosen + n,
              [](const SlotFill* a, const SlotFill* b) { return a->name < b->name; });
    std::string sig;
    sig.reserve(bytes);
    sig += injection.empty() ? '-' : '+';
    for (size_t i = 0; i < n; ++i) {
        const SlotFill* f = chosen[i];
        // length-prefixed, so no name can pass for two
        char digits[std::numeric_limits<size_t>::digits10 + 1];
        const char* end = std::to_chars(digits, digits + sizeof digits, f->name.size()).ptr;
        sig.append(digits, static_cast<size_t>(end - digits));
        sig += f->html.empty() ? 'e' : 'f';
        sig.append(f->name);
    }
    return sig;
}

std::optional<PageLayout> PageLayout::record(std::string_view page, const SlotFill* fills,
                                             size_t count, std::string_view injection) noexcept {
    if (page.size() > std::numeric_limits<uint32_t>::max()) {
        return std::nullopt;
    }
    try {
        PageLayout layout;
        Recorder rec{page,
                     fills,
                     count,
                     injection,
                     &layout.pieces_,
                     &layout.names_,
                     &layout.carried_,
                     &layout.content_specific_};
        SlotRewriter rewriter(fills, count, injection);
        rewriter.write(page, make_sink(rec));
        rewriter.finish(make_sink(rec));
        if (rec.failed) {
            return std::nullopt;
        }
        layout.stats_ = rewriter.stats();
        layout.output_size_ = rec.output;
        layout.pieces_.shrink_to_fit();
        return layout;
    } catch (...) {
        return std::nullopt;
    }
}

std::string_view PageLayout::resolve(const LayoutPiece& piece, std::string_view page,
                                     const SlotFill* fills, size_t count,
                                     std::string_view injection) const noexcept {
    switch (piece.kind) {
        case LayoutPiece::Kind::kPage:
            return range(page, piece);
        case LayoutPiece::Kind::kCarried:
            return range(carried_, piece);
        case LayoutPiece::Kind::kInjection:
            return injection;
        case LayoutPiece::Kind::kFill:
            return fill_text(piece.fill, fills, count);
    }
    return {};
}

std::string_view PageLayout::fill_text(size_t index, const SlotFill* fills,
                                       size_t count) const noexcept {
    if (index >= names_.size()) {
        return {};
    }
    const SlotFill* f = first_fill(fills, count, names_[index]);
    return f == nullptr ? std::string_view() : f->html;
}

size_t PageLayout::footprint() const noexcept {
    size_t n = sizeof(PageLayout) + pieces_.capacity() * sizeof(LayoutPiece) + carried_.capacity();
    for (const std::string& name : names_) {
        n += sizeof(std::string) + name.capacity();
    }
    return n;
}

}  // namespace tailor
