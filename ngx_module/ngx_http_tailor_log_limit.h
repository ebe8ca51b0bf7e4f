// ngx_http_tailor_log_limit: a repeating failure (Redis down, a full queue) logs at most once a
// second per limiter, and the next line says how many were held back. One limiter per source
// (a Redis client, the events worker), so one noisy source cannot hide another.
#pragma once

#include "ngx_http_tailor.h"

#include <cstdarg>

struct ngx_http_tailor_log_limit_t {
    time_t sec;  // when the last line was written (ngx_time())
    ngx_uint_t skipped;
};

// ngx_http_tailor_log_limited_v
//
// Writes "<prefix><fmt ...>" at `level` on `log` unless the limiter wrote a line this second
// (then counts it). `fmt` uses nginx's formats (%V, %uz, %uL, %*s). A zeroed limiter is ready.
// Example (a source's thin wrapper):
//     va_start(args, fmt);
//     ngx_http_tailor_log_limited_v(&w->log_limit, level, w->log, "tailor events: ", fmt, args);
//     va_end(args);
void ngx_http_tailor_log_limited_v(ngx_http_tailor_log_limit_t* limit, ngx_uint_t level,
                                   ngx_log_t* log, const char* prefix, const char* fmt,
                                   va_list args) noexcept;
