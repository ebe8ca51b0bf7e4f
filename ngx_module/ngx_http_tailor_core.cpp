// The bridge to tailor_core at request time: nginx structures in, core calls, nginx answers
// out. Every personalization decision is a core function (consent_outcome, RequestFactsBuilder,
// decode_profile_reply, is_cacheable_outcome, decide_identify); these only translate.
#include "ngx_http_tailor_core.h"

#include <exception>
#include <optional>
#include <string_view>

#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/engine/engine.h"
#include "tailor/profile/cache.h"
#include "tailor/profile/read.h"
#include "tailor/request/cookie_header.h"
#include "tailor/request/facts_builder.h"

#include "tailor/visitor/consent_gate.h"
#include "tailor/visitor/identify.h"
#include "tailor/visitor/cookie_policy.h"
#include "tailor/visitor/keyring.h"
#include "tailor/visitor/visitor_id.h"

namespace {

ngx_int_t ngx_http_tailor_copy(ngx_pool_t* pool, std::string_view s, ngx_str_t* out) noexcept {
    out->len = s.size();
    out->data = static_cast<u_char*>(ngx_pnalloc(pool, s.size() + 1));
    if (out->data == nullptr) {
        out->len = 0;
        return NGX_ERROR;
    }
    ngx_memcpy(out->data, s.data(), s.size());
    out->data[s.size()] = '\0';
    return NGX_OK;
}

std::optional<std::string_view> ngx_http_tailor_request_cookie(ngx_http_request_t* r,
                                                               std::string_view name) noexcept {
    auto** cookies = static_cast<ngx_table_elt_t**>(r->headers_in.cookies.elts);
    for (ngx_uint_t i = 0; i < r->headers_in.cookies.nelts; i++) {
        auto value = tailor::find_cookie(ngx_http_tailor_view(cookies[i]), name);
        if (value) {
            return value;
        }
    }
    return std::nullopt;
}

// "name=value; Max-Age=...; Path=/; ..." in r->pool.
ngx_int_t ngx_http_tailor_set_cookie(ngx_http_request_t* r, ngx_http_tailor_loc_conf_t* lcf,
                                     std::string_view value, ngx_str_t* out) noexcept {
    const ngx_http_tailor_cookie_conf_t& c = lcf->cookie;
    static constexpr std::string_view kSameSite[] = {"; SameSite=Lax", "; SameSite=Strict",
                                                     "; SameSite=None", ""};

    size_t len = c.name.len + 1 + value.size() + sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN +
                 sizeof("; Path=") - 1 + c.path.len + sizeof("; Domain=") - 1 + c.domain.len +
                 sizeof("; Secure; HttpOnly; SameSite=Strict") - 1;

    auto* p = static_cast<u_char*>(ngx_pnalloc(r->pool, len));
    if (p == nullptr) {
        return NGX_ERROR;
    }
    out->data = p;

    p = ngx_cpymem(p, c.name.data, c.name.len);
    *p++ = '=';
    p = ngx_cpymem(p, value.data(), value.size());
    p = ngx_sprintf(p, "; Max-Age=%T", c.max_age);
    if (c.path.len) {
        p = ngx_sprintf(p, "; Path=%V", &c.path);
    }
    if (c.domain.len) {
        p = ngx_sprintf(p, "; Domain=%V", &c.domain);
    }
#if (NGX_HTTP_SSL)
    const bool https = r->connection->ssl != nullptr;
#else
    const bool https = false;
#endif
    if (tailor::visitor_cookie_secure(static_cast<tailor::CookieSecure>(c.secure), https)) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }
    if (c.httponly) {
        p = ngx_cpymem(p, "; HttpOnly", sizeof("; HttpOnly") - 1);
    }
    std::string_view samesite = kSameSite[c.samesite < 4 ? c.samesite : 3];
    p = ngx_cpymem(p, samesite.data(), samesite.size());

    out->len = static_cast<size_t>(p - out->data);
    return NGX_OK;
}

// Signs `vid` and prepares the cookie; ctx->vid becomes `vid`.
ngx_int_t ngx_http_tailor_issue(ngx_http_request_t* r, ngx_http_tailor_main_conf_t*,
                                ngx_http_tailor_loc_conf_t* lcf, ngx_http_tailor_ctx_t* ctx,
                                const tailor::VisitorId& vid) noexcept {
    std::optional<tailor::SignedVisitorId> signed_value =
        tailor::sign_visitor_id(vid, *ngx_http_tailor_keyring(r), static_cast<int64_t>(ngx_time()));
    if (!signed_value) {
        return NGX_ERROR;
    }
    if (ngx_http_tailor_copy(r->pool, vid.view(), &ctx->vid) != NGX_OK) {
        return NGX_ERROR;
    }
    return ngx_http_tailor_set_cookie(r, lcf, signed_value->view(), &ctx->set_cookie);
}

int64_t ngx_http_tailor_now_ms() noexcept {
    ngx_time_t* tp = ngx_timeofday();
    return static_cast<int64_t>(tp->sec) * 1000 + static_cast<int64_t>(tp->msec);
}

// Every Cookie header's value, in r->pool, for core's cookie lookups.
ngx_int_t ngx_http_tailor_cookie_headers(ngx_http_request_t* r,
                                         tailor::RequestView* view) noexcept {
    ngx_uint_t n = r->headers_in.cookies.nelts;
    if (n == 0) {
        return NGX_OK;
    }
    auto* values =
        static_cast<std::string_view*>(ngx_palloc(r->pool, n * sizeof(std::string_view)));
    if (values == nullptr) {
        return NGX_ERROR;
    }
    auto** cookies = static_cast<ngx_table_elt_t**>(r->headers_in.cookies.elts);
    for (ngx_uint_t i = 0; i < n; i++) {
        values[i] = ngx_http_tailor_view(cookies[i]);
    }
    view->cookie_headers = values;
    view->cookie_header_count = n;
    return NGX_OK;
}

// Runs the decision for `stored` and keeps it in the request.
tailor::Outcome ngx_http_tailor_decide(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                       const tailor::StoredView* stored) noexcept {
    auto* sscf = ngx_http_tailor_get_srv_conf(r);
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));

    auto* p = ngx_http_tailor_pool_own<tailor::Personalization>(r->pool);
    if (p == nullptr) {
        return tailor::Outcome::kError;
    }
    ctx->personalization = p;

    // what the request says about itself, as it came; the views live in r
    tailor::RequestView view;
    view.visitor_id = ngx_http_tailor_view(ctx->vid);
    view.now = static_cast<int64_t>(ngx_time());
    view.path = ngx_http_tailor_view(r->uri);
    view.query = ngx_http_tailor_view(r->args);
    view.referer = ngx_http_tailor_view(r->headers_in.referer);
    view.host = ngx_http_tailor_view(r->headers_in.server);
    view.user_agent = ngx_http_tailor_view(r->headers_in.user_agent);
    view.rule_cookie_names = lcf->rule_cookies;
    view.rule_cookie_name_count = lcf->rule_cookies_n;
    view.visitor_cookie_name = ngx_http_tailor_view(lcf->cookie.name);
    view.consent_personalization = true;  // the gate ran before
    view.popup_runtime_path = ngx_http_tailor_view(lcf->popup_runtime_path);
    view.popup_beacon_path = ngx_http_tailor_view(lcf->popup_beacon_path);

    if (lcf->rule_cookies_n > 0 && ngx_http_tailor_cookie_headers(r, &view) != NGX_OK) {
        return tailor::Outcome::kError;
    }
    ngx_str_t logged_in = ngx_null_string;
    if (lcf->logged_in != nullptr &&
        ngx_http_complex_value(r, lcf->logged_in, &logged_in) != NGX_OK) {
        return tailor::Outcome::kError;
    }
    view.logged_in = ngx_http_tailor_view(logged_in);

    tailor::RequestFactsBuilder facts(view);
    tailor::Outcome outcome = sscf->engine->decide(stored, facts.facts(), *p);
    ngx_http_tailor_popup_sign(r, ctx, p->decision());
    ngx_http_tailor_metrics_decision(r, sscf->engine, sscf->series, p);
    if (p->memo_hit()) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_RULE_MEMO_HITS);
    }
    return outcome;
}

}  // namespace

// True when an upstream produced this response for this request: not a file,
// not a proxy_cache (or fastcgi_cache, ...) copy, whether hit, stale,
// updating or revalidated by a 304.
bool ngx_http_tailor_fresh_from_upstream(ngx_http_request_t* r) noexcept {
    if (r->upstream == nullptr) {
        return false;
    }
#if (NGX_HTTP_CACHE)
    if (r->cached) {
        return false;
    }
    switch (r->upstream->cache_status) {
        case 0:  // no cache here
        case NGX_HTTP_CACHE_MISS:
        case NGX_HTTP_CACHE_BYPASS:
        case NGX_HTTP_CACHE_EXPIRED:
            return true;
        default:
            return false;
    }
#else
    return true;
#endif
}

// Access phase.

tailor::Outcome ngx_http_tailor_core_consent(ngx_http_request_t* r,
                                             ngx_http_tailor_loc_conf_t* lcf) noexcept {
    const ngx_http_tailor_consent_conf_t* consent = lcf->consent;

    tailor::ConsentGateInput in;
    in.sec_gpc = ngx_http_tailor_view(ngx_http_tailor_find_request_header(r, "sec-gpc"));
    in.user_agent = ngx_http_tailor_view(r->headers_in.user_agent);
    if (consent == nullptr) {
        return tailor::consent_outcome(in);
    }

    in.policy = consent->policy;
    in.honor_gpc = consent->honor_gpc;
    if (consent->value != nullptr) {
        ngx_str_t evaluated = ngx_null_string;
        if (ngx_http_complex_value(r, consent->value, &evaluated) == NGX_OK) {
            in.value = ngx_http_tailor_view(evaluated);
        }
    } else {
        std::string_view cookie = tailor::consent_cookie_name(consent->policy->source());
        in.value = cookie.empty()
                       ? std::string_view()
                       : ngx_http_tailor_request_cookie(r, cookie).value_or(std::string_view());
    }
    return tailor::consent_outcome(in);
}

ngx_int_t ngx_http_tailor_core_read_cookie(ngx_http_request_t* r, ngx_http_tailor_main_conf_t* mcf,
                                           ngx_http_tailor_loc_conf_t* lcf,
                                           ngx_http_tailor_ctx_t* ctx) noexcept {
    std::string_view headers[tailor::kMaxCookieHeaders];
    auto** cookies = static_cast<ngx_table_elt_t**>(r->headers_in.cookies.elts);
    size_t n = 0;
    for (ngx_uint_t i = 0; i < r->headers_in.cookies.nelts && n < tailor::kMaxCookieHeaders; i++) {
        headers[n++] = ngx_http_tailor_view(cookies[i]);
    }
    const bool more_headers = r->headers_in.cookies.nelts > n;

    tailor::VisitorCookieRead read = tailor::read_visitor_cookies(
        headers, n, ngx_http_tailor_view(lcf->cookie.name), *ngx_http_tailor_keyring(r),
        static_cast<int64_t>(ngx_time()), static_cast<int64_t>(lcf->cookie.max_age), more_headers);
    if (read.found == 0) {
        return NGX_DECLINED;
    }
    if (!read.vid) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_BAD_COOKIES);
        std::string_view why = read.conflict ? std::string_view("names two visitors")
                                             : tailor::visitor_cookie_status_name(read.status);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tailor: visitor cookie %*s, treating as a new visitor", why.size(),
                      why.data());
        return NGX_DECLINED;
    }
    if (read.resign) {
        // an older key or form: the same id under the current key, so the old one can retire
        return ngx_http_tailor_issue(r, mcf, lcf, ctx, *read.vid);
    }
    return ngx_http_tailor_copy(r->pool, read.vid->view(), &ctx->vid);
}

tailor::Outcome ngx_http_tailor_core_new_visitor(ngx_http_request_t* r,
                                                 ngx_http_tailor_main_conf_t* mcf,
                                                 ngx_http_tailor_loc_conf_t* lcf,
                                                 ngx_http_tailor_ctx_t* ctx) noexcept {
    std::optional<tailor::VisitorId> vid = tailor::VisitorId::generate();
    if (!vid || ngx_http_tailor_issue(r, mcf, lcf, ctx, *vid) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "tailor: could not issue a visitor id");
        return tailor::Outcome::kError;
    }
    (void)ngx_http_tailor_decide(r, ctx, nullptr);
    return tailor::Outcome::kNewVisitor;
}

bool ngx_http_tailor_core_personalize_cached(ngx_http_request_t* r,
                                             ngx_http_tailor_ctx_t* ctx) noexcept {
    tailor::ProfileCache* cache = ngx_http_tailor_core_cache();
    if (cache == nullptr) {
        return false;
    }
    const tailor::StoredVisitor* stored =
        cache->get(ngx_http_tailor_view(ctx->vid), ngx_http_tailor_now_ms());
    if (stored == nullptr) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_CACHE_MISSES);
        return false;
    }
    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_CACHE_HITS);
    const tailor::StoredView view = stored->view();
    (void)ngx_http_tailor_decide(r, ctx, &view);
    return true;
}

tailor::Outcome ngx_http_tailor_core_personalize_reply(ngx_http_request_t* r,
                                                       ngx_http_tailor_ctx_t* ctx,
                                                       const tailor::ProfileReplyElement* elements,
                                                       size_t count) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_module));

    try {
        tailor::ProfileReply read = tailor::decode_profile_reply(elements, count, mcf->max_profile);
        if (read.status == tailor::ProfileReply::Status::kOversize) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "tailor: a value of visitor \"%V\" is over tailor_max_profile "
                          "(%uz bytes); not read",
                          &ctx->vid, mcf->max_profile);
            return tailor::Outcome::kBadProfile;
        }
        if (read.status == tailor::ProfileReply::Status::kRedisError) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "tailor: redis answered \"%*s\" to the visitor read", read.why.size(),
                          read.why.data());
            return tailor::Outcome::kError;
        }
        if (read.status != tailor::ProfileReply::Status::kOk) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "tailor: %*s", read.why.size(),
                          read.why.data());
            return tailor::Outcome::kError;
        }

        tailor::Outcome outcome = ngx_http_tailor_decide(r, ctx, &read.stored);

        tailor::ProfileCache* cache = ngx_http_tailor_core_cache();
        if (cache != nullptr && tailor::is_cacheable_outcome(outcome)) {
            cache->put(ngx_http_tailor_view(ctx->vid), tailor::StoredVisitor::copy_of(read.stored),
                       ngx_http_tailor_now_ms());
        }
        return outcome;

    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "tailor: %s", e.what());
        return tailor::Outcome::kError;
    }
}

bool ngx_http_tailor_core_changes_page(tailor::Personalization* p) noexcept {
    return p != nullptr && p->decision().changes_page();
}

std::string_view ngx_http_tailor_core_segment(tailor::Personalization* p) noexcept {
    if (p == nullptr) {
        return {};
    }
    return p->decision().variable("segment").value_or(std::string_view());
}

// Header filter.

ngx_int_t ngx_http_tailor_core_identify(ngx_http_request_t* r, ngx_http_tailor_main_conf_t* mcf,
                                        ngx_http_tailor_loc_conf_t* lcf,
                                        ngx_http_tailor_ctx_t* ctx) noexcept {
    // hidden from the client whatever happens next
    const ngx_table_elt_t* h = ngx_http_tailor_find_header(
        &r->headers_out.headers, ngx_http_tailor_identify_name(mcf), true);
    if (h == nullptr) {
        return NGX_OK;
    }

    tailor::IdentifyInput in;
    in.fresh = ngx_http_tailor_fresh_from_upstream(r);
    in.outcome = ctx->outcome;
    in.header = ngx_http_tailor_view(h->value);
    in.current_vid = ngx_http_tailor_view(ctx->vid);
    in.cookie_pending = ctx->set_cookie.len != 0;
    tailor::IdentifyDecision d = tailor::decide_identify(in);

    switch (d.action) {
        case tailor::IdentifyAction::kIgnore:
            return NGX_OK;
        case tailor::IdentifyAction::kInvalid:
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "tailor: upstream sent an invalid \"%V\" value, ignored",
                          &mcf->identify_header);
            return NGX_OK;
        case tailor::IdentifyAction::kForget: {
            // logout: a fresh anonymous id, nothing linking it to the old one, default page
            std::optional<tailor::VisitorId> fresh = tailor::VisitorId::generate();
            if (!fresh || ngx_http_tailor_issue(r, mcf, lcf, ctx, *fresh) != NGX_OK) {
                return NGX_ERROR;
            }
            ctx->personalization = nullptr;  // the pool cleanup still owns it
            return NGX_OK;
        }
        case tailor::IdentifyAction::kLink:
            break;
    }

    ngx_str_t previous = ctx->vid;
    if (ngx_http_tailor_issue(r, mcf, lcf, ctx, *d.known) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->previous_vid = previous;
    ctx->identified = 1;
    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_IDENTIFY_LINKS);
    // the link of two ids is personal data: debug level only, never in a production log
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "tailor: visitor \"%V\" identified as \"%V\"", &previous, &ctx->vid);
    return NGX_OK;
}

void ngx_http_tailor_core_adopt_cookie(ngx_http_request_t* r, ngx_http_tailor_loc_conf_t* lcf,
                                       ngx_http_tailor_ctx_t* ctx,
                                       const ngx_str_t& set_cookie) noexcept {
    ctx->set_cookie.len = 0;

    // "name=value; attributes": the value is what the client sends back
    std::string_view v = ngx_http_tailor_view(set_cookie).substr(lcf->cookie.name.len + 1);
    v = v.substr(0, v.find(';'));
    tailor::VisitorCookieCheck check = tailor::check_visitor_cookie(v, *ngx_http_tailor_keyring(r));
    if (check.status != tailor::VisitorCookieStatus::kValid || !check.vid) {
        // another tier's keys: its cookie still wins, this tier cannot read it
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tailor: the upstream sets a visitor cookie this server cannot verify");
        return;
    }
    ngx_str_t vid;
    if (ngx_http_tailor_copy(r->pool, check.vid->view(), &vid) == NGX_OK) {
        ctx->vid = vid;
    }
}

// Body filter.

ngx_int_t ngx_http_tailor_core_start_rewrite(ngx_http_request_t* r,
                                             ngx_http_tailor_ctx_t* ctx) noexcept {
    if (ctx->personalization == nullptr) {
        return NGX_DECLINED;
    }
    try {
        ctx->personalization->start_rewrite();
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "tailor: %s", e.what());
        return NGX_ERROR;
    }
    return NGX_OK;
}

void ngx_http_tailor_core_rewrite(ngx_http_tailor_ctx_t* ctx, const u_char* p, size_t n,
                                  ngx_http_tailor_sink_pt sink, void* data) noexcept {
    ctx->personalization->rewrite(std::string_view(reinterpret_cast<const char*>(p), n), sink,
                                  data);
}

void ngx_http_tailor_core_rewrite_finish(ngx_http_request_t*, ngx_http_tailor_ctx_t* ctx,
                                         ngx_http_tailor_sink_pt sink, void* data) noexcept {
    tailor::RewriteStats stats = ctx->personalization->finish_rewrite(sink, data);
    if (stats.slots_filled > 0) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_SLOTS_FILLED,
                                      static_cast<ngx_atomic_int_t>(stats.slots_filled));
    }
    if (stats.bailouts > 0) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_REWRITER_BAILOUTS,
                                      static_cast<ngx_atomic_int_t>(stats.bailouts));
    }
}

bool ngx_http_tailor_core_rewrite_holding(ngx_http_tailor_ctx_t* ctx) noexcept {
    return ctx->personalization->holding();
}
