// The log phase of ngx_http_tailor_events_module: what a finished request becomes on
// the stream (page views, declared events, Identify, pop-up beacons), encoded by
// core and queued for this worker's delivery.
#include "ngx_http_tailor_events.h"

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "tailor/request/device_class.h"
#include "tailor/engine/engine.h"
#include "tailor/events/event.h"
#include "tailor/events/live_facts.h"
#include "tailor/events/path.h"
#include "tailor/events/plan.h"
#include "tailor/events/upstream_event.h"
#include "tailor/popup/beacon.h"
#include "tailor/request/personal_data.h"
#include "tailor/request/referrer.h"

namespace {

struct ngx_http_tailor_events_request_t {
    ngx_http_request_t* r;
    ngx_http_tailor_ctx_t* tctx;
    ngx_http_tailor_events_main_conf_t* emcf;
    std::string* path;
    tailor::Attribution attribution;
    tailor::DeviceClass device;
    tailor::EventExposure exposures[tailor::kMaxEventExposures];
    size_t exposure_count;
    int64_t now_ms;
};

std::string ngx_http_tailor_events_blob;
std::string ngx_http_tailor_events_path;

void ngx_http_tailor_events_emit(ngx_http_tailor_events_request_t* er, tailor::EventType type,
                                 std::string_view name, std::string_view vid,
                                 std::string_view previous,
                                 const ngx_http_tailor_events_decl_t* decl,
                                 const tailor::EventProperty* fixed = nullptr, size_t nfixed = 0,
                                 const tailor::EventProductLine* products = nullptr,
                                 size_t nproducts = 0) noexcept {
    ngx_http_request_t* r = er->r;

    std::string_view producer;
    uint64_t seq;
    if (!ngx_http_tailor_events_next_seq(&producer, &seq)) {
        return;
    }

    std::optional<tailor::EventId> id = tailor::EventId::generate(er->now_ms);
    if (!id) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "tailor events: no random bytes for an event id, event dropped");
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_DROPPED);
        return;
    }

    tailor::EventProperty props[tailor::kMaxEventProperties];
    size_t nprops = 0;
    for (; nprops < nfixed && nprops < tailor::kMaxEventProperties; nprops++) {
        props[nprops] = fixed[nprops];
    }
    if (decl != nullptr) {
        auto* p = static_cast<ngx_http_tailor_events_prop_t*>(decl->props.elts);
        for (ngx_uint_t i = 0; i < decl->props.nelts && nprops < tailor::kMaxEventProperties; i++) {
            ngx_str_t v;
            if (ngx_http_complex_value(r, &p[i].value, &v) != NGX_OK) {
                continue;
            }
            if (v.len == 0) {
                continue;  // an absent variable is an absent property, not ""
            }
            if (tailor::is_personal_property_value(ngx_http_tailor_view(v))) {
                ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_STRIPPED);
                continue;  // an address typed where a search term was expected
            }
            props[nprops].name = ngx_http_tailor_view(p[i].name);
            props[nprops].value = ngx_http_tailor_view(v);
            props[nprops].kind = static_cast<tailor::PropertyKind>(p[i].kind);
            nprops++;
        }
    }

    tailor::Event e(*id);
    e.type = type;
    e.name = name;
    e.vid = vid;
    e.ts_ms = er->now_ms;
    e.path = *er->path;
    e.attribution = &er->attribution;
    e.device = er->device;
    e.exposures = er->exposures;
    e.exposure_count = er->exposure_count;
    e.properties = props;
    e.property_count = nprops;
    e.products = products;
    e.product_count = nproducts;
    e.producer = producer;
    e.seq = seq;
    e.previous_vid = previous;

    std::string& blob = ngx_http_tailor_events_blob;
    blob.clear();
    tailor::LiveFacts facts;
    tailor::EncodeResult res = tailor::encode_event(e, &blob, &facts);
    if (res.status != tailor::EncodeStatus::kOk) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "tailor events: event \"%*s\" not encoded (%s), dropped", name.size(),
                      name.data(),
                      res.status == tailor::EncodeStatus::kInvalid ? "invalid" : "out of memory");
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_DROPPED);
        return;
    }
    if (res.dropped_properties > 0) {
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_BAD_PROPERTIES, res.dropped_properties);
    }

    // the live map this request read, if it read the map of this event's visitor
    ngx_http_tailor_events_enqueue(blob, &facts, ngx_http_tailor_read_live(er->tctx, vid));
}

// Translates the finished request for plan_events().
tailor::PlanRequest ngx_http_tailor_events_plan_request(ngx_http_request_t* r,
                                                        ngx_http_tailor_ctx_t* tctx,
                                                        ngx_http_tailor_events_loc_conf_t* elcf) {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));

    tailor::PlanRequest q;
    q.vid = ngx_http_tailor_view(tctx->vid);
    q.previous_vid = ngx_http_tailor_view(tctx->previous_vid);
    q.outcome = tctx->outcome;
    q.beacon_recorded = tctx->beacon_recorded;
    q.status = static_cast<unsigned>(r->headers_out.status);
    q.header_only = r->header_only;
    q.get = (r->method & NGX_HTTP_GET) != 0;
    q.page_type = ngx_http_test_content_type(r, &lcf->types) != nullptr;
    q.declared = elcf->events != nullptr ? elcf->events->nelts : 0;
    q.upstream = ngx_http_tailor_events_upstream_pending(r);
    return q;
}

}  // namespace

ngx_int_t ngx_http_tailor_events_log_handler(ngx_http_request_t* r) noexcept {
    auto* elcf = static_cast<ngx_http_tailor_events_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_events_module));
    if (!elcf->enable || r != r->main) {
        return NGX_OK;
    }

    ngx_http_tailor_ctx_t* tctx = ngx_http_tailor_get_ctx(r);
    if (tctx == nullptr) {
        return NGX_OK;
    }
    if (!tailor::plan_possible(ngx_http_tailor_view(tctx->vid), tctx->beacon_recorded,
                               tctx->outcome)) {
        if (ngx_http_tailor_events_upstream_pending(r)) {
            ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_UPSTREAM_IGNORED);
        }
        return NGX_OK;
    }

    tailor::PlanRequest q = ngx_http_tailor_events_plan_request(r, tctx, elcf);
    tailor::EventPlan plan = tailor::plan_events(q);
    if (q.upstream && !plan.upstream) {
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_UPSTREAM_IGNORED);
    }
    if (!plan.any()) {
        return NGX_OK;
    }

    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_events_module));

    try {
        ngx_time_t* tp = ngx_timeofday();
        ngx_http_tailor_events_request_t er;
        er.r = r;
        er.tctx = tctx;
        er.emcf = emcf;
        er.now_ms = static_cast<int64_t>(tp->sec) * 1000 + static_cast<int64_t>(tp->msec);

        std::string& path = ngx_http_tailor_events_path;
        path.clear();
        size_t stripped =
            tailor::append_event_path(&path, ngx_http_tailor_view(r->unparsed_uri), *emcf->strip);
        if (stripped > 0) {
            ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_STRIPPED, stripped);
        }
        er.path = &path;

        er.attribution = tailor::attribution_from_request(
            ngx_http_tailor_view(r->args), ngx_http_tailor_view(r->headers_in.referer),
            ngx_http_tailor_view(r->headers_in.server));
        er.device = tailor::classify_device(ngx_http_tailor_view(r->headers_in.user_agent));

        er.exposure_count = 0;
        if (tctx->personalization != nullptr) {
            for (const auto& x : tctx->personalization->decision().exposures()) {
                if (er.exposure_count == tailor::kMaxEventExposures) {
                    break;
                }
                er.exposures[er.exposure_count++] = {x.rule_id, x.experiment, x.variant};
            }
        }

        std::string_view vid = ngx_http_tailor_view(tctx->vid);

        if (plan.identify) {
            ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_IDENTIFY);
            ngx_http_tailor_events_emit(&er, tailor::EventType::kIdentify, {}, vid,
                                        ngx_http_tailor_view(tctx->previous_vid), nullptr);
        }

        if (plan.page_view) {
            ngx_http_tailor_events_emit(&er, tailor::EventType::kPageViewed, {}, vid, {}, nullptr);
        }

        if (plan.beacon) {
            tailor::PopupBeaconEvent e =
                tailor::popup_beacon_event(static_cast<tailor::PopupBeaconKind>(tctx->beacon_kind),
                                           ngx_http_tailor_view(tctx->beacon_popup));
            er.exposures[0] = e.exposure;
            er.exposure_count = 1;
            ngx_http_tailor_events_emit(&er, tailor::EventType::kCustom, e.name, vid, {}, nullptr,
                                        e.properties.data(), e.properties.size());
        }

        if (plan.declared) {
            auto* decl = static_cast<ngx_http_tailor_events_decl_t*>(elcf->events->elts);
            for (ngx_uint_t i = 0; i < elcf->events->nelts; i++) {
                ngx_http_tailor_events_emit(&er, static_cast<tailor::EventType>(decl[i].type),
                                            ngx_http_tailor_view(decl[i].name), vid, {}, &decl[i]);
            }
        }

        if (plan.upstream) {
            const tailor::UpstreamEvent* u = ngx_http_tailor_events_upstream_event(r, emcf);
            if (u != nullptr) {
                ngx_http_tailor_events_emit(&er, u->type, u->name, vid, {}, nullptr,
                                            u->properties.data(), u->properties.size(),
                                            u->products.data(), u->products.size());
            }
        }

    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "tailor events: %s", e.what());
    }

    return NGX_OK;
}
