// Personalization's rewriting side: the decision's fills streamed through the SlotRewriter.
#include "tailor/engine.h"

namespace tailor {

// INTERIM until core/tailor/slot_rewriter lands: the page passes through unchanged.
class SlotRewriter {};

Personalization::Personalization() noexcept = default;
Personalization::~Personalization() = default;

void Personalization::start_rewrite() {
    rewriter_ = std::make_unique<SlotRewriter>();
}

void Personalization::rewrite(std::string_view chunk, RewriteSinkFn sink, void* data) noexcept {
    sink(data, chunk.data(), chunk.size());
}

RewriteStats Personalization::finish_rewrite(RewriteSinkFn, void*) noexcept {
    return {};
}

bool Personalization::holding() const noexcept {
    return false;
}

}  // namespace tailor
