// The access phase: consent gate, visitor cookie, then the profile from Redis without blocking.
//
// Shaped like auth_request: the first call starts the work and returns
// NGX_AGAIN; the Redis reply or the deadline records the outcome and posts the
// request's wake event; the re-entered handler returns NGX_DECLINED, whatever
// the outcome (fail open: NGX_OK would mean "access granted" under satisfy any).
#include "ngx_http_tailor.h"

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_limit.h"
#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_redis.h"

namespace {

void ngx_http_tailor_ctx_cleanup(void* data) noexcept;
void ngx_http_tailor_deadline_handler(ngx_event_t* ev) noexcept;
void ngx_http_tailor_wake_handler(ngx_event_t* ev) noexcept;

void ngx_http_tailor_ctx_cleanup(void* data) noexcept {
    auto* ctx = static_cast<ngx_http_tailor_ctx_t*>(data);

    if (ctx->op != nullptr) {
        ngx_http_tailor_redis_cancel(ctx->op);
        ctx->op = nullptr;
    }

    ngx_http_tailor_read_cancel(ctx);

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    if (ctx->wake.posted) {
        ngx_delete_posted_event(&ctx->wake);
    }
}

// Records why the visitor gets the page they get; called exactly once.
void ngx_http_tailor_finish(ngx_http_tailor_ctx_t* ctx, tailor::Outcome outcome) noexcept {
    ctx->outcome = outcome;
    ctx->done = 1;
    ngx_http_tailor_metrics_outcome(outcome);

    ngx_http_request_t* r = ctx->request;
    if (ngx_http_tailor_core_changes_page(ctx->personalization)) {
        // An upstream would answer a conditional or range request for the
        // page with a 304 or 206 of the generic page, which cannot be
        // rewritten; the personalized page has no validators of its own. The
        // client's are held until the header filter knows the response: given
        // back to nginx when it is not rewritten (static files and cache hits
        // then behave exactly as without Tailor), dropped when it is.
        ngx_http_tailor_hold_validators(r, &ctx->held);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "tailor: outcome \"%s\" vid \"%V\"",
                   tailor::outcome_name(outcome).data(), &ctx->vid);
}

void ngx_http_tailor_resume(ngx_http_tailor_ctx_t* ctx) noexcept {
    if (!ctx->wake.posted) {
        ngx_post_event(&ctx->wake, &ngx_posted_events);
    }
}

void ngx_http_tailor_deadline_handler(ngx_event_t* ev) noexcept {
    auto* ctx = static_cast<ngx_http_tailor_ctx_t*>(ev->data);

    ngx_http_tailor_read_cancel(ctx);

    ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                  "tailor: profile not read within %M ms, serving the default page",
                  static_cast<ngx_msec_t>(ngx_current_msec - ctx->started));

    ngx_http_tailor_finish(ctx, tailor::Outcome::kTimeout);
    ngx_http_tailor_resume(ctx);
}

void ngx_http_tailor_wake_handler(ngx_event_t* ev) noexcept {
    auto* ctx = static_cast<ngx_http_tailor_ctx_t*>(ev->data);
    ngx_http_request_t* r = ctx->request;
    ngx_connection_t* c = r->connection;

    ngx_http_set_log_request(c->log, r);
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}

// Sends the read; false when Redis is not there to ask (fail open at once).
bool ngx_http_tailor_fetch(ngx_http_tailor_ctx_t* ctx, ngx_http_tailor_loc_conf_t* lcf) noexcept {
    ngx_http_tailor_redis_t* redis = ngx_http_tailor_core_profile_redis();
    if (redis == nullptr || !ngx_http_tailor_redis_ready(redis)) {
        return false;
    }

    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(ctx->request, ngx_http_tailor_module));

    if (!ngx_http_tailor_read_send(ctx, mcf->max_profile)) {
        return false;
    }

    ctx->started = ngx_current_msec;
    ngx_add_timer(&ctx->deadline, lcf->timeout);
    return true;
}

}  // namespace

// Runs inside hiredis: only record and post; the phases run from the wake event.
void ngx_http_tailor_read_done(ngx_http_tailor_ctx_t* ctx, tailor::Outcome outcome,
                               uint64_t elapsed_us) noexcept {
    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    ngx_http_tailor_metrics_latency(elapsed_us);

    ngx_http_tailor_finish(ctx, outcome);
    ngx_http_tailor_resume(ctx);
}

ngx_http_tailor_ctx_t* ngx_http_tailor_create_ctx(ngx_http_request_t* r) noexcept {
    auto* ctx =
        static_cast<ngx_http_tailor_ctx_t*>(ngx_pcalloc(r->pool, sizeof(ngx_http_tailor_ctx_t)));
    if (ctx == nullptr) {
        return nullptr;
    }

    // The cleanup both detaches what may still call back into this request
    // and marks the ctx so it can be found again after an internal redirect,
    // which wipes r->ctx (nginx-otel does the same).
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == nullptr) {
        return nullptr;
    }
    cln->handler = ngx_http_tailor_ctx_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ctx->outcome = tailor::Outcome::kNone;
    ctx->last_out = &ctx->out;

    ctx->deadline.handler = ngx_http_tailor_deadline_handler;
    ctx->deadline.data = ctx;
    // not cancelable: a worker shutting down gracefully must wait for the
    // requests parked here, or it exits under them
    ctx->deadline.log = r->connection->log;

    ctx->wake.handler = ngx_http_tailor_wake_handler;
    ctx->wake.data = ctx;
    ctx->wake.log = r->connection->log;

    ngx_http_set_ctx(r, ctx, ngx_http_tailor_module);
    return ctx;
}

namespace {

// The ctx of a request an internal redirect took to another location. Where that location has
// `tailor off`, the response is nginx's alone, as sub_filter or add_header follow the location
// that answers: no rewrite, no cookie, no event, no $tailor_* value. The client's validators,
// held since the access phase, go back to nginx (a 304 or a 206 as without Tailor), and the
// ctx stays unset, so every later lookup in this location finds nothing. The access phase
// looks it up first, so an upstream there gets the validators too.
ngx_http_tailor_ctx_t* ngx_http_tailor_redirected_ctx(ngx_http_request_t* r,
                                                      ngx_http_tailor_ctx_t* ctx) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));
    if (!lcf->enable) {
        ngx_http_tailor_give_back_validators(r, &ctx->held);
        return nullptr;
    }
    ngx_http_set_ctx(r, ctx, ngx_http_tailor_module);
    return ctx;
}

}  // namespace

ngx_http_tailor_ctx_t* ngx_http_tailor_get_ctx(ngx_http_request_t* r) noexcept {
    auto* ctx =
        static_cast<ngx_http_tailor_ctx_t*>(ngx_http_get_module_ctx(r, ngx_http_tailor_module));
    if (ctx != nullptr || !r->internal) {
        return ctx;
    }

    // An internal redirect (index, try_files, error_page) zeroed r->ctx; the
    // pool cleanup still knows this request's ctx.
    for (ngx_pool_cleanup_t* cln = r->pool->cleanup; cln != nullptr; cln = cln->next) {
        if (cln->handler == ngx_http_tailor_ctx_cleanup) {
            ctx = static_cast<ngx_http_tailor_ctx_t*>(cln->data);
            if (ctx->request == r) {
                return ngx_http_tailor_redirected_ctx(r, ctx);
            }
        }
    }
    return nullptr;
}

ngx_int_t ngx_http_tailor_access_handler(ngx_http_request_t* r) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));

    if (!lcf->enable || r != r->main) {
        if (r == r->main && r->internal) {
            // redirected here from a location with tailor on: what its access phase held goes
            // back before this location's content handler reads the request
            (void)ngx_http_tailor_get_ctx(r);
        }
        return NGX_DECLINED;
    }

    ngx_http_tailor_ctx_t* ctx = ngx_http_tailor_get_ctx(r);
    if (ctx != nullptr) {
        // re-entered: by our wake event, or spuriously by a write event
        return ctx->done ? NGX_DECLINED : NGX_AGAIN;
    }

    ctx = ngx_http_tailor_create_ctx(r);
    if (ctx == nullptr) {
        return NGX_DECLINED;
    }

    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_REQUESTS);

    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_module));

    tailor::Outcome gate = ngx_http_tailor_core_consent(r, lcf);
    if (gate != tailor::Outcome::kNone) {
        ngx_http_tailor_finish(ctx, gate);
        return NGX_DECLINED;
    }

    if (ngx_http_tailor_core_read_cookie(r, mcf, lcf, ctx) != NGX_OK) {
        // no valid cookie: a new visitor, who has no profile to read yet
        if (ngx_http_tailor_limit_new_id(r) != NGX_OK) {
            // the client mints too many: the default page, no id, nothing written
            ngx_http_tailor_finish(ctx, tailor::Outcome::kLimited);
            return NGX_DECLINED;
        }
        tailor::Outcome outcome = ngx_http_tailor_core_new_visitor(r, mcf, lcf, ctx);
        ngx_http_tailor_finish(ctx, outcome);
        return NGX_DECLINED;
    }

    if (ngx_http_tailor_core_personalize_cached(r, ctx)) {
        ngx_http_tailor_finish(ctx, tailor::Outcome::kCached);
        return NGX_DECLINED;
    }

    if (!ngx_http_tailor_fetch(ctx, lcf)) {
        ngx_http_tailor_finish(ctx, tailor::Outcome::kDown);
        return NGX_DECLINED;
    }

    return NGX_AGAIN;
}

ngx_int_t ngx_http_tailor_post_read_handler(ngx_http_request_t* r) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_module));

    // only the upstream's own response may name the visitor or declare an
    // event; a client that sends such a header must not reach a backend that
    // might echo or trust it
    if (ngx_http_tailor_drop_request_headers(r, mcf->internal_headers) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return NGX_DECLINED;
}
