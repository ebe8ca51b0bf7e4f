// The bridge to tailor_core: translates nginx requests into core calls and core answers back.
#include "ngx_http_tailor_core.h"

#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/visitor/consent.h"
#include "tailor/request/cookie_header.h"
#include "tailor/request/device_class.h"
#include "tailor/engine/engine.h"
#include "tailor/visitor/keyring.h"
#include "tailor/profile/cache.h"
#include "tailor/request/referrer.h"
#include "tailor/rules/compile.h"
#include "tailor/visitor/visitor_id.h"

namespace {

// Per worker: set in init_process, gone in exit_process.
ngx_http_tailor_redis_t* ngx_http_tailor_profile_redis;
tailor::ProfileCache* ngx_http_tailor_cache;

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

// Owns a C++ object for as long as `pool` lives (a cycle's or a request's).
template <typename T>
T* ngx_http_tailor_pool_own(ngx_pool_t* pool, T&& value) noexcept {
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(pool, sizeof(T));
    if (cln == nullptr) {
        return nullptr;
    }
    T* object = new (cln->data) T(std::move(value));
    cln->handler = [](void* data) { static_cast<T*>(data)->~T(); };
    return object;
}

template <typename T>
T* ngx_http_tailor_pool_make(ngx_pool_t* pool) noexcept {
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(pool, sizeof(T));
    if (cln == nullptr) {
        return nullptr;
    }
    T* object = new (cln->data) T();
    cln->handler = [](void* data) { static_cast<T*>(data)->~T(); };
    return object;
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
    if (c.secure) {
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
ngx_int_t ngx_http_tailor_issue(ngx_http_request_t* r, ngx_http_tailor_main_conf_t* mcf,
                                ngx_http_tailor_loc_conf_t* lcf, ngx_http_tailor_ctx_t* ctx,
                                const tailor::VisitorId& vid) noexcept {
    std::optional<tailor::SignedVisitorId> signed_value =
        tailor::sign_visitor_id(vid, *mcf->keyring);
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

// Runs the decision for `stored` and keeps it in the request.
tailor::Outcome ngx_http_tailor_decide(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                       const tailor::StoredVisitor* stored) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_module));

    auto* p = ngx_http_tailor_pool_make<tailor::Personalization>(r->pool);
    if (p == nullptr) {
        return tailor::Outcome::kError;
    }
    ctx->personalization = p;

    // what the request says about itself; the views live in r and on this stack
    tailor::Attribution attribution = tailor::attribution_from_request(
        ngx_http_tailor_view(r->args), ngx_http_tailor_view(r->headers_in.referer),
        ngx_http_tailor_view(r->headers_in.server));
    tailor::RequestFacts facts;
    facts.visitor_id = ngx_http_tailor_view(ctx->vid);
    facts.now = static_cast<int64_t>(ngx_time());
    facts.path = ngx_http_tailor_view(r->uri);
    facts.query = ngx_http_tailor_view(r->args);
    facts.referrer_source = attribution.has_utm()
                                ? attribution.utm_source()
                                : tailor::referrer_class_name(attribution.referrer_class());
    facts.device_class = tailor::device_class_name(
        tailor::classify_device(ngx_http_tailor_view(r->headers_in.user_agent)));
    facts.consent_personalization = true;  // the gate ran before
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));
    facts.popup_runtime_path = ngx_http_tailor_view(lcf->popup_runtime_path);
    facts.popup_beacon_path = ngx_http_tailor_view(lcf->popup_beacon_path);

    tailor::Outcome outcome = mcf->engine->decide(stored, facts, *p);
    if (p->failed_rules() > 0) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_DECISION_ERRORS,
                                      static_cast<ngx_atomic_int_t>(p->failed_rules()));
    }
    return outcome;
}

}  // namespace

const ngx_table_elt_t* ngx_http_tailor_find_header(ngx_list_t* headers, std::string_view lowcase,
                                                   bool hide) noexcept {
    ngx_list_part_t* part = &headers->part;
    auto* h = static_cast<ngx_table_elt_t*>(part->elts);
    const ngx_table_elt_t* found = nullptr;

    for (ngx_uint_t i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == nullptr) {
                break;
            }
            part = part->next;
            h = static_cast<ngx_table_elt_t*>(part->elts);
            i = 0;
        }
        if (h[i].hash == 0 || h[i].key.len != lowcase.size()) {
            continue;
        }
        if (ngx_strncasecmp(h[i].key.data,
                            reinterpret_cast<u_char*>(const_cast<char*>(lowcase.data())),
                            lowcase.size()) != 0) {
            continue;
        }
        if (found == nullptr) {
            found = &h[i];
        }
        if (!hide) {
            break;
        }
        h[i].hash = 0;
    }
    return found;
}

// Configuration.

char* ngx_http_tailor_core_create(ngx_conf_t* cf, ngx_http_tailor_main_conf_t* mcf) noexcept {
    try {
        tailor::EngineOptions options;
        options.max_profile_bytes = mcf->max_profile;
        std::optional<tailor::RulePack> rules;
        if (mcf->rules != nullptr) {
            rules = std::move(*mcf->rules);
            mcf->rules = nullptr;
        }
        mcf->engine = ngx_http_tailor_pool_own(cf->pool, tailor::Engine(options, std::move(rules)));
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "tailor: %s", e.what());
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return mcf->engine != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

char* ngx_http_tailor_core_compile_rules(ngx_conf_t* cf, ngx_http_tailor_main_conf_t* mcf,
                                         ngx_str_t* files, ngx_uint_t n) noexcept {
    tailor::RulesError error;
    std::optional<tailor::RulePack> pack;
    try {
        std::vector<std::string> paths;
        for (ngx_uint_t i = 0; i < n; i++) {
            paths.emplace_back(reinterpret_cast<const char*>(files[i].data), files[i].len);
        }
        tailor::RulePackOptions options;
        options.kit_path = tailor::default_kit_path();
        pack = tailor::compile_rule_pack_files(paths, options, &error);
    } catch (const std::exception& e) {
        error.reason = e.what();
    }

    if (!pack) {
        // the pack's own file and line first: that is where the marketer looks
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_rules\": %s", error.message().c_str());
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    mcf->rules = ngx_http_tailor_pool_own(cf->pool, std::move(*pack));
    return mcf->rules != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

char* ngx_http_tailor_core_load_keys(ngx_conf_t* cf, ngx_http_tailor_main_conf_t* mcf) noexcept {
    tailor::KeyringError error;
    std::optional<tailor::Keyring> keyring;
    try {
        keyring = tailor::Keyring::load_file(
            std::string(reinterpret_cast<const char*>(mcf->keys_file.data), mcf->keys_file.len),
            &error);
    } catch (const std::exception& e) {
        error.message = e.what();
    }

    if (!keyring) {
        if (error.line != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_keys\" file \"%V\", line %uz: %s",
                               &mcf->keys_file, error.line, error.message.c_str());
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_keys\" file \"%V\": %s",
                               &mcf->keys_file, error.message.c_str());
        }
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    mcf->keyring = ngx_http_tailor_pool_own(cf->pool, std::move(*keyring));
    return mcf->keyring != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

char* ngx_http_tailor_core_parse_consent(ngx_conf_t* cf,
                                         ngx_http_tailor_consent_conf_t* consent) noexcept {
    std::string_view spec = ngx_http_tailor_view(consent->spec);

    if (spec.substr(0, 9) == "variable:") {
        ngx_str_t value = {spec.size() - 9, consent->spec.data + 9};
        if (value.len == 0 || value.data[0] != '$') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tailor_consent variable:\" needs a variable, as in "
                               "variable:$consent");
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        auto* cv = static_cast<ngx_http_complex_value_t*>(
            ngx_pcalloc(cf->pool, sizeof(ngx_http_complex_value_t)));
        if (cv == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        ngx_http_compile_complex_value_t ccv;
        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value;
        ccv.complex_value = cv;
        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        consent->value = cv;
    }

    // core knows the source; the variable itself is nginx's business
    std::string_view source = consent->value != nullptr ? std::string_view("variable") : spec;
    std::string error;
    std::optional<tailor::ConsentPolicy> policy = tailor::parse_consent_policy(source, &error);
    if (!policy) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid \"tailor_consent\" \"%V\": %s",
                           &consent->spec, error.c_str());
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    consent->policy = ngx_http_tailor_pool_own(cf->pool, std::move(*policy));
    return consent->policy != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

// Workers.

ngx_int_t ngx_http_tailor_core_init_worker(ngx_cycle_t* cycle,
                                           ngx_http_tailor_main_conf_t* mcf) noexcept {
    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }
    if (!mcf->enabled_somewhere && !mcf->beacon_somewhere) {
        return NGX_OK;
    }

    tailor::RulesError error;
    if (!mcf->engine->start_worker(&error)) {
        ngx_log_error(
            NGX_LOG_ALERT, cycle->log, 0,
            "tailor: rule pack could not be loaded in this worker, pages stay default: %s",
            error.message().c_str());
    }

    if (mcf->redis != nullptr) {
        ngx_http_tailor_profile_redis = ngx_http_tailor_redis_create(
            cycle, mcf->redis, "profile", ngx_http_tailor_metrics_redis_slot());
    }

    if (mcf->cache_size > 0) {
        ngx_http_tailor_cache = new (std::nothrow)
            tailor::ProfileCache(mcf->cache_size, static_cast<int64_t>(mcf->cache_ttl));
    }
    return NGX_OK;
}

void ngx_http_tailor_core_forget_visitor(const ngx_str_t& vid) noexcept {
    if (ngx_http_tailor_cache != nullptr) {
        ngx_http_tailor_cache->erase(ngx_http_tailor_view(vid));
    }
}

void ngx_http_tailor_core_exit_worker(ngx_cycle_t*, ngx_http_tailor_main_conf_t*) noexcept {
    ngx_http_tailor_redis_destroy(ngx_http_tailor_profile_redis);
    ngx_http_tailor_profile_redis = nullptr;
    delete ngx_http_tailor_cache;
    ngx_http_tailor_cache = nullptr;
}

ngx_http_tailor_redis_t* ngx_http_tailor_core_profile_redis() noexcept {
    return ngx_http_tailor_profile_redis;
}

// Access phase.

tailor::Outcome ngx_http_tailor_core_consent(ngx_http_request_t* r,
                                             ngx_http_tailor_loc_conf_t* lcf) noexcept {
    const ngx_http_tailor_consent_conf_t* consent = lcf->consent;
    bool honor_gpc = consent == nullptr || consent->honor_gpc;

    bool gpc = false;
    if (honor_gpc) {
        const ngx_table_elt_t* h =
            ngx_http_tailor_find_header(&r->headers_in.headers, "sec-gpc", false);
        gpc = h != nullptr && tailor::is_gpc_opt_out(ngx_http_tailor_view(h->value));
    }
    if (gpc) {
        return tailor::Outcome::kGpc;
    }
    if (consent == nullptr) {
        return tailor::Outcome::kNone;
    }

    std::string_view value;
    ngx_str_t evaluated = ngx_null_string;
    if (consent->value != nullptr) {
        if (ngx_http_complex_value(r, consent->value, &evaluated) != NGX_OK) {
            return tailor::Outcome::kNoConsent;
        }
        value = ngx_http_tailor_view(evaluated);
    } else {
        std::string_view cookie = tailor::consent_cookie_name(consent->policy->source());
        if (!cookie.empty()) {
            value = ngx_http_tailor_request_cookie(r, cookie).value_or(std::string_view());
        }
    }

    switch (tailor::decide_consent(*consent->policy, false, value)) {
        case tailor::ConsentDecision::kAllowed:
            return tailor::Outcome::kNone;
        case tailor::ConsentDecision::kGpcOptOut:
            return tailor::Outcome::kGpc;
        case tailor::ConsentDecision::kNoConsent:
            break;
    }
    return tailor::Outcome::kNoConsent;
}

ngx_int_t ngx_http_tailor_core_read_cookie(ngx_http_request_t* r, ngx_http_tailor_main_conf_t* mcf,
                                           ngx_http_tailor_loc_conf_t* lcf,
                                           ngx_http_tailor_ctx_t* ctx) noexcept {
    std::optional<std::string_view> value =
        ngx_http_tailor_request_cookie(r, ngx_http_tailor_view(lcf->cookie.name));
    if (!value) {
        return NGX_DECLINED;
    }

    tailor::VisitorCookieCheck check = tailor::check_visitor_cookie(*value, *mcf->keyring);
    if (check.status != tailor::VisitorCookieStatus::kValid || !check.vid) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_BAD_COOKIES);
        std::string_view why = tailor::visitor_cookie_status_name(check.status);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tailor: visitor cookie %*s, treating as a new visitor", why.size(),
                      why.data());
        return NGX_DECLINED;
    }

    return ngx_http_tailor_copy(r->pool, check.vid->view(), &ctx->vid);
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

bool ngx_http_tailor_core_personalize_cached(ngx_http_request_t* r, ngx_http_tailor_main_conf_t*,
                                             ngx_http_tailor_ctx_t* ctx) noexcept {
    if (ngx_http_tailor_cache == nullptr) {
        return false;
    }
    const tailor::StoredVisitor* stored =
        ngx_http_tailor_cache->get(ngx_http_tailor_view(ctx->vid), ngx_http_tailor_now_ms());
    if (stored == nullptr) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_CACHE_MISSES);
        return false;
    }
    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_CACHE_HITS);
    (void)ngx_http_tailor_decide(r, ctx, stored);
    return true;
}

tailor::Outcome ngx_http_tailor_core_personalize_reply(ngx_http_request_t* r,
                                                       ngx_http_tailor_ctx_t* ctx,
                                                       const redisReply* reply) noexcept {
    if (reply == nullptr) {
        return tailor::Outcome::kError;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "tailor: redis answered \"%*s\"",
                      static_cast<size_t>(reply->len), reply->str);
        return tailor::Outcome::kError;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "tailor: unexpected redis reply type %d to MGET", reply->type);
        return tailor::Outcome::kError;
    }

    try {
        tailor::StoredVisitor stored;
        tailor::StoredBlob* blobs[] = {&stored.profile, &stored.live, &stored.caps};
        for (size_t i = 0; i < 3; i++) {
            const redisReply* e = reply->element[i];
            if (e->type == REDIS_REPLY_NIL) {
                continue;
            }
            if (e->type != REDIS_REPLY_STRING) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "tailor: unexpected redis reply element type %d", e->type);
                return tailor::Outcome::kError;
            }
            blobs[i]->present = true;
            blobs[i]->bytes.assign(e->str, e->len);
        }

        tailor::Outcome outcome = ngx_http_tailor_decide(r, ctx, &stored);

        if (ngx_http_tailor_cache != nullptr && outcome == tailor::Outcome::kHit) {
            ngx_http_tailor_cache->put(ngx_http_tailor_view(ctx->vid), std::move(stored),
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

void ngx_http_tailor_core_drop_validators(ngx_http_request_t* r) noexcept {
    ngx_table_elt_t** validators[] = {&r->headers_in.if_none_match,
                                      &r->headers_in.if_modified_since, &r->headers_in.range,
                                      &r->headers_in.if_range};
    bool any = false;
    for (ngx_table_elt_t** v : validators) {
        any = any || *v != nullptr;
    }
    if (!any) {
        return;
    }

    // The list that proxy_pass and friends forward is rebuilt without them;
    // shortcut pointers into the old list stay valid (same pool, unchanged).
    // ngx_list_t points into itself (last == &part), so it is rebuilt in place
    // and read from a copy of the old head.
    ngx_list_t old = r->headers_in.headers;
    if (ngx_list_init(&r->headers_in.headers, r->pool, old.nalloc, sizeof(ngx_table_elt_t)) !=
        NGX_OK) {
        r->headers_in.headers = old;
        return;
    }

    ngx_list_part_t* part = &old.part;
    auto* h = static_cast<ngx_table_elt_t*>(part->elts);
    for (ngx_uint_t i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == nullptr) {
                break;
            }
            part = part->next;
            h = static_cast<ngx_table_elt_t*>(part->elts);
            i = 0;
        }
        bool dropped = false;
        for (ngx_table_elt_t** v : validators) {
            dropped = dropped || *v == &h[i];
        }
        if (dropped) {
            continue;
        }
        auto* copy = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_in.headers));
        if (copy == nullptr) {
            r->headers_in.headers = old;
            return;
        }
        *copy = h[i];
    }

    for (ngx_table_elt_t** v : validators) {
        *v = nullptr;
    }
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
    std::string_view name(reinterpret_cast<const char*>(mcf->identify_lowcase),
                          mcf->identify_header.len);
    // hidden from the client whatever happens next
    const ngx_table_elt_t* h = ngx_http_tailor_find_header(&r->headers_out.headers, name, true);
    if (h == nullptr) {
        return NGX_OK;
    }

    if (ctx->outcome == tailor::Outcome::kGpc || ctx->outcome == tailor::Outcome::kNoConsent) {
        return NGX_OK;
    }

    std::optional<tailor::VisitorId> known =
        tailor::VisitorId::from_string(ngx_http_tailor_view(h->value));
    if (!known) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "tailor: upstream sent an invalid \"%V\" value, ignored",
                      &mcf->identify_header);
        return NGX_OK;
    }

    if (known->view() == ngx_http_tailor_view(ctx->vid) && ctx->set_cookie.len == 0) {
        return NGX_OK;
    }

    ngx_str_t previous = ctx->vid;
    if (ngx_http_tailor_issue(r, mcf, lcf, ctx, *known) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->previous_vid = previous;
    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_IDENTIFY_LINKS);
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "tailor: visitor \"%V\" identified as \"%V\"", &previous, &ctx->vid);
    return NGX_OK;
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
