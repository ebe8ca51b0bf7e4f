// Personalization's rewriting side: the decision's fills streamed through the SlotRewriter.
#include "tailor/engine/personalization.h"

#include "tailor/html/slot_rewriter.h"

namespace tailor {

namespace {

struct SinkTarget {
    RewriteSinkFn fn;
    void* data;
};

// The origin goes along: the caller forwards input and fill pieces without
// copying them.
void forward_piece(void* ctx, std::string_view bytes, PieceOrigin origin) {
    auto* target = static_cast<SinkTarget*>(ctx);
    target->fn(target->data, bytes.data(), bytes.size(), origin);
}

}  // namespace

Personalization::Personalization() noexcept = default;
Personalization::~Personalization() = default;

void Personalization::start_rewrite() {
    rewriter_ = std::make_unique<SlotRewriter>(decision_.fills(), decision_.directives_html());
}

void Personalization::rewrite(std::string_view chunk, RewriteSinkFn sink, void* data) noexcept {
    SinkTarget target{sink, data};
    rewriter_->write(chunk, SlotRewriterSink{forward_piece, &target});
}

RewriteStats Personalization::finish_rewrite(RewriteSinkFn sink, void* data) noexcept {
    SinkTarget target{sink, data};
    rewriter_->finish(SlotRewriterSink{forward_piece, &target});
    const SlotRewriterStats& s = rewriter_->stats();
    return RewriteStats{s.slots_replaced, s.slots_bailed};
}

bool Personalization::holding() const noexcept {
    return rewriter_ != nullptr && rewriter_->held_bytes() > 0;
}

}  // namespace tailor
