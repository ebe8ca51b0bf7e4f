// The glue's shared declarations; the only place the glue includes nginx, its headers first, as C.
#pragma once

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

#include <initializer_list>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tailor/base/outcome.h"

extern "C" ngx_module_t ngx_http_tailor_module;

namespace tailor {
class ConsentPolicy;
class Decision;
class Engine;
class Keyring;
struct RulePack;
class Personalization;
}  // namespace tailor

struct ngx_http_tailor_redis_conf_t;
struct ngx_http_tailor_redis_op_t;
struct ngx_http_tailor_read_t;
struct ngx_http_tailor_pack_series_t;
struct ngx_http_tailor_series_registry_t;

// Where a directive was written, so a check that involves two directives,
// made once both are known (merge, postconfiguration), names the offending
// one's file and line rather than the end of http{}. file.len == 0: unset.
struct ngx_http_tailor_conf_pos_t {
    ngx_str_t file;  // the conf file's name; it lives as long as the cycle
    ngx_uint_t line;
};

constexpr ngx_uint_t NGX_HTTP_TAILOR_MAX_INTERNAL_HEADERS = 4;

// Request headers only an upstream's response may carry (the identify header,
// the events module's): the post-read phase drops them from every request.
struct ngx_http_tailor_internal_headers_t {
    ngx_str_t lowcase[NGX_HTTP_TAILOR_MAX_INTERNAL_HEADERS];
    ngx_uint_t count;
    // bit n: a name is n bytes long (63: 63 or more); most of a request's
    // headers are passed over on this one test
    uint64_t lengths;
};

struct ngx_http_tailor_main_conf_t {
    ngx_http_tailor_redis_conf_t* redis;
    ngx_uint_t cache_size;  // 0: off
    ngx_msec_t cache_ttl;
    size_t max_profile;
    ngx_str_t identify_header;
    u_char* identify_lowcase;
    ngx_http_tailor_internal_headers_t internal_headers;
    ngx_flag_t enabled_somewhere;  // any location has tailor on
    ngx_flag_t beacon_somewhere;   // any location has tailor_popup_beacon
    ngx_array_t engines;           // of tailor::Engine*: http{}'s, then each server's own
    ngx_http_tailor_series_registry_t* series;  // the packs' metric series
    ngx_http_tailor_conf_pos_t redis_pos;
};

// http{} and server{}: the rule pack and the keyring. A server without its own
// uses http{}'s (merge), so one nginx can host several brands.
struct ngx_http_tailor_srv_conf_t {
    ngx_str_t keys_file;
    tailor::Keyring* keyring;               // owned by a cycle pool cleanup
    tailor::RulePack* rules;                // compiled by tailor_rules; moved into engine
    tailor::Engine* engine;                 // owned by a cycle pool cleanup
    ngx_http_tailor_pack_series_t* series;  // the engine's pack's metric series
    ngx_http_tailor_conf_pos_t keys_pos;
    ngx_http_tailor_conf_pos_t rules_pos;
};

enum ngx_http_tailor_samesite_e : ngx_uint_t {
    NGX_HTTP_TAILOR_SAMESITE_LAX = 0,
    NGX_HTTP_TAILOR_SAMESITE_STRICT,
    NGX_HTTP_TAILOR_SAMESITE_NONE,
    NGX_HTTP_TAILOR_SAMESITE_OMIT
};

struct ngx_http_tailor_cookie_conf_t {
    ngx_str_t name;
    ngx_str_t domain;
    ngx_str_t path;
    time_t max_age;
    ngx_flag_t secure;
    ngx_flag_t httponly;
    ngx_uint_t samesite;
};

struct ngx_http_tailor_consent_conf_t {
    ngx_str_t spec;                       // as written, for logs
    const tailor::ConsentPolicy* policy;  // owned by a cycle pool cleanup
    ngx_http_complex_value_t* value;      // variable:$x, or the consent cookie
    ngx_flag_t honor_gpc;
};

struct ngx_http_tailor_loc_conf_t {
    ngx_flag_t enable;
    ngx_msec_t timeout;
    ngx_hash_t types;
    ngx_array_t* types_keys;
    ngx_http_tailor_cookie_conf_t cookie;
    ngx_http_tailor_consent_conf_t* consent;
    ngx_flag_t cookie_set;  // tailor_cookie given here (merge helper)
    // an endpoint of the module here (tailor_status, tailor_events_status, the pop-up
    // runtime and beacon): never a page to personalize, whatever "tailor" says; not inherited
    ngx_flag_t endpoint;

    // where the checks of the merge point (ngx_http_tailor_module.cpp)
    ngx_http_tailor_conf_pos_t enable_pos;  // the "tailor" directive in effect here
    ngx_http_tailor_conf_pos_t beacon_pos;  // tailor_popup_beacon here (not inherited)

    // request facts for rules (ngx_http_tailor_directives.cpp)
    ngx_http_complex_value_t* logged_in;  // tailor_logged_in; null: nobody is
    std::string_view* rule_cookies;       // tailor_rule_cookies, in cf->pool
    ngx_uint_t rule_cookies_n;            // NGX_CONF_UNSET_UINT: not given here

    // pop-ups (ngx_http_tailor_popup.cpp)
    ngx_str_t popup_runtime_path;  // tailor_popup_urls; empty: core's defaults
    ngx_str_t popup_beacon_path;
    ngx_uint_t beacon_rate;     // tailor_popup_beacon rate=N r/m or r/s
    ngx_uint_t beacon_window;   // seconds: 60 or 1
    time_t caps_ttl;            // caps_ttl=
    ngx_msec_t beacon_timeout;  // timeout=
    time_t token_max_age;       // token_max_age=
};

// The client's validators and range, held off the request by the access phase
// (so an upstream answers a page that may be rewritten in full) until the
// header filter knows whether this response is rewritten.
struct ngx_http_tailor_validators_t {
    ngx_table_elt_t* if_none_match;
    ngx_table_elt_t* if_modified_since;
    ngx_table_elt_t* range;
    ngx_table_elt_t* if_range;
};

// Per-request state. Lives in r->pool; C++ members are owned by `personalization`,
// which a pool cleanup destroys, so this struct itself stays trivially destructible.
struct ngx_http_tailor_ctx_t {
    ngx_http_request_t* request;
    ngx_http_tailor_redis_op_t* op;  // in flight: detach on cleanup
    ngx_http_tailor_read_t* read;    // the visitor read, once sent (ngx_http_tailor_read.cpp)
    tailor::Personalization* personalization;
    ngx_event_t deadline;
    ngx_event_t wake;
    ngx_msec_t started;
    ngx_str_t vid;           // in r->pool
    ngx_str_t set_cookie;    // "name=value; attrs", empty: none
    ngx_str_t previous_vid;  // the id before the upstream identified the visitor

    // held by the access phase for the header filter
    ngx_http_tailor_validators_t held;

    // body filter
    ngx_chain_t* free;        // Tailor's own buffers, for copies
    ngx_chain_t* free_views;  // buffers that pointed into input or fills
    ngx_chain_t* busy;
    ngx_chain_t* out;
    ngx_chain_t** last_out;
    // the input's declared length (Content-Length before it was cleared),
    // counted down as the body arrives; -1: unknown. At 0 the body is
    // complete and the page ends with that buffer, not the later last_buf.
    off_t body_left;
    // the upstream's ETag (before it was cleared): with the length, a
    // proxied page's version for the page cache; empty: none
    ngx_str_t upstream_etag;

    // beacon (ngx_http_tailor_popup.cpp): what was recorded, for the event
    ngx_str_t beacon_popup;    // views r->args
    ngx_str_t beacon_token;    // views r->args; checked
    ngx_int_t beacon_status;   // the answer once Redis replied
    unsigned beacon_kind : 2;  // tailor::PopupBeaconKind
    unsigned beacon_recorded : 1;

    tailor::Outcome outcome;
    unsigned done : 1;
    unsigned will_rewrite : 1;  // decided before nginx's not-modified filter
    unsigned identified : 1;    // the upstream named the visitor: issue the cookie
    unsigned rewriting : 1;
    unsigned finished : 1;
    unsigned ended_at_length : 1;  // finished at body_left 0; last_buf is still to come
    // the body filter is handing its output to the next filter: a call that comes in
    // meanwhile is a later filter's own output, sent again from the top of the chain
    unsigned passing : 1;
};

static_assert(std::is_trivially_destructible<ngx_http_tailor_ctx_t>::value,
              "the request ctx lives in r->pool and is never destroyed");

// The request's server's rule engine and keyring (its own, else http{}'s).
inline ngx_http_tailor_srv_conf_t* ngx_http_tailor_get_srv_conf(ngx_http_request_t* r) noexcept {
    return static_cast<ngx_http_tailor_srv_conf_t*>(
        ngx_http_get_module_srv_conf(r, ngx_http_tailor_module));
}

inline tailor::Engine* ngx_http_tailor_engine(ngx_http_request_t* r) noexcept {
    return ngx_http_tailor_get_srv_conf(r)->engine;
}

inline tailor::Keyring* ngx_http_tailor_keyring(ngx_http_request_t* r) noexcept {
    return ngx_http_tailor_get_srv_conf(r)->keyring;
}

// ngx_http_tailor_directives.cpp: remembers where the directive being parsed
// is written; logs a configuration error naming `pos` (as ngx_conf_log_error
// names the current line), or the current line when `pos` is unset.
void ngx_http_tailor_conf_pos_set(ngx_conf_t* cf, ngx_http_tailor_conf_pos_t* pos) noexcept;
void ngx_http_tailor_conf_log_at(ngx_uint_t level, ngx_conf_t* cf,
                                 const ngx_http_tailor_conf_pos_t* pos, const char* fmt,
                                 ...) noexcept;

// The identify header's name, lower-case.
inline std::string_view ngx_http_tailor_identify_name(
    const ngx_http_tailor_main_conf_t* mcf) noexcept {
    return {reinterpret_cast<const char*>(mcf->identify_lowcase), mcf->identify_header.len};
}

// A view of nginx's string (empty for a null one), or of a header's value
// (empty when the header is absent).
inline std::string_view ngx_http_tailor_view(const ngx_str_t& s) noexcept {
    if (s.data == nullptr || s.len == 0) {
        return {};
    }
    return {reinterpret_cast<const char*>(s.data), s.len};
}

inline std::string_view ngx_http_tailor_view(const ngx_table_elt_t* h) noexcept {
    return h == nullptr ? std::string_view() : ngx_http_tailor_view(h->value);
}

// Owns a C++ object for as long as `pool` lives (a cycle's or a request's):
// placement-new into pool cleanup storage whose handler runs the destructor.
template <typename T, typename... Args>
T* ngx_http_tailor_pool_own(ngx_pool_t* pool, Args&&... args) noexcept {
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(pool, sizeof(T));
    if (cln == nullptr) {
        return nullptr;
    }
    T* object = new (cln->data) T(std::forward<Args>(args)...);
    cln->handler = [](void* data) { static_cast<T*>(data)->~T(); };
    return object;
}

// ngx_http_tailor_access.cpp
ngx_int_t ngx_http_tailor_access_handler(ngx_http_request_t* r) noexcept;
// Post-read phase: a client's identify header never reaches an upstream.
ngx_int_t ngx_http_tailor_post_read_handler(ngx_http_request_t* r) noexcept;
// A new ctx in r->pool, set as the module's ctx; its pool cleanup cancels the
// Redis op, the deadline and the wake event.
ngx_http_tailor_ctx_t* ngx_http_tailor_create_ctx(ngx_http_request_t* r) noexcept;
ngx_http_tailor_ctx_t* ngx_http_tailor_get_ctx(ngx_http_request_t* r) noexcept;
// The visitor read has its outcome (every command answered, or one could not be): record it,
// stop the deadline and wake the request. Runs inside hiredis.
void ngx_http_tailor_read_done(ngx_http_tailor_ctx_t* ctx, tailor::Outcome outcome,
                               uint64_t elapsed_us) noexcept;

// ngx_http_tailor_read.cpp: the visitor read in flight, its commands' replies kept in r->pool
// until the last one. send: false when it was not sent (nothing in flight then); cancel
// detaches whatever is still in flight (deadline, pool cleanup).
bool ngx_http_tailor_read_send(ngx_http_tailor_ctx_t* ctx, size_t max_bytes) noexcept;
void ngx_http_tailor_read_cancel(ngx_http_tailor_ctx_t* ctx) noexcept;
// The live map of visitor `vid` as the read got it (in r->pool), when the read was for that
// visitor, every command answered, the visitor is not erased and the map came back whole;
// "" otherwise (no read, another visitor's, a missing map, one over the read's bound). The
// events module sends it beside the request's events, for the live script's compare-and-set
// (LiveBatch::add).
std::string_view ngx_http_tailor_read_live(const ngx_http_tailor_ctx_t* ctx,
                                           std::string_view vid) noexcept;

// `s` is `word`, ASCII letters in any case (a header's name, or a token in its value).
inline bool ngx_http_tailor_equals_nocase(const ngx_str_t& s, std::string_view word) noexcept {
    return s.len == word.size() &&
           ngx_strncasecmp(s.data, reinterpret_cast<u_char*>(const_cast<char*>(word.data())),
                           word.size()) == 0;
}

// Walks an nginx list of headers in order until `stop(entry)` says true;
// that entry, or null when none did.
template <typename Stop>
ngx_table_elt_t* ngx_http_tailor_walk_headers(ngx_list_t* headers, Stop stop) noexcept {
    ngx_list_part_t* part = &headers->part;
    auto* h = static_cast<ngx_table_elt_t*>(part->elts);

    for (ngx_uint_t i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == nullptr) {
                return nullptr;
            }
            part = part->next;
            h = static_cast<ngx_table_elt_t*>(part->elts);
            i = 0;
        }
        if (stop(h[i])) {
            return &h[i];
        }
    }
}

// ngx_http_tailor_headers.cpp: the first header named `lowcase` (any case) in
// `headers`, or null; with `hide`, every such header is taken off the list.
const ngx_table_elt_t* ngx_http_tailor_find_header(ngx_list_t* headers, std::string_view lowcase,
                                                   bool hide) noexcept;
// Takes every header named one of `lowcase` (any case) off `headers`, in one walk.
void ngx_http_tailor_hide_headers(ngx_list_t* headers,
                                  std::initializer_list<std::string_view> lowcase) noexcept;
// Takes the client's validators and range off the request (and off the list
// an upstream is sent) into `held`, so a page that may be rewritten is never
// answered from them; ngx_http_tailor_restore_validators gives them back to
// nginx's not-modified and range filters when the response is not rewritten.
void ngx_http_tailor_hold_validators(ngx_http_request_t* r,
                                     ngx_http_tailor_validators_t* held) noexcept;
void ngx_http_tailor_restore_validators(ngx_http_request_t* r,
                                        ngx_http_tailor_validators_t* held) noexcept;
// Gives them back to the request as the client sent them: on the list an upstream is sent too,
// for a request that has left Tailor (redirected into a location with tailor off) before its
// content phase.
void ngx_http_tailor_give_back_validators(ngx_http_request_t* r,
                                          ngx_http_tailor_validators_t* held) noexcept;
// The first request header named `lowcase`, or null. One compare per header
// of the same length: nginx lower-cases request header names as it reads them.
const ngx_table_elt_t* ngx_http_tailor_find_request_header(ngx_http_request_t* r,
                                                           std::string_view lowcase) noexcept;
// Takes every request header named one of `internal` off the list an upstream
// is sent, in one pass; NGX_ERROR when out of memory (the list is unchanged then).
ngx_int_t ngx_http_tailor_drop_request_headers(
    ngx_http_request_t* r, const ngx_http_tailor_internal_headers_t& internal) noexcept;
// Config time: a request header only an upstream may send (lower-cased name,
// kept for the cycle); the post-read phase drops it from every request.
ngx_int_t ngx_http_tailor_add_internal_header(ngx_conf_t* cf, ngx_str_t lowcase) noexcept;

// ngx_http_tailor_core.cpp: did the upstream produce this response for this
// very request (not a cache hit, stale or revalidated copy, not a file)? Only
// such a response may identify the visitor or declare an event.
bool ngx_http_tailor_fresh_from_upstream(ngx_http_request_t* r) noexcept;

// ngx_http_tailor_filter.cpp: installs the header filter, then the body filter.
ngx_int_t ngx_http_tailor_filter_init(ngx_conf_t* cf) noexcept;
// The header filter that decides whether a response is rewritten; installed by
// the page module, which sits before nginx's not-modified filter.
ngx_int_t ngx_http_tailor_decide_filter_init(ngx_conf_t* cf) noexcept;
// Appends a response header; key and value must outlive the request.
ngx_int_t ngx_http_tailor_add_header(ngx_http_request_t* r, ngx_str_t key,
                                     ngx_str_t value) noexcept;

// ngx_http_tailor_body_filter.cpp: the body filter of a page the header filter
// readied for rewriting.
ngx_int_t ngx_http_tailor_body_filter_init(ngx_conf_t* cf) noexcept;

// ngx_http_tailor_popup.cpp: the pop-up runtime and beacon locations' handlers;
// ngx_http_tailor_popup_conf.cpp: their directives.
ngx_int_t ngx_http_tailor_popup_runtime_handler(ngx_http_request_t* r) noexcept;
ngx_int_t ngx_http_tailor_popup_beacon_handler(ngx_http_request_t* r) noexcept;
char* ngx_http_tailor_popup_runtime_directive(ngx_conf_t* cf, ngx_command_t* cmd,
                                              void* conf) noexcept;
char* ngx_http_tailor_popup_beacon_directive(ngx_conf_t* cf, ngx_command_t* cmd,
                                             void* conf) noexcept;
char* ngx_http_tailor_popup_urls_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
void ngx_http_tailor_popup_init_loc_conf(ngx_http_tailor_loc_conf_t* lcf) noexcept;
void ngx_http_tailor_popup_merge_loc_conf(ngx_http_tailor_loc_conf_t* prev,
                                          ngx_http_tailor_loc_conf_t* conf) noexcept;
// Gives the pop-up `decision` offers its token for ctx->vid (tailor/popup/token.h),
// per request, after the decision (which may be shared); drops it when it cannot.
void ngx_http_tailor_popup_sign(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                tailor::Decision& decision) noexcept;

// ngx_http_tailor_module.cpp
extern ngx_str_t ngx_http_tailor_default_types[];
extern ngx_str_t ngx_http_tailor_default_cookie_path;
constexpr time_t ngx_http_tailor_default_cookie_max_age = 365 * 24 * 60 * 60;

// ngx_http_tailor_directives.cpp: the handlers of the directives that take more
// than a stock slot.
char* ngx_http_tailor_redis_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_keys_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_rules_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_cookie_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_cache_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_consent_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_logged_in_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_rule_cookies_directive(ngx_conf_t* cf, ngx_command_t* cmd,
                                             void* conf) noexcept;
char* ngx_http_tailor_status_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
// The location being parsed serves one of the module's endpoints: "tailor" is off there.
void ngx_http_tailor_endpoint_here(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_enable_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;

// ngx_http_tailor_variables.cpp: $tailor_vid, $tailor_status, $tailor_segment.
ngx_int_t ngx_http_tailor_add_variables(ngx_conf_t* cf) noexcept;
