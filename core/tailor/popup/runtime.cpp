#include "tailor/popup/runtime.h"

#include "tailor/html/escape.h"

namespace tailor {

void append_popup_runtime_tag(std::string& out, std::string_view path) {
    if (path.empty()) {
        path = kPopupRuntimePath;
    }
    const std::string_view version = popup_runtime_version();
    std::string src;
    src.reserve(path.size() + 3 + version.size());
    src.append(path);
    src.append(path.find('?') == std::string_view::npos ? "?v=" : "&v=");
    src.append(version);

    out.append("<script src=\"");
    append_html_attribute(out, src);
    out.append("\" defer></script>");
}

}  // namespace tailor
