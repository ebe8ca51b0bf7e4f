// ngx_http_tailor_core_conf: the bridge to tailor_core at configuration time (engine, rule
// pack, keyring, consent policy) and per worker (rule runtime, the profile Redis connection,
// the profile cache).
#include "ngx_http_tailor_core.h"

#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/engine/engine.h"
#include "tailor/profile/cache.h"
#include "tailor/rules/compile.h"
#include "tailor/rules/pack.h"
#include "tailor/visitor/consent.h"
#include "tailor/visitor/keyring.h"

namespace {

// Per worker: set in init_process, gone in exit_process.
ngx_http_tailor_redis_t* ngx_http_tailor_profile_redis;
tailor::ProfileCache* ngx_http_tailor_cache;
bool ngx_http_tailor_reads_caps = true;  // set per worker once its packs are loaded

}  // namespace

// Configuration.

char* ngx_http_tailor_core_create_engine(ngx_conf_t* cf, ngx_http_tailor_main_conf_t* mcf,
                                         ngx_http_tailor_srv_conf_t* sscf) noexcept {
    // the series are named after the pack, so before the engine takes it
    sscf->series = ngx_http_tailor_series_add_pack(cf, mcf, sscf->rules);
    if (sscf->series == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    auto** slot = static_cast<tailor::Engine**>(ngx_array_push(&mcf->engines));
    if (slot == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    *slot = nullptr;

    try {
        tailor::EngineOptions options;
        options.max_profile_bytes = mcf->max_profile;
        std::optional<tailor::RulePack> rules;
        if (sscf->rules != nullptr) {
            rules = std::move(*sscf->rules);
        }
        sscf->engine =
            ngx_http_tailor_pool_own<tailor::Engine>(cf->pool, options, std::move(rules));
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "tailor: %s", e.what());
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    *slot = sscf->engine;
    return sscf->engine != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

char* ngx_http_tailor_core_compile_rules(ngx_conf_t* cf, ngx_http_tailor_srv_conf_t* sscf,
                                         ngx_str_t* files, ngx_uint_t n, ngx_str_t* kit) noexcept {
    tailor::RulesError error;
    std::optional<tailor::RulePack> pack;
    try {
        std::vector<std::string> paths;
        for (ngx_uint_t i = 0; i < n; i++) {
            paths.emplace_back(reinterpret_cast<const char*>(files[i].data), files[i].len);
        }
        tailor::RulePackOptions options;
        if (kit != nullptr) {  // empty: the kit built into the module
            options.kit_path.assign(reinterpret_cast<const char*>(kit->data), kit->len);
        }
        pack = tailor::compile_rule_pack_files(paths, options, &error);
    } catch (const std::exception& e) {
        error.reason = e.what();
    }

    if (!pack) {
        // the pack's own file and line first: that is where the marketer looks
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_rules\": %s", error.message().c_str());
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    sscf->rules = ngx_http_tailor_pool_own<tailor::RulePack>(cf->pool, std::move(*pack));
    return sscf->rules != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
}

char* ngx_http_tailor_core_load_keys(ngx_conf_t* cf, ngx_http_tailor_srv_conf_t* sscf) noexcept {
    tailor::KeyringError error;
    std::optional<tailor::Keyring> keyring;
    try {
        keyring = tailor::Keyring::load_file(
            std::string(reinterpret_cast<const char*>(sscf->keys_file.data), sscf->keys_file.len),
            &error);
    } catch (const std::exception& e) {
        error.message = e.what();
    }

    if (!keyring) {
        // a line error reads "line 3: reason" already; a file error names the file
        if (error.line != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_keys\" file \"%V\", %s",
                               &sscf->keys_file, error.message.c_str());
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_keys\": %s", error.message.c_str());
        }
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    sscf->keyring = ngx_http_tailor_pool_own<tailor::Keyring>(cf->pool, std::move(*keyring));
    return sscf->keyring != nullptr ? NGX_CONF_OK : static_cast<char*>(NGX_CONF_ERROR);
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

    consent->policy = ngx_http_tailor_pool_own<tailor::ConsentPolicy>(cf->pool, std::move(*policy));
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

    auto** engines = static_cast<tailor::Engine**>(mcf->engines.elts);
    ngx_http_tailor_reads_caps = false;
    for (ngx_uint_t i = 0; i < mcf->engines.nelts; i++) {
        tailor::RulesError error;
        if (!engines[i]->start_worker(&error)) {
            ngx_log_error(
                NGX_LOG_ALERT, cycle->log, 0,
                "tailor: rule pack could not be loaded in this worker, pages stay default: %s",
                error.message().c_str());
        }
        ngx_http_tailor_reads_caps = ngx_http_tailor_reads_caps || engines[i]->has_popups();
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

void ngx_http_tailor_core_exit_worker() noexcept {
    ngx_http_tailor_redis_destroy(ngx_http_tailor_profile_redis);
    ngx_http_tailor_profile_redis = nullptr;
    delete ngx_http_tailor_cache;
    ngx_http_tailor_cache = nullptr;
}

ngx_http_tailor_redis_t* ngx_http_tailor_core_profile_redis() noexcept {
    return ngx_http_tailor_profile_redis;
}

tailor::ProfileCache* ngx_http_tailor_core_cache() noexcept {
    return ngx_http_tailor_cache;
}

bool ngx_http_tailor_core_reads_caps() noexcept {
    return ngx_http_tailor_reads_caps;
}
