// The pop-up endpoints: the client runtime (tailor_popup_runtime) and the beacon
// (tailor_popup_beacon) that records impressions, closes and conversions in the
// visitor's caps; and the token a page's pop-up carries, which the beacon
// requires. docs/popups.md has the model; core has the parsing, the token and
// the Redis script (tailor/popup/beacon.h, tailor/popup/token.h), this file
// only checks the request and drives one EVALSHA without blocking.
#include "ngx_http_tailor.h"

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_limit.h"
#include "ngx_http_tailor_log_limit.h"
#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/engine/engine.h"
#include "tailor/popup/beacon.h"
#include "tailor/popup/runtime.h"
#include "tailor/popup/token.h"
#include "tailor/request/same_origin.h"

namespace {

constexpr ngx_uint_t kDefaultBeaconRate = 30;  // per visitor per minute
constexpr time_t kDefaultCapsTtl = 365 * 24 * 3600;
constexpr ngx_msec_t kDefaultBeaconTimeout = 1000;
constexpr time_t kRuntimeMaxAge = 365 * 24 * 3600;  // a versioned URL never changes
constexpr time_t kUnversionedMaxAge = 300;
constexpr time_t kMinTokenMaxAge = 60;
constexpr time_t kMaxTokenMaxAge = 7 * 24 * 3600;

// One line a second per worker for refused tokens: an old runtime left in
// many open tabs after an upgrade must not flood the log.
ngx_http_tailor_log_limit_t ngx_http_tailor_token_log_limit;

void ngx_http_tailor_token_log(ngx_log_t* log, const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_log_limited_v(&ngx_http_tailor_token_log_limit, NGX_LOG_INFO, log,
                                  "tailor: ", fmt, args);
    va_end(args);
}

// The runtime.

// True when the request names the current version (?v=...): that URL's bytes
// never change, so it may be cached for a year.
bool ngx_http_tailor_popup_current_version(ngx_http_request_t* r) noexcept {
    ngx_str_t v;
    if (ngx_http_arg(r, reinterpret_cast<u_char*>(const_cast<char*>("v")), 1, &v) != NGX_OK) {
        return false;
    }
    return ngx_http_tailor_view(v) == tailor::popup_runtime_version();
}

ngx_int_t ngx_http_tailor_popup_runtime_handler(ngx_http_request_t* r) noexcept {
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    const std::string_view script = tailor::popup_runtime_script();
    const std::string_view version = tailor::popup_runtime_version();

    // "<version>", quoted: a strong validator (nginx's not-modified filter
    // answers If-None-Match with 304 from it)
    auto* etag = static_cast<u_char*>(ngx_pnalloc(r->pool, version.size() + 2));
    if (etag == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    etag[0] = '"';
    ngx_memcpy(etag + 1, version.data(), version.size());
    etag[version.size() + 1] = '"';
    r->headers_out.etag = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (r->headers_out.etag == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->headers_out.etag->hash = 1;
    ngx_str_set(&r->headers_out.etag->key, "ETag");
    r->headers_out.etag->value.len = version.size() + 2;
    r->headers_out.etag->value.data = etag;

    const bool versioned = ngx_http_tailor_popup_current_version(r);
    auto* cache = static_cast<u_char*>(ngx_pnalloc(r->pool, 64));
    if (cache == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    u_char* end = versioned ? ngx_sprintf(cache, "public, max-age=%T, immutable", kRuntimeMaxAge)
                            : ngx_sprintf(cache, "public, max-age=%T", kUnversionedMaxAge);
    if (ngx_http_tailor_add_header(r, ngx_string("Cache-Control"),
                                   {static_cast<size_t>(end - cache), cache}) != NGX_OK ||
        ngx_http_tailor_add_header(r, ngx_string("X-Content-Type-Options"),
                                   ngx_string("nosniff")) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = static_cast<off_t>(script.size());
    ngx_str_set(&r->headers_out.content_type, "application/javascript");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    ngx_str_set(&r->headers_out.charset, "utf-8");
    r->allow_ranges = 1;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }
    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    auto* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
    if (b == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    // static storage, never written: a memory buffer
    b->pos = reinterpret_cast<u_char*>(const_cast<char*>(script.data()));
    b->last = b->pos + script.size();
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

// The beacon.

enum ngx_http_tailor_beacon_verdict_e : ngx_uint_t {
    NGX_HTTP_TAILOR_BEACON_RECORDED = 0,
    NGX_HTTP_TAILOR_BEACON_REJECTED,
    NGX_HTTP_TAILOR_BEACON_LIMITED,
    NGX_HTTP_TAILOR_BEACON_FAILED,
};

void ngx_http_tailor_beacon_count(ngx_http_tailor_beacon_verdict_e v) noexcept {
    static constexpr ngx_http_tailor_counter_e kCounter[] = {
        NGX_HTTP_TAILOR_BEACONS_RECORDED, NGX_HTTP_TAILOR_BEACONS_REJECTED,
        NGX_HTTP_TAILOR_BEACONS_LIMITED, NGX_HTTP_TAILOR_BEACONS_FAILED};
    ngx_http_tailor_metrics_count(kCounter[v]);
}

// Refuses a request, saying why in the error log (info: it is the client's doing).
ngx_int_t ngx_http_tailor_beacon_reject(ngx_http_request_t* r, ngx_int_t status,
                                        std::string_view why) noexcept {
    ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_REJECTED);
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "tailor: pop-up beacon refused: %*s",
                  why.size(), why.data());
    return status;
}

// Refuses a beacon whose token is missing, malformed or not good for it,
// logging at most one line a second.
ngx_int_t ngx_http_tailor_beacon_reject_token(ngx_http_request_t* r, ngx_int_t status,
                                              std::string_view why) noexcept {
    ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_REJECTED);
    ngx_http_tailor_token_log(r->connection->log, "pop-up beacon refused: %*s", why.size(),
                              why.data());
    return status;
}

// The beacon is only for the shop's own pages (core: request/same_origin.h).
bool ngx_http_tailor_beacon_same_origin(ngx_http_request_t* r) noexcept {
    const ngx_table_elt_t* site =
        ngx_http_tailor_find_header(&r->headers_in.headers, "sec-fetch-site", false);
    const ngx_table_elt_t* origin =
        ngx_http_tailor_find_header(&r->headers_in.headers, "origin", false);
#if (NGX_HTTP_SSL)
    const bool https = r->connection->ssl != nullptr;
#else
    const bool https = false;
#endif
    return tailor::is_same_origin_request(
        site ? std::optional<std::string_view>(ngx_http_tailor_view(site->value)) : std::nullopt,
        origin ? std::optional<std::string_view>(ngx_http_tailor_view(origin->value))
               : std::nullopt,
        ngx_http_tailor_view(r->headers_in.host), https);
}

ngx_int_t ngx_http_tailor_beacon_respond(ngx_http_request_t* r, ngx_int_t status) noexcept {
    if (status != NGX_HTTP_NO_CONTENT) {
        return status;  // nginx's own error page
    }
    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;
    if (ngx_http_tailor_add_header(r, ngx_string("Cache-Control"), ngx_string("no-store")) !=
        NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return ngx_http_send_header(r);
}

void ngx_http_tailor_beacon_wake(ngx_event_t* ev) noexcept {
    auto* ctx = static_cast<ngx_http_tailor_ctx_t*>(ev->data);
    ngx_http_request_t* r = ctx->request;
    ngx_connection_t* c = r->connection;

    ngx_http_set_log_request(c->log, r);
    ngx_http_finalize_request(r, ngx_http_tailor_beacon_respond(r, ctx->beacon_status));
    ngx_http_run_posted_requests(c);
}

void ngx_http_tailor_beacon_done(ngx_http_tailor_ctx_t* ctx, ngx_int_t status) noexcept {
    ctx->beacon_status = status;
    ctx->done = 1;
    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }
    if (!ctx->wake.posted) {
        ngx_post_event(&ctx->wake, &ngx_posted_events);
    }
}

void ngx_http_tailor_beacon_deadline(ngx_event_t* ev) noexcept {
    auto* ctx = static_cast<ngx_http_tailor_ctx_t*>(ev->data);
    if (ctx->op != nullptr) {
        ngx_http_tailor_redis_cancel(ctx->op);
        ctx->op = nullptr;
    }
    ngx_log_error(NGX_LOG_WARN, ctx->request->connection->log, 0,
                  "tailor: pop-up beacon not recorded: Redis did not answer in time");
    ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_FAILED);
    ngx_http_tailor_beacon_done(ctx, NGX_HTTP_SERVICE_UNAVAILABLE);
}

bool ngx_http_tailor_beacon_send(ngx_http_tailor_ctx_t* ctx, bool eval) noexcept;

bool ngx_http_tailor_beacon_resend(void* data) noexcept {
    return ngx_http_tailor_beacon_send(static_cast<ngx_http_tailor_ctx_t*>(data), true);
}

// Runs inside hiredis: record, retry once with EVAL after NOSCRIPT, or post.
void ngx_http_tailor_beacon_reply(void* data, const redisReply* reply, uint64_t) noexcept {
    auto* ctx = static_cast<ngx_http_tailor_ctx_t*>(data);
    ngx_log_t* log = ctx->request->connection->log;
    ctx->op = nullptr;

    // Redis restarted or its script cache was flushed: again as EVAL
    if (ngx_http_tailor_redis_resent_as_eval(&reply, ngx_http_tailor_beacon_resend, ctx)) {
        return;
    }

    tailor::PopupBeaconResult result;
    if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER ||
        !tailor::popup_beacon_result(reply->integer, &result)) {
        ngx_log_error(NGX_LOG_WARN, log, 0, "tailor: pop-up beacon not recorded: %s",
                      reply == nullptr                   ? "no reply from Redis"
                      : reply->type == REDIS_REPLY_ERROR ? reply->str
                                                         : "unexpected reply");
        ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_FAILED);
        ngx_http_tailor_beacon_done(ctx, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    switch (result) {
        case tailor::PopupBeaconResult::kRecorded:
            ctx->beacon_recorded = 1;
            // this worker's next page for the visitor reads the new caps
            ngx_http_tailor_core_forget_visitor(ctx->vid);
            ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_RECORDED);
            ngx_http_tailor_beacon_done(ctx, NGX_HTTP_NO_CONTENT);
            return;
        case tailor::PopupBeaconResult::kRateLimited:
            ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_LIMITED);
            ngx_http_tailor_beacon_done(ctx, NGX_HTTP_TOO_MANY_REQUESTS);
            return;
        case tailor::PopupBeaconResult::kErased:
            // the browser of an erased visitor: refused like one over its rate, nothing kept
            ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_LIMITED);
            ngx_http_tailor_beacon_done(ctx, NGX_HTTP_NO_CONTENT);
            return;
        case tailor::PopupBeaconResult::kReplayed:
            // the runtime reports each kind once per page: this is a copy
            ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_REJECTED);
            ngx_http_tailor_token_log(log,
                                      "pop-up beacon refused: its token already reported "
                                      "this, nothing recorded");
            ngx_http_tailor_beacon_done(ctx, NGX_HTTP_FORBIDDEN);
            return;
        case tailor::PopupBeaconResult::kTokensFull:
            ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_LIMITED);
            ngx_http_tailor_beacon_done(ctx, NGX_HTTP_TOO_MANY_REQUESTS);
            return;
        case tailor::PopupBeaconResult::kNewerSchema:
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "tailor: pop-up beacon not recorded: the caps of visitor \"%V\" "
                          "have a newer schema than this module writes",
                          &ctx->vid);
            ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_FAILED);
            ngx_http_tailor_beacon_done(ctx, NGX_HTTP_CONFLICT);
            return;
    }
}

bool ngx_http_tailor_beacon_send(ngx_http_tailor_ctx_t* ctx, bool eval) noexcept {
    ngx_http_request_t* r = ctx->request;
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));

    tailor::PopupBeacon beacon;
    beacon.kind = static_cast<tailor::PopupBeaconKind>(ctx->beacon_kind);
    beacon.popup_id = ngx_http_tailor_view(ctx->beacon_popup);
    beacon.token = ngx_http_tailor_view(ctx->beacon_token);

    // checked by the handler; parsed again for its nonce and time
    std::optional<tailor::PopupTokenParts> parts = tailor::parse_popup_token(beacon.token);
    if (!parts) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tailor: a checked pop-up token does not parse");
        return false;
    }
    tailor::PopupTokenCheck token;
    token.status = tailor::PopupTokenStatus::kValid;
    token.nonce = parts->nonce;
    token.issued_at = parts->issued_at;

    tailor::PopupBeaconLimits limits;
    limits.rate = static_cast<uint32_t>(lcf->beacon_rate);
    limits.window_seconds = static_cast<uint32_t>(lcf->beacon_window);
    limits.caps_ttl_seconds = static_cast<uint32_t>(lcf->caps_ttl);
    limits.token_max_age_seconds = static_cast<uint32_t>(lcf->token_max_age);

    try {
        tailor::PopupBeaconCommand cmd(ngx_http_tailor_view(ctx->vid), beacon, token,
                                       static_cast<int64_t>(ngx_time()), limits);
        if (eval) {
            cmd.use_eval();
        }
        std::string_view key = cmd.caps_key();
        ngx_str_t route = {key.size(), reinterpret_cast<u_char*>(const_cast<char*>(key.data()))};
        ctx->op = ngx_http_tailor_redis_send(ngx_http_tailor_core_profile_redis(), &route,
                                             cmd.argc(), cmd.argv(), cmd.argvlen(),
                                             ngx_http_tailor_beacon_reply, ctx);
    } catch (const std::exception&) {
        ctx->op = nullptr;  // out of memory
    }
    return ctx->op != nullptr;
}

ngx_int_t ngx_http_tailor_popup_beacon_handler(ngx_http_request_t* r) noexcept {
    if (r->method != NGX_HTTP_POST) {
        return ngx_http_tailor_beacon_reject(r, NGX_HTTP_NOT_ALLOWED, "not a POST");
    }
    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_module));
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));

    if (!ngx_http_tailor_beacon_same_origin(r)) {
        return ngx_http_tailor_beacon_reject(r, NGX_HTTP_FORBIDDEN, "not same-origin");
    }

    tailor::PopupBeacon beacon;
    tailor::PopupBeaconParse parsed =
        tailor::parse_popup_beacon_query(ngx_http_tailor_view(r->args), &beacon);
    if (parsed == tailor::PopupBeaconParse::kMissingToken ||
        parsed == tailor::PopupBeaconParse::kBadToken) {
        // a runtime from before the token (a tab open across the upgrade)
        return ngx_http_tailor_beacon_reject_token(
            r, NGX_HTTP_BAD_REQUEST,
            tailor::popup_token_status_name(parsed == tailor::PopupBeaconParse::kMissingToken
                                                ? tailor::PopupTokenStatus::kMissing
                                                : tailor::PopupTokenStatus::kMalformed));
    }
    if (parsed != tailor::PopupBeaconParse::kOk) {
        return ngx_http_tailor_beacon_reject(r, NGX_HTTP_BAD_REQUEST,
                                             tailor::popup_beacon_parse_name(parsed));
    }
    if (!ngx_http_tailor_engine(r)->has_popup(beacon.popup_id)) {
        return ngx_http_tailor_beacon_reject(r, NGX_HTTP_BAD_REQUEST,
                                             "the rule pack declares no such pop-up");
    }

    if (ngx_http_tailor_core_consent(r, lcf) != tailor::Outcome::kNone) {
        return ngx_http_tailor_beacon_reject(r, NGX_HTTP_FORBIDDEN, "no consent");
    }

    ngx_http_tailor_ctx_t* ctx = ngx_http_tailor_create_ctx(r);
    if (ctx == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    // the caps written are those of the signed cookie's visitor, never of an id
    // the request names
    if (ngx_http_tailor_core_read_cookie(r, mcf, lcf, ctx) != NGX_OK) {
        return ngx_http_tailor_beacon_reject(r, NGX_HTTP_FORBIDDEN, "no valid visitor cookie");
    }
    if (ngx_http_tailor_limit_beacon(r) != NGX_OK) {
        return NGX_HTTP_TOO_MANY_REQUESTS;  // the client's limit, whatever cookie it sends
    }

    // only a pop-up this module offered to this visitor, lately, is recorded
    tailor::PopupTokenCheck token = tailor::check_popup_token(
        beacon.token, *ngx_http_tailor_keyring(r), ngx_http_tailor_view(ctx->vid), beacon.popup_id,
        static_cast<int64_t>(ngx_time()), static_cast<int64_t>(lcf->token_max_age));
    if (token.status != tailor::PopupTokenStatus::kValid) {
        return ngx_http_tailor_beacon_reject_token(r, NGX_HTTP_FORBIDDEN,
                                                   tailor::popup_token_status_name(token.status));
    }

    ctx->beacon_kind = static_cast<unsigned>(beacon.kind);
    ctx->beacon_popup.len = beacon.popup_id.size();
    ctx->beacon_popup.data = reinterpret_cast<u_char*>(const_cast<char*>(beacon.popup_id.data()));
    ctx->beacon_token.len = beacon.token.size();
    ctx->beacon_token.data = reinterpret_cast<u_char*>(const_cast<char*>(beacon.token.data()));
    ctx->deadline.handler = ngx_http_tailor_beacon_deadline;
    ctx->wake.handler = ngx_http_tailor_beacon_wake;

    if (!ngx_http_tailor_redis_ready(ngx_http_tailor_core_profile_redis()) ||
        !ngx_http_tailor_beacon_send(ctx, false)) {
        ngx_http_tailor_beacon_count(NGX_HTTP_TAILOR_BEACON_FAILED);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "tailor: pop-up beacon not recorded: Redis is not connected");
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ngx_add_timer(&ctx->deadline, lcf->beacon_timeout);
    r->main->count++;
    return NGX_DONE;
}

// Configuration.

ngx_http_core_loc_conf_t* ngx_http_tailor_popup_core_conf(ngx_conf_t* cf) noexcept {
    return static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
}

// rate=30r/m or rate=2r/s, like limit_req.
bool ngx_http_tailor_popup_parse_rate(ngx_str_t v, ngx_http_tailor_loc_conf_t* lcf) noexcept {
    if (v.len < 4 || v.data[v.len - 3] != 'r' || v.data[v.len - 2] != '/') {
        return false;
    }
    u_char unit = v.data[v.len - 1];
    if (unit != 'm' && unit != 's') {
        return false;
    }
    ngx_int_t n = ngx_atoi(v.data, v.len - 3);
    if (n == NGX_ERROR || n < 1 || n > 100000) {
        return false;
    }
    lcf->beacon_rate = static_cast<ngx_uint_t>(n);
    lcf->beacon_window = unit == 'm' ? 60 : 1;
    return true;
}

}  // namespace

char* ngx_http_tailor_popup_runtime_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    // an endpoint of the module, not a page to personalize
    static_cast<ngx_http_tailor_loc_conf_t*>(conf)->enable = 0;
    ngx_http_tailor_popup_core_conf(cf)->handler = ngx_http_tailor_popup_runtime_handler;
    return NGX_CONF_OK;
}

char* ngx_http_tailor_popup_beacon_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        ngx_str_t v = value[i];
        if (v.len > 5 && ngx_strncmp(v.data, "rate=", 5) == 0) {
            v.data += 5;
            v.len -= 5;
            if (!ngx_http_tailor_popup_parse_rate(v, lcf)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\" in \"tailor_popup_beacon\": expected "
                                   "N r/m or N r/s, e.g. rate=30r/m (1..100000)",
                                   &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
        } else if (v.len > 9 && ngx_strncmp(v.data, "caps_ttl=", 9) == 0) {
            v.data += 9;
            v.len -= 9;
            time_t ttl = ngx_parse_time(&v, 1);
            if (ttl == NGX_ERROR || ttl < 60 || ttl > 10 * 365 * 24 * 3600) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid caps_ttl \"%V\" in \"tailor_popup_beacon\": "
                                   "a time from 1m to 3650d, e.g. caps_ttl=365d",
                                   &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            lcf->caps_ttl = ttl;
        } else if (v.len > 8 && ngx_strncmp(v.data, "timeout=", 8) == 0) {
            v.data += 8;
            v.len -= 8;
            ngx_int_t ms = ngx_parse_time(&v, 0);
            if (ms == NGX_ERROR || ms < 1 || ms > 60000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\" in \"tailor_popup_beacon\": "
                                   "1ms to 60s, e.g. timeout=1s",
                                   &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            lcf->beacon_timeout = static_cast<ngx_msec_t>(ms);
        } else if (v.len > 14 && ngx_strncmp(v.data, "token_max_age=", 14) == 0) {
            v.data += 14;
            v.len -= 14;
            time_t age = ngx_parse_time(&v, 1);
            if (age == NGX_ERROR || age < kMinTokenMaxAge || age > kMaxTokenMaxAge) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid token_max_age \"%V\" in \"tailor_popup_beacon\": "
                                   "a time from 1m to 7d, e.g. token_max_age=6h",
                                   &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            lcf->token_max_age = age;
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"tailor_popup_beacon\" (known: "
                               "rate=, caps_ttl=, timeout=, token_max_age=)",
                               &value[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    lcf->enable = 0;  // an endpoint of the module, not a page to personalize
    ngx_http_tailor_conf_pos_set(cf, &lcf->beacon_pos);
    ngx_http_tailor_popup_core_conf(cf)->handler = ngx_http_tailor_popup_beacon_handler;
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));
    mcf->beacon_somewhere = 1;
    return NGX_CONF_OK;
}

char* ngx_http_tailor_popup_urls_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    if (lcf->popup_runtime_path.data != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    for (ngx_uint_t i = 1; i <= 2; i++) {
        if (value[i].len == 0 || value[i].data[0] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tailor_popup_urls\" takes two paths on this site, each "
                               "starting with \"/\", got \"%V\"",
                               &value[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    lcf->popup_runtime_path = value[1];
    lcf->popup_beacon_path = value[2];
    return NGX_CONF_OK;
}

void ngx_http_tailor_popup_init_loc_conf(ngx_http_tailor_loc_conf_t* lcf) noexcept {
    lcf->beacon_rate = NGX_CONF_UNSET_UINT;
    lcf->beacon_window = NGX_CONF_UNSET_UINT;
    lcf->caps_ttl = NGX_CONF_UNSET;
    lcf->beacon_timeout = NGX_CONF_UNSET_MSEC;
    lcf->token_max_age = NGX_CONF_UNSET;
}

void ngx_http_tailor_popup_merge_loc_conf(ngx_http_tailor_loc_conf_t* prev,
                                          ngx_http_tailor_loc_conf_t* conf) noexcept {
    if (conf->popup_runtime_path.data == nullptr) {
        conf->popup_runtime_path = prev->popup_runtime_path;
        conf->popup_beacon_path = prev->popup_beacon_path;
    }
    ngx_conf_merge_uint_value(conf->beacon_rate, prev->beacon_rate, kDefaultBeaconRate);
    ngx_conf_merge_uint_value(conf->beacon_window, prev->beacon_window, 60);
    ngx_conf_merge_value(conf->caps_ttl, prev->caps_ttl, kDefaultCapsTtl);
    ngx_conf_merge_msec_value(conf->beacon_timeout, prev->beacon_timeout, kDefaultBeaconTimeout);
    ngx_conf_merge_value(conf->token_max_age, prev->token_max_age,
                         static_cast<time_t>(tailor::kDefaultPopupTokenMaxAge));
}

void ngx_http_tailor_popup_sign(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                tailor::Decision& decision) noexcept {
    tailor::Keyring* keyring = ngx_http_tailor_keyring(r);
    if (decision.directives_html().empty() || keyring == nullptr) {
        return;
    }
    if (tailor::sign_popup_directives(decision, *keyring, ngx_http_tailor_view(ctx->vid),
                                      static_cast<int64_t>(ngx_time())) ==
        tailor::PopupDirectivesSigning::kDropped) {
        // the pop-up goes: its beacons could never be recorded, so nothing would cap it
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "tailor: could not sign the page's pop-up, not offering it");
    }
}
