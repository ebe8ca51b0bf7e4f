// compile_rule_pack: reading rule files and compiling them by loading them once, as a worker would.
#include "tailor/rules/compile.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "tailor/rules/kit.h"
#include "tailor/rules/runtime.h"

namespace tailor {

std::optional<std::string> read_text_file(std::string_view path, std::string* reason) {
    std::ifstream in{std::string(path), std::ios::binary};
    if (!in) {
        if (reason != nullptr) {
            *reason = std::strerror(errno);
        }
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        if (reason != nullptr) {
            *reason = "read error";
        }
        return std::nullopt;
    }
    return std::move(text).str();
}

namespace {

// The kit's parts: every *.lua in the folder `tailor` beside the entry file,
// by path; none when there is no such folder (a one-file kit).
bool read_kit_modules(const std::string& kit_path, std::vector<RulePackSource>* out,
                      RulesError* error) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dir = fs::path(kit_path).parent_path() / "tailor";
    if (!fs::is_directory(dir, ec)) {
        return true;
    }
    std::vector<std::string> paths;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".lua") {
            paths.push_back(it->path().string());
        }
    }
    std::sort(paths.begin(), paths.end());
    for (const std::string& path : paths) {
        std::string why;
        std::optional<std::string> text = read_text_file(path, &why);
        if (!text) {
            if (error != nullptr) {
                *error = {path, 0, "cannot read the rule kit: " + why};
            }
            return false;
        }
        out->push_back({path, std::move(*text)});
    }
    return true;
}

// The kit from `kit_path` on disk, or the one built in when it is empty.
bool read_kit(const std::string& kit_path, RulePack* pack, RulesError* error) {
    if (kit_path.empty()) {
        size_t count = 0;
        const KitFile* files = embedded_kit_files(&count);
        pack->kit_name = std::string(files[0].name);
        pack->kit_text = std::string(files[0].text);
        for (size_t i = 1; i < count; ++i) {
            pack->kit_modules.push_back({std::string(files[i].name), std::string(files[i].text)});
        }
        return true;
    }
    pack->kit_name = kit_path;
    std::string why;
    std::optional<std::string> kit = read_text_file(kit_path, &why);
    if (!kit) {
        if (error != nullptr) {
            *error = {kit_path, 0, "cannot read the rule kit: " + why};
        }
        return false;
    }
    pack->kit_text = std::move(*kit);
    return read_kit_modules(kit_path, &pack->kit_modules, error);
}

}  // namespace

std::optional<RulePack> compile_rule_pack(std::vector<RulePackSource> sources,
                                          const RulePackOptions& options,
                                          RulesError* error) noexcept {
    try {
        RulePack pack;
        if (!read_kit(options.kit_path, &pack, error)) {
            return std::nullopt;
        }
        pack.sources = std::move(sources);
        pack.limits = options.limits;
        std::unique_ptr<RuleRuntime> runtime = RuleRuntime::create(pack, error);
        if (!runtime) {
            return std::nullopt;
        }
        for (const RuleStats& r : runtime->rule_stats()) {
            pack.rules.push_back(r.info);
            if (pack.slots.empty() || pack.slots.back() != r.info.slot) {
                pack.slots.push_back(r.info.slot);
            }
            if (!r.info.experiment.empty()) {
                bool known = false;
                for (const std::string& e : pack.experiments) {
                    known = known || e == r.info.experiment;
                }
                if (!known) {
                    pack.experiments.push_back(r.info.experiment);
                }
            }
        }
        for (const Experiment& e : runtime->experiments()) {
            pack.declared_experiments.push_back(e.spec());
        }
        return pack;
    } catch (const std::exception& e) {
        if (error != nullptr) {
            *error = {"", 0, e.what()};
        }
        return std::nullopt;
    }
}

std::optional<RulePack> compile_rule_pack_files(const std::vector<std::string>& paths,
                                                const RulePackOptions& options,
                                                RulesError* error) noexcept {
    try {
        std::vector<RulePackSource> sources;
        for (const std::string& path : paths) {
            std::string why;
            std::optional<std::string> text = read_text_file(path, &why);
            if (!text) {
                if (error != nullptr) {
                    *error = {path, 0, "cannot read: " + why};
                }
                return std::nullopt;
            }
            sources.push_back({path, std::move(*text)});
        }
        return compile_rule_pack(std::move(sources), options, error);
    } catch (const std::exception& e) {
        if (error != nullptr) {
            *error = {"", 0, e.what()};
        }
        return std::nullopt;
    }
}

}  // namespace tailor
