// Per-worker event delivery, its spool directories: this worker's own ("<spool>/w<slot>", or
// "w<slot>-<i>" while an exiting worker still holds it during a reload) and the orphans of
// workers that are gone, which one heir adopts and replays (tailor::Delivery::adopt).
#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_events_worker.h"

#include <dirent.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string_view>

#include "tailor/events/delivery.h"
#include "tailor/events/spool.h"
#include "tailor/events/spool_dir.h"

namespace {

constexpr ngx_uint_t kSpoolTries = 8;   // w<slot>, w<slot>-1, ... during reload overlap
constexpr ngx_uint_t kAdoptOpens = 16;  // spool directories opened per look, at most

// The spool directory of this worker's slot, try 0: "<path>/w<slot>", try i: "w<slot>-<i>".
bool ngx_http_tailor_events_spool_name(ngx_http_tailor_events_worker_t* w, ngx_uint_t i, char* dir,
                                       size_t size) noexcept {
    ngx_path_t* path = w->emcf->spool;
    int n = i == 0 ? snprintf(dir, size, "%.*s/w%u", static_cast<int>(path->name.len),
                              path->name.data, static_cast<unsigned>(w->slot))
                   : snprintf(dir, size, "%.*s/w%u-%u", static_cast<int>(path->name.len),
                              path->name.data, static_cast<unsigned>(w->slot),
                              static_cast<unsigned>(i));
    return n > 0 && static_cast<size_t>(n) < size;
}

tailor::SpoolOptions ngx_http_tailor_events_spool_options(ngx_http_tailor_events_worker_t* w,
                                                          const char* dir) {
    tailor::SpoolOptions opts;
    opts.dir = dir;
    opts.max_bytes = w->emcf->spool_max;
    opts.segment_bytes = w->emcf->spool_segment;
    opts.sync = static_cast<tailor::SpoolSync>(w->emcf->spool_sync);
    return opts;
}

// Opens the orphan "<root>/<name>" if no live process holds it: non-empty, it is
// adopted (true); empty, its directory is removed.
bool ngx_http_tailor_events_adopt_dir(ngx_http_tailor_events_worker_t* w,
                                      const char* name) noexcept {
    ngx_path_t* path = w->emcf->spool;
    char dir[NGX_MAX_PATH];
    int n = snprintf(dir, sizeof(dir), "%.*s/%s", static_cast<int>(path->name.len), path->name.data,
                     name);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof(dir) || w->spool_dir == dir) {
        return false;
    }
    try {
        tailor::SpoolError err;
        std::unique_ptr<tailor::Spool> s =
            tailor::Spool::open(ngx_http_tailor_events_spool_options(w, dir), &err);
        if (!s) {
            return false;  // locked: its worker (or another adopter) is alive
        }
        if (s->empty()) {
            if (tailor::remove_empty_spool(std::move(s))) {
                ngx_log_error(NGX_LOG_INFO, w->log, 0,
                              "tailor events: removed the empty spool \"%s\"", dir);
            }
            return false;
        }
        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "tailor events: replaying %uL events another worker left in \"%s\"",
                      s->stats().pending_records, dir);
        return w->delivery->adopt(std::move(s));
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

// Spool directories of workers that are gone: a reload's "w<N>-<i>", the "w<N>" of slots a
// restart with fewer workers no longer has. Each has one heir among the live workers (slot
// N mod worker_processes), which looks, idle, every 5 s; the spool's flock keeps it from a
// directory an exiting worker still holds. Bounded: a few opens a look, one adopted at a
// time, replayed a batch per flush like our own spool.
bool ngx_http_tailor_events_adopt(ngx_http_tailor_events_worker_t* w) noexcept {
    if (w->delivery->adopting() || w->emcf->spool == nullptr || ngx_current_msec < w->adopt_at) {
        return false;
    }
    w->adopt_at = ngx_current_msec + NGX_HTTP_TAILOR_EVENTS_ADOPT_EVERY;

    ngx_path_t* path = w->emcf->spool;
    char root[NGX_MAX_PATH];
    int n = snprintf(root, sizeof(root), "%.*s", static_cast<int>(path->name.len), path->name.data);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof(root)) {
        return false;
    }
    DIR* d = opendir(root);
    if (d == nullptr) {
        return false;
    }
    bool adopted = false;
    ngx_uint_t opens = 0;
    while (!adopted && opens < kAdoptOpens) {
        const struct dirent* ent = readdir(d);
        if (ent == nullptr) {
            break;
        }
        tailor::SpoolDirName parsed;
        if (!tailor::parse_spool_dir_name(ent->d_name, &parsed) ||
            !tailor::is_spool_heir(parsed, static_cast<uint32_t>(ngx_worker), w->workers)) {
            continue;
        }
        opens++;
        adopted = ngx_http_tailor_events_adopt_dir(w, ent->d_name);
    }
    closedir(d);
    return adopted;
}

std::unique_ptr<tailor::Spool> ngx_http_tailor_events_open_spool(ngx_http_tailor_events_worker_t* w,
                                                                 ngx_cycle_t* cycle) noexcept {
    for (ngx_uint_t i = 0; i <= kSpoolTries; i++) {
        char dir[NGX_MAX_PATH];
        if (!ngx_http_tailor_events_spool_name(w, i, dir, sizeof(dir))) {
            break;
        }

        tailor::SpoolError err = tailor::SpoolError::kOk;
        std::unique_ptr<tailor::Spool> s;
        try {
            s = tailor::Spool::open(ngx_http_tailor_events_spool_options(w, dir), &err);
            if (s) {
                w->spool_dir = dir;
            }
        } catch (const std::exception&) {
            return nullptr;
        }
        if (s) {
            if (!s->empty()) {
                ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                              "tailor events: spool \"%s\" holds %uL events, replaying them", dir,
                              s->stats().pending_records);
            }
            return s;
        }
        if (err != tailor::SpoolError::kLocked) {
            std::string_view why = tailor::spool_error_name(err);
            ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_errno,
                          "tailor events: spool \"%s\" not opened: %*s; events are dropped "
                          "while redis is down",
                          dir, why.size(), why.data());
            return nullptr;
        }
    }
    ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                  "tailor events: every spool directory for worker %ui is locked; events are "
                  "dropped while redis is down",
                  w->slot);
    return nullptr;
}
