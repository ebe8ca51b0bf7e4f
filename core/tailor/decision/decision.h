// Decision: what the rules decided for one request, as the filters and the event stream read it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/html/slot_fill.h"

namespace tailor {

// Exposure
//
// A visitor saw (or was held out of) an experiment's variant because a rule
// ran; one per rule and experiment, for the event stream.
struct Exposure {
    std::string rule_id;
    std::string experiment;
    std::string variant;  // "holdout" for the holdout group
};

// Decision
//
// Slot fills (slot name -> HTML), the directives fragment injected before
// </body>, named variables (segment, variant, ...) and exposures. It owns all
// its strings; fills() hands the rewriter a contiguous SlotFill array viewing
// them, rebuilt on every slot change, so the views are never stale.
//
// A value type: moving keeps the views valid (the vectors' buffers move, the
// strings in them do not), and copying rebuilds them for the copy. Each part
// is capped so a runaway rule pack cannot grow it without bound. One per
// request; clear() reuses the capacity.
//
// Example:
//   Decision d;
//   (void)d.set_slot("hero", "<p>Welcome back</p>");
//   d.set_directives_json(R"({"popups":[]})");
//   rewriter.start(d.fills());  // [{"hero", "<p>Welcome back</p>"}]
//   if (d.changes_page()) { /* header filter touches headers */ }
class Decision {
  public:
    static constexpr size_t kMaxSlots = 32;
    static constexpr size_t kMaxVariables = 32;
    static constexpr size_t kMaxExposures = 32;

    Decision() = default;
    Decision(const Decision& other);
    Decision& operator=(const Decision& other);
    Decision(Decision&&) noexcept = default;
    Decision& operator=(Decision&&) noexcept = default;
    ~Decision() = default;

    // set_slot
    //
    // Fills slot `name` with `html` (replacing an earlier fill of the same
    // slot; the last rule wins). `html` is inserted as is: build it with a
    // Template so profile data is escaped. Returns false, changing nothing,
    // for an empty name or past kMaxSlots distinct slots.
    //
    // Example:
    //   d.set_slot("hero", "<b>Hi</b>");  // true
    //   d.slot("hero") == "<b>Hi</b>"
    [[nodiscard]] bool set_slot(std::string_view name, std::string html);

    // clear_slot
    //
    // Removes the fill for `name`, so that slot keeps its default content.
    // Returns whether there was one.
    //
    // Example:
    //   d.clear_slot("hero");  // d.slot("hero") == nullopt
    bool clear_slot(std::string_view name);

    // slot
    //
    // The HTML for `name`, or nullopt when the slot is not filled.
    //
    // Example:
    //   d.slot("missing") == std::nullopt
    [[nodiscard]] std::optional<std::string_view> slot(std::string_view name) const;

    // fills
    //
    // Every filled slot, in the order first filled, as views into this
    // Decision. Valid until the next slot change or the Decision's end.
    //
    // Example:
    //   d.fills().size() == 1 && d.fills()[0].name == "hero"
    [[nodiscard]] const std::vector<SlotFill>& fills() const noexcept { return fills_; }

    // set_directives_json
    //
    // Makes the directives fragment `<script type="application/json"
    // id="tailor-directives">JSON</script>` from the JSON text `json`,
    // escaped with append_json_for_script so nothing in it can close the
    // script. `trailing_html`, trusted markup (the tag that loads the client
    // runtime), follows the element as is. An empty `json` removes the fragment.
    //
    // Example:
    //   d.set_directives_json(R"({"x":"</script>"})");
    //   // d.directives_html() == "<script type=\"application/json\" "
    //   //   "id=\"tailor-directives\">{\"x\":\"\\u003c/script\\u003e\"}</script>"
    void set_directives_json(std::string_view json, std::string_view trailing_html = {});

    // directives_html
    //
    // The fragment to insert before </body>, or empty for none.
    //
    // Example:
    //   Decision().directives_html().empty()
    [[nodiscard]] std::string_view directives_html() const noexcept { return directives_; }

    // insert_into_directives
    //
    // Inserts `text` into the fragment at byte `at`: for what differs per
    // request while the decision may be shared between visitors (the
    // pop-up's token, popup/token.h). `text` must already be safe inside the
    // script element. Returns false, changing nothing, when `at` is past the
    // end.
    //
    // Example:
    //   d.insert_into_directives(n, "\"token\":\"k1.x.y\",");
    [[nodiscard]] bool insert_into_directives(size_t at, std::string_view text);

    // set_variable
    //
    // Sets variable `name` (segment, variant, ...) to `value`, replacing an
    // earlier value. Returns false, changing nothing, for an empty name or
    // past kMaxVariables distinct names.
    //
    // Example:
    //   d.set_variable("segment", "vip");  // d.variable("segment") == "vip"
    [[nodiscard]] bool set_variable(std::string_view name, std::string value);

    // variable
    //
    // The value of `name`, or nullopt when unset.
    //
    // Example:
    //   d.variable("nope") == std::nullopt
    [[nodiscard]] std::optional<std::string_view> variable(std::string_view name) const;

    // variables
    //
    // All variables, in the order first set.
    //
    // Example:
    //   d.variables()[0] == std::pair<std::string, std::string>("segment", "vip")
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& variables()
        const noexcept {
        return variables_;
    }

    // add_exposure
    //
    // Records that rule `rule_id` exposed the visitor to `variant` of
    // `experiment`. A repeat of the same triple is dropped (a rule that runs
    // twice is one exposure); returns false past kMaxExposures.
    //
    // Example:
    //   d.add_exposure("hero-test", "hero_copy", "b");  // true
    [[nodiscard]] bool add_exposure(std::string_view rule_id, std::string_view experiment,
                                    std::string_view variant);

    // exposures
    //
    // Every exposure, in the order recorded.
    //
    // Example:
    //   d.exposures()[0].variant == "b"
    [[nodiscard]] const std::vector<Exposure>& exposures() const noexcept { return exposures_; }

    // changes_page
    //
    // Whether the page will differ from the default: any fill or a
    // directives fragment. The header filter leaves headers alone otherwise.
    //
    // Example:
    //   Decision().changes_page() == false
    [[nodiscard]] bool changes_page() const noexcept {
        return !fills_.empty() || !directives_.empty();
    }

    // clear
    //
    // Back to an empty decision, keeping allocated capacity for reuse.
    //
    // Example:
    //   d.clear();  // d.changes_page() == false
    void clear() noexcept;

  private:
    struct Slot {
        std::string name;
        std::string html;
    };

    void rebuild_fills();

    std::vector<Slot> slots_;
    std::vector<SlotFill> fills_;  // views into slots_, rebuilt on every change
    std::string directives_;
    std::vector<std::pair<std::string, std::string>> variables_;
    std::vector<Exposure> exposures_;
};

}  // namespace tailor
