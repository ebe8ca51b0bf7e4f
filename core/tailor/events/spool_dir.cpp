// Spool directory names; removing an emptied orphan.
#include "tailor/events/spool_dir.h"

#include <unistd.h>

#include <string>

namespace tailor {

namespace {

// A decimal number without sign or leading zero, under 2^31.
bool parse_number(std::string_view s, uint32_t* out) noexcept {
    if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) {
        return false;
    }
    uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n >= (1ull << 31)) {
        return false;
    }
    *out = static_cast<uint32_t>(n);
    return true;
}

}  // namespace

bool parse_spool_dir_name(std::string_view name, SpoolDirName* out) noexcept {
    if (name.size() < 2 || name[0] != 'w') {
        return false;
    }
    name.remove_prefix(1);
    SpoolDirName parsed;
    size_t dash = name.find('-');
    if (!parse_number(name.substr(0, dash), &parsed.slot)) {
        return false;
    }
    if (dash != std::string_view::npos &&
        (!parse_number(name.substr(dash + 1), &parsed.generation) || parsed.generation == 0)) {
        return false;
    }
    *out = parsed;
    return true;
}

bool is_spool_heir(SpoolDirName name, uint32_t slot, uint32_t workers) noexcept {
    return workers != 0 && name.slot % workers == slot;
}

bool remove_empty_spool(std::unique_ptr<Spool> spool) noexcept {
    if (!spool || !spool->empty()) {
        return false;
    }
    try {
        // An empty spool has no segment left (Spool::commit unlinks them): the cursor, then
        // the lock file, then the directory, while the lock is still held. Should a worker
        // open the name between the two unlinks, it makes a new lock file and rmdir fails.
        const std::string& dir = spool->dir();
        (void)::unlink((dir + "/cursor").c_str());
        (void)::unlink((dir + "/lock").c_str());
        bool removed = ::rmdir(dir.c_str()) == 0;
        spool.reset();
        return removed;
    } catch (...) {
        return false;
    }
}

}  // namespace tailor
