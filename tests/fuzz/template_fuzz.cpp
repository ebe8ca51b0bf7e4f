// Template fuzz: compile any text, render it with input-derived untrusted values, check escaping.
//
// Input: template source, a 0x00 byte, then the value bytes. Every choice
// (which value a name gets) is a function of the input, so a crash replays.
// Invariant: untrusted values add no markup, so rendering with them yields
// exactly as many `<`, `>`, `"`, `'` and backticks as rendering with a
// harmless value does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/html/escape.h"
#include "tailor/html/template.h"

namespace {

struct FuzzLookup {
    std::string_view values;
    bool trusted = false;
    bool harmless = false;

    bool operator()(std::string_view name, tailor::TemplateValue* value) const {
        uint32_t h = 2166136261u;  // FNV-1a: a stable choice per name
        for (char c : name) {
            h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
        }
        if ((h & 7u) == 0) {
            return false;  // some names are unknown
        }
        value->text = harmless ? std::string_view("x") : values.substr(h % (values.size() + 1));
        value->trusted = trusted;
        return true;
    }
};

size_t markup_bytes(std::string_view s) {
    size_t n = 0;
    for (char c : s) {
        n += (c == '<' || c == '>' || c == '"' || c == '\'' || c == '`') ? 1 : 0;
    }
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t split = input.find('\0');
    const std::string_view source = input.substr(0, split);
    const std::string_view values =
        split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

    // The escapers alone: nothing that means markup survives.
    std::string escaped;
    tailor::append_html_attribute(escaped, values);
    std::string json;
    tailor::append_json_for_script(json, values);
    if (markup_bytes(escaped) != 0 || json.find_first_of("<>&") != std::string::npos) {
        std::abort();
    }

    tailor::TemplateError error;
    const auto tmpl = tailor::compile_template(source, &error);
    if (!tmpl) {
        if (error.offset > source.size() || error.line == 0 || error.column == 0 ||
            error.message.empty()) {
            std::abort();
        }
        return 0;
    }

    FuzzLookup untrusted{values, false, false};
    FuzzLookup harmless{values, false, true};
    std::string out;
    std::string reference;
    tmpl->render_with(out, untrusted);
    tmpl->render_with(reference, harmless);
    if (markup_bytes(out) != markup_bytes(reference)) {
        std::abort();
    }

    FuzzLookup trusted{values, true, false};  // the raw path, for crashes only
    std::string raw;
    tmpl->render_with(raw, trusted);
    return 0;
}
