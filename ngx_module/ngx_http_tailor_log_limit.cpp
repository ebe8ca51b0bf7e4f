// ngx_http_tailor_log_limit: the glue's one log throttle.
#include "ngx_http_tailor_log_limit.h"

void ngx_http_tailor_log_limited_v(ngx_http_tailor_log_limit_t* limit, ngx_uint_t level,
                                   ngx_log_t* log, const char* prefix, const char* fmt,
                                   va_list args) noexcept {
    u_char buf[NGX_MAX_ERROR_STR];
    u_char* p;
    u_char* last;
    ngx_uint_t skipped;

    if (log->log_level < level) {
        return;
    }

    if (limit->sec == ngx_time()) {
        limit->skipped++;
        return;
    }

    skipped = limit->skipped;
    limit->sec = ngx_time();
    limit->skipped = 0;

    last = buf + sizeof(buf);

    p = ngx_vslprintf(buf, last, fmt, args);

    if (skipped) {
        p = ngx_slprintf(p, last, " (%ui more since the last report)", skipped);
    }

    ngx_log_error(level, log, 0, "%s%*s", prefix, static_cast<size_t>(p - buf), buf);
}
