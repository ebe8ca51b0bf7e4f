// The bridge to tailor_core: nginx structures in, core calls, nginx answers out.
//
// Everything personalization-specific (cookies, consent, profiles, decisions,
// the rewriter) is decided in core; these functions only translate. None of
// them throws: a failure is logged, counted, and the default page is served.
#pragma once

#include "ngx_http_tailor.h"
#include "tailor/html/piece_origin.h"

struct ngx_http_tailor_redis_t;

namespace tailor {
class ProfileCache;
struct ProfileReplyElement;
}  // namespace tailor

// Configuration time (ngx_http_tailor_core_conf.cpp): EMERG + NGX_CONF_ERROR,
// so nginx -t names file and line.
// core_create_engine: the engine of `sscf` (http{}'s, or a server's with its
// own tailor_rules), from its compiled pack; listed in mcf->engines so every
// worker starts it, and its pack's series registered for the metrics.
char* ngx_http_tailor_core_create_engine(ngx_conf_t* cf, ngx_http_tailor_main_conf_t* mcf,
                                         ngx_http_tailor_srv_conf_t* sscf) noexcept;
char* ngx_http_tailor_core_compile_rules(ngx_conf_t* cf, ngx_http_tailor_srv_conf_t* sscf,
                                         ngx_str_t* files, ngx_uint_t n, ngx_str_t* kit) noexcept;
char* ngx_http_tailor_core_load_keys(ngx_conf_t* cf, ngx_http_tailor_srv_conf_t* sscf) noexcept;
char* ngx_http_tailor_core_parse_consent(ngx_conf_t* cf,
                                         ngx_http_tailor_consent_conf_t* consent) noexcept;

// Worker lifecycle (ngx_http_tailor_core_conf.cpp): the per-worker Redis
// connection and profile cache (null when off or not a worker).
ngx_int_t ngx_http_tailor_core_init_worker(ngx_cycle_t* cycle,
                                           ngx_http_tailor_main_conf_t* mcf) noexcept;
void ngx_http_tailor_core_exit_worker() noexcept;
ngx_http_tailor_redis_t* ngx_http_tailor_core_profile_redis() noexcept;
tailor::ProfileCache* ngx_http_tailor_core_cache() noexcept;
// Whether visitor reads ask for the caps: when some pack of this configuration has pop-ups
// (one answer for every server, since the profile cache is shared by all).
bool ngx_http_tailor_core_reads_caps() noexcept;
// Drops the visitor from this worker's cache (their caps just changed).
void ngx_http_tailor_core_forget_visitor(const ngx_str_t& vid) noexcept;

// Access phase (ngx_http_tailor_core.cpp).
//
// ngx_http_tailor_core_consent: kNone when personalization is allowed,
// otherwise the outcome that explains why not (kGpc, kNoConsent).
tailor::Outcome ngx_http_tailor_core_consent(ngx_http_request_t* r,
                                             ngx_http_tailor_loc_conf_t* lcf) noexcept;
// NGX_OK and ctx->vid set when the request carries a valid visitor cookie.
ngx_int_t ngx_http_tailor_core_read_cookie(ngx_http_request_t* r, ngx_http_tailor_main_conf_t* mcf,
                                           ngx_http_tailor_loc_conf_t* lcf,
                                           ngx_http_tailor_ctx_t* ctx) noexcept;
// Issues a new signed id (ctx->vid, ctx->set_cookie) and decides for a visitor without a profile.
tailor::Outcome ngx_http_tailor_core_new_visitor(ngx_http_request_t* r,
                                                 ngx_http_tailor_main_conf_t* mcf,
                                                 ngx_http_tailor_loc_conf_t* lcf,
                                                 ngx_http_tailor_ctx_t* ctx) noexcept;
// True when the worker cache held this visitor's data and a decision was made from it.
bool ngx_http_tailor_core_personalize_cached(ngx_http_request_t* r,
                                             ngx_http_tailor_ctx_t* ctx) noexcept;
// Hands the visitor read's replies, in core's terms, to decode_profile_reply and decides; a
// hit is kept in the worker cache.
tailor::Outcome ngx_http_tailor_core_personalize_reply(ngx_http_request_t* r,
                                                       ngx_http_tailor_ctx_t* ctx,
                                                       const tailor::ProfileReplyElement* elements,
                                                       size_t count) noexcept;
bool ngx_http_tailor_core_changes_page(tailor::Personalization* p) noexcept;
std::string_view ngx_http_tailor_core_segment(tailor::Personalization* p) noexcept;

// Header filter: the upstream's identify header, hidden from the client, links
// the visitor to a known id when decide_identify says so (a response fresh
// from the upstream, with consent).
ngx_int_t ngx_http_tailor_core_identify(ngx_http_request_t* r, ngx_http_tailor_main_conf_t* mcf,
                                        ngx_http_tailor_loc_conf_t* lcf,
                                        ngx_http_tailor_ctx_t* ctx) noexcept;

// The upstream's response already sets the visitor cookie (`set_cookie` is that
// header's value, "name=value; ..."): this request issues none of its own, and
// ctx->vid becomes the id it names when this server's keys verify it.
void ngx_http_tailor_core_adopt_cookie(ngx_http_request_t* r, ngx_http_tailor_loc_conf_t* lcf,
                                       ngx_http_tailor_ctx_t* ctx,
                                       const ngx_str_t& set_cookie) noexcept;

// Body filter.
// Pieces arrive in order with their origin (tailor/html/piece_origin.h).
using ngx_http_tailor_sink_pt = void (*)(void* data, const char* p, size_t n,
                                         tailor::PieceOrigin origin) noexcept;
ngx_int_t ngx_http_tailor_core_start_rewrite(ngx_http_request_t* r,
                                             ngx_http_tailor_ctx_t* ctx) noexcept;
void ngx_http_tailor_core_rewrite(ngx_http_tailor_ctx_t* ctx, const u_char* p, size_t n,
                                  ngx_http_tailor_sink_pt sink, void* data) noexcept;
void ngx_http_tailor_core_rewrite_finish(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                         ngx_http_tailor_sink_pt sink, void* data) noexcept;
bool ngx_http_tailor_core_rewrite_holding(ngx_http_tailor_ctx_t* ctx) noexcept;
