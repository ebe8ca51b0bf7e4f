// WordFilter: a quick "certainly not in this list" for short constant word lists.
//
// Lists such as the personal query names are checked for every parameter of
// every page view; most names share neither length nor first letter with any
// entry. A filter built at compile time answers that from one table load, so
// the list itself is walked only for names that may be in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tailor {

class WordFilter {
  public:
    static constexpr size_t kMaxLength = 31;

    // Every entry of `words`; entries ending in '*' (prefix patterns) are
    // left out, so check those on their own.
    template <typename List>
    constexpr explicit WordFilter(const List& words) noexcept {
        for (std::string_view w : words) {
            if (w.empty() || w.back() == '*') {
                continue;
            }
            if (w.size() > kMaxLength) {
                long_words_ = true;
                continue;
            }
            firsts_[w.size()] |= bit(w[0]);
        }
    }

    // False only if no entry can equal `word`.
    //
    // Example:
    //   constexpr std::string_view kList[] = {"email", "tel"};
    //   constexpr WordFilter f(kList);
    //   f.may_contain("sku") == false; f.may_contain("tea") == true
    [[nodiscard]] constexpr bool may_contain(std::string_view word) const noexcept {
        if (word.empty()) {
            return false;
        }
        if (word.size() > kMaxLength) {
            return long_words_;
        }
        return (firsts_[word.size()] & bit(word[0])) != 0;
    }

  private:
    // One bit per first byte class: 'a'..'z' and 'A'..'Z' folded to their own
    // 26 bits, digits to bit 26, '_' to 27, anything else to 28.
    static constexpr uint32_t bit(char c) noexcept {
        if (c >= 'a' && c <= 'z') {
            return uint32_t{1} << (c - 'a');
        }
        if (c >= 'A' && c <= 'Z') {
            return uint32_t{1} << (c - 'A');
        }
        if (c >= '0' && c <= '9') {
            return uint32_t{1} << 26;
        }
        return uint32_t{1} << (c == '_' ? 27 : 28);
    }

    uint32_t firsts_[kMaxLength + 1] = {};
    bool long_words_ = false;
};

}  // namespace tailor
