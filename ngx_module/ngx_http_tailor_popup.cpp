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

constexpr time_t kRuntimeMaxAge = 365 * 24 * 3600;  // a versioned URL never changes
constexpr time_t kUnversionedMaxAge = 300;

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

}  // namespace

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

namespace {

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
    const ngx_table_elt_t* site = ngx_http_tailor_find_request_header(r, "sec-fetch-site");
    const ngx_table_elt_t* origin = ngx_http_tailor_find_request_header(r, "origin");
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

}  // namespace

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
