// RulePack: the error message format nginx -t and tailorctl print.
#include "tailor/rules/pack.h"

namespace tailor {

std::string RulesError::message() const {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line);
    }
    if (!out.empty()) {
        out += ": ";
    }
    return out + reason;
}

}  // namespace tailor
