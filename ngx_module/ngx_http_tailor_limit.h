// ngx_http_tailor_limit_module: per-client limits on new visitor ids and on beacons, kept in
// shared memory so they hold across workers (tailor_limit_zone, docs/directives.md).
#pragma once

#include "ngx_http_tailor.h"

// ngx_http_tailor_limit_new_id, ngx_http_tailor_limit_beacon
//
// One request of the client that would mint a visitor id (a page without a
// valid cookie), or write a beacon. NGX_OK: no limit here, under it, or over
// it in a dry_run zone; NGX_BUSY: over it (counted, logged at most once a
// second per zone and use; the beacon's is also counted as a limited beacon). Never blocks: one
// shared-memory lookup under the zone's mutex.
ngx_int_t ngx_http_tailor_limit_new_id(ngx_http_request_t* r) noexcept;
ngx_int_t ngx_http_tailor_limit_beacon(ngx_http_request_t* r) noexcept;

// tailor_status: the bytes the limit families of `r`'s configuration need, and
// remembers that configuration for ngx_http_tailor_limit_render_status, which
// renders them (HELP and TYPE always, a sample per zone) and forgets it.
size_t ngx_http_tailor_limit_status_begin(ngx_http_request_t* r) noexcept;
void ngx_http_tailor_limit_render_status(u_char** pos, u_char* end) noexcept;
