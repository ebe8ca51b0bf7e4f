// EventId: the event's idempotency key, a UUIDv7 (time-ordered, 74 random bits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tailor {

// EventId
//
// The idempotency key: a UUIDv7 (RFC 9562), 48 bits of Unix milliseconds
// then 74 bits from OpenSSL's CSPRNG. Time-ordered so ids sort roughly by
// creation and index well in a consumer's store; random enough (2^74 per
// millisecond) that two workers never collide. Trivially copyable.
class EventId {
  public:
    static constexpr size_t kTextLength = 36;

    // EventId::generate
    //
    // A new id for `now_ms`; nullopt only if the CSPRNG fails (then the
    // glue drops the event and counts it: a guessable id is no id).
    //
    // Example:
    //   auto id = EventId::generate(1718000000000);
    //   id->text()  // "0190076c-fc00-7xxx-yxxx-xxxxxxxxxxxx"
    [[nodiscard]] static std::optional<EventId> generate(int64_t now_ms) noexcept;

    // EventId::parse
    //
    // The id whose canonical lower-case text is `text`.
    //
    // Example:
    //   EventId::parse("0190076c-fc00-7abc-8def-0123456789ab")->text()
    //       == "0190076c-fc00-7abc-8def-0123456789ab"
    [[nodiscard]] static std::optional<EventId> parse(std::string_view text) noexcept;

    // EventId::text
    //
    // The canonical 36-character form; valid as long as this object.
    [[nodiscard]] std::string_view text() const noexcept { return {text_, kTextLength}; }

    // EventId::unix_ms
    //
    // The timestamp embedded in the id.
    [[nodiscard]] int64_t unix_ms() const noexcept;

    friend bool operator==(const EventId& a, const EventId& b) noexcept {
        return a.text() == b.text();
    }

  private:
    EventId() noexcept = default;
    char text_[kTextLength] = {};
};

}  // namespace tailor
