// PageLayout: a file-backed page's rewrite, recorded once and replayed per request without a scan.
//
// The streaming rewriter's output for a page depends on the page's bytes and
// on which slot names have a non-empty fill (first wins) and whether there is
// an injection; never on what a fill says. So the layout for one (page
// version, fill signature) is recorded by running the real SlotRewriter over
// the page once, and replaying it for any request with the same signature
// gives the very bytes the streaming path would: pieces that point into the
// page, this request's fills, or the few bytes the rewriter carried. Nothing
// is scanned or copied per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_fill.h"
#include "tailor/html/slot_rewriter.h"

namespace tailor {

// FillSignature
//
// What decides a layout besides the page: the names that have a fill (the
// first fill with a name wins, as in SlotRewriter; an empty name never
// matches), sorted, each with whether its html is empty (an empty fill still
// empties its slot, but emits no piece), and whether there is an injection.
// Two requests with equal signatures get the same layout.
//
// Example:
//   const SlotFill fills[] = {{"hero", "<p>Hi</p>"}, {"cart", ""}};
//   fill_signature(fills, 2, "") == fill_signature(fills, 2, "")       // always
//   fill_signature(fills, 1, "") != fill_signature(fills, 2, "")       // "cart" differs
[[nodiscard]] std::string fill_signature(const SlotFill* fills, size_t count,
                                         std::string_view injection);

// LayoutPiece
//
// One output piece: a range of the page, a range of one fill's html (named by
// the fill's slot name, so a request's fills may come in any order), a range
// of the injection, or bytes the rewriter carried (kept in the layout).
struct LayoutPiece {
    enum class Kind : uint8_t { kPage, kFill, kInjection, kCarried };
    Kind kind = Kind::kPage;
    uint32_t fill = 0;   // kFill: index into PageLayout::fill_names()
    uint32_t begin = 0;  // kPage, kCarried: offsets into the page or carried();
    uint32_t end = 0;    // a fill or the injection is always whole
};

// PageLayout
//
// Immutable once recorded; shared by every response that replays it.
class PageLayout {
  public:
    // record
    //
    // Runs SlotRewriter over `page` (one write, then finish) with `fills` and
    // `injection`, and keeps where every output byte came from. nullopt when
    // the page is over 4 GiB or memory runs out (the caller streams instead).
    [[nodiscard]] static std::optional<PageLayout> record(std::string_view page,
                                                          const SlotFill* fills, size_t count,
                                                          std::string_view injection) noexcept;

    // resolve
    //
    // The bytes of `piece` for a request whose fills and injection have this
    // layout's signature. Empty only if the request breaks that promise.
    // output_size() is the recording's; a replay with other fill text differs.
    [[nodiscard]] std::string_view resolve(const LayoutPiece& piece, std::string_view page,
                                           const SlotFill* fills, size_t count,
                                           std::string_view injection) const noexcept;

    // fill_text
    //
    // The text fill_names()[index] has in `fills` (the first fill with that name, as the
    // rewriter picks it); empty when none has it.
    [[nodiscard]] std::string_view fill_text(size_t index, const SlotFill* fills,
                                             size_t count) const noexcept;

    [[nodiscard]] const std::vector<LayoutPiece>& pieces() const noexcept { return pieces_; }
    [[nodiscard]] const std::vector<std::string>& fill_names() const noexcept { return names_; }
    [[nodiscard]] std::string_view carried() const noexcept { return carried_; }
    [[nodiscard]] const SlotRewriterStats& stats() const noexcept { return stats_; }
    [[nodiscard]] size_t output_size() const noexcept { return output_size_; }

    // True when the rewriter emitted part of a fill (it never does today):
    // such a layout replays only the fills it was recorded with, so the
    // cache does not share it.
    [[nodiscard]] bool content_specific() const noexcept { return content_specific_; }

    // The heap bytes this layout holds, for the page cache's byte budget.
    [[nodiscard]] size_t footprint() const noexcept;

  private:
    std::vector<LayoutPiece> pieces_;
    std::vector<std::string> names_;
    std::string carried_;
    SlotRewriterStats stats_;
    size_t output_size_ = 0;
    bool content_specific_ = false;
};

}  // namespace tailor
