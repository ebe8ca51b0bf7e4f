// Decision: owned strings plus a SlotFill array kept in step with them.
#include "tailor/decision/decision.h"

#include <algorithm>

#include "tailor/html/escape.h"

namespace tailor {

Decision::Decision(const Decision& other)
    : slots_(other.slots_),
      directives_(other.directives_),
      variables_(other.variables_),
      exposures_(other.exposures_) {
    rebuild_fills();  // other's views point into other
}

Decision& Decision::operator=(const Decision& other) {
    if (this != &other) {
        slots_ = other.slots_;
        directives_ = other.directives_;
        variables_ = other.variables_;
        exposures_ = other.exposures_;
        rebuild_fills();
    }
    return *this;
}

// Growing slots_ may move its strings (and short strings keep their bytes
// inline), so every view is taken afresh rather than patched.
void Decision::rebuild_fills() {
    fills_.clear();
    fills_.reserve(slots_.capacity());  // set_slot's push_back stays in place until slots_ grows
    for (const Slot& s : slots_) {
        fills_.push_back(SlotFill{s.name, s.html});
    }
}

bool Decision::set_slot(std::string_view name, std::string html) {
    if (name.empty()) {
        return false;
    }
    auto it = std::find_if(slots_.begin(), slots_.end(),
                           [name](const Slot& s) { return s.name == name; });
    if (it != slots_.end()) {
        it->html = std::move(html);
        // only this fill's html view moved
        fills_[static_cast<size_t>(it - slots_.begin())].html = it->html;
        return true;
    }
    if (slots_.size() >= kMaxSlots) {
        return false;
    }
    if (slots_.size() == slots_.capacity()) {
        slots_.reserve(slots_.empty() ? 8 : 2 * slots_.size());
        slots_.push_back(Slot{std::string(name), std::move(html)});
        rebuild_fills();  // the strings moved
        return true;
    }
    slots_.push_back(Slot{std::string(name), std::move(html)});
    fills_.push_back(SlotFill{slots_.back().name, slots_.back().html});
    return true;
}

bool Decision::clear_slot(std::string_view name) {
    auto it = std::find_if(slots_.begin(), slots_.end(),
                           [name](const Slot& s) { return s.name == name; });
    if (it == slots_.end()) {
        return false;
    }
    slots_.erase(it);
    rebuild_fills();
    return true;
}

std::optional<std::string_view> Decision::slot(std::string_view name) const {
    for (const Slot& s : slots_) {
        if (s.name == name) {
            return std::string_view(s.html);
        }
    }
    return std::nullopt;
}

void Decision::set_directives_json(std::string_view json, std::string_view trailing_html) {
    static constexpr std::string_view kOpen =
        "<script type=\"application/json\" id=\"tailor-directives\">";
    static constexpr std::string_view kClose = "</script>";
    directives_.clear();
    if (json.empty()) {
        return;
    }
    directives_.reserve(kOpen.size() + json.size() + kClose.size() + trailing_html.size());
    directives_.append(kOpen);
    append_json_for_script(directives_, json);
    directives_.append(kClose);
    directives_.append(trailing_html);
}

bool Decision::insert_into_directives(size_t at, std::string_view text) {
    if (at > directives_.size()) {
        return false;
    }
    directives_.insert(at, text);
    return true;
}

bool Decision::set_variable(std::string_view name, std::string value) {
    if (name.empty()) {
        return false;
    }
    for (auto& [key, current] : variables_) {
        if (key == name) {
            current = std::move(value);
            return true;
        }
    }
    if (variables_.size() >= kMaxVariables) {
        return false;
    }
    variables_.emplace_back(std::string(name), std::move(value));
    return true;
}

std::optional<std::string_view> Decision::variable(std::string_view name) const {
    for (const auto& [key, value] : variables_) {
        if (key == name) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

bool Decision::add_exposure(std::string_view rule_id, std::string_view experiment,
                            std::string_view variant) {
    for (const Exposure& e : exposures_) {
        if (e.rule_id == rule_id && e.experiment == experiment && e.variant == variant) {
            return true;
        }
    }
    if (exposures_.size() >= kMaxExposures) {
        return false;
    }
    exposures_.push_back(
        Exposure{std::string(rule_id), std::string(experiment), std::string(variant)});
    return true;
}

void Decision::clear() noexcept {
    slots_.clear();
    fills_.clear();
    directives_.clear();
    variables_.clear();
    exposures_.clear();
}

}  // namespace tailor
