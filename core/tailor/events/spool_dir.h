// Spool directory names and the end of an orphaned spool.
//
// Each worker spools under "<root>/w<slot>", or "w<slot>-<n>" while an old
// worker of a reload still holds that name (spool.h). A directory whose
// worker is gone -- fewer worker_processes after a restart, a "w3-1" left by
// a reload -- is an orphan: its heir adopts it (Spool::open's flock keeps it
// from a worker still exiting), replays it and then removes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "tailor/events/spool.h"

namespace tailor {

// SpoolDirName
struct SpoolDirName {
    uint32_t slot = 0;        // ngx_worker of the worker that made it
    uint32_t generation = 0;  // 0 for "w<slot>", n for "w<slot>-<n>"
};

// parse_spool_dir_name
//
// Whether `name` (one path component) is a worker's spool directory name.
// Digits only, no sign, no leading zeros, each number under 2^31.
//
// Example:
//   parse_spool_dir_name("w3-1", &n) == true, n.slot == 3, n.generation == 1
//   parse_spool_dir_name("w03", &n) == false
[[nodiscard]] bool parse_spool_dir_name(std::string_view name, SpoolDirName* out) noexcept;

// is_spool_heir
//
// Whether the live worker `slot` of `workers` is the one that adopts the
// directory `name`: slot name.slot % workers. Exactly one live worker looks at
// each directory, so a worker opening its own at start never meets another
// live worker holding its name (which would push it to "w<slot>-<n>", or
// remove the directory under it).
//
// Example:
//   is_spool_heir({.slot = 3}, 1, 2) == true   // w3 after a restart with 2 workers
//   is_spool_heir({.slot = 0}, 1, 2) == false  // w0 is worker 0's
[[nodiscard]] bool is_spool_heir(SpoolDirName name, uint32_t slot, uint32_t workers) noexcept;

// remove_empty_spool
//
// Deletes an empty spool's files and its directory, then closes it (which
// releases the lock last, so nobody adopts a half-removed directory). False,
// and the spool is closed but kept on disk, if it still holds records or its
// directory is not empty (someone reopened the name meanwhile: it stays).
[[nodiscard]] bool remove_empty_spool(std::unique_ptr<Spool> spool) noexcept;

}  // namespace tailor
