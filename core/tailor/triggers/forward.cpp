#include "tailor/triggers/forward.h"

#include <string_view>

#include "tailor/base/version.h"
#include "tailor/triggers/json_text.h"

namespace tailor {

namespace {

void write_value(JsonText* j, const DecodedProperty& p) {
    if (!p.is_number) {
        j->string(p.text);
    } else if (p.is_integer) {
        j->integer(p.integer);
    } else {
        j->number(p.number);
    }
}

// Segment's product-level fields: on a cart, checkout or order they belong
// in products[] (the spec's shape), not at the top.
bool product_field(std::string_view name) {
    static constexpr std::string_view kFields[] = {
        "product_id", "ProductID", "sku",    "category", "product_name", "brand",    "variant",
        "price",      "quantity",  "coupon", "position", "url",          "image_url"};
    for (std::string_view f : kFields) {
        if (name == f) {
            return true;
        }
    }
    return false;
}

bool has_products_array(EventType type) {
    return type == EventType::kCartViewed || type == EventType::kCheckoutStarted ||
           type == EventType::kOrderCompleted;
}

void write_segment_property(JsonText* j, const DecodedProperty& p) {
    // the two spellings the module accepts of Segment's product_id
    j->key(p.name == "ProductID" ? std::string_view("product_id") : std::string_view(p.name));
    write_value(j, p);
}

}  // namespace

std::string klaviyo_event_json(const DecodedEvent& e) {
    JsonText j;
    if (e.type == EventType::kIdentify) {
        j.begin_object().key("data").begin_object();
        j.key("type").string("profile").key("attributes").begin_object();
        j.key("external_id").string(e.vid);
        if (!e.previous_vid.empty()) {
            j.key("anonymous_id").string(e.previous_vid);
        }
        j.end_object().end_object().end_object();
        return j.text();
    }
    std::string_view metric = klaviyo_metric_name(e.type);
    if (metric.empty()) {
        metric = e.name;
    }
    j.begin_object().key("data").begin_object();
    j.key("type").string("event").key("attributes").begin_object();
    j.key("properties").begin_object();
    for (const DecodedProperty& p : e.properties) {
        if (p.name == "product_id" && e.property("ProductID") != nullptr) {
            continue;  // the operator declared Klaviyo's spelling too
        }
        j.key(p.name == "product_id" ? std::string_view("ProductID") : std::string_view(p.name));
        write_value(&j, p);
    }
    if (!e.products.empty()) {
        // Klaviyo's order flows read the lines as Items, each with ProductID
        j.key("Items").begin_array();
        for (const std::vector<DecodedProperty>& line : e.products) {
            j.begin_object();
            for (const DecodedProperty& p : line) {
                j.key(p.name == "product_id" ? std::string_view("ProductID")
                                             : std::string_view(p.name));
                write_value(&j, p);
            }
            j.end_object();
        }
        j.end_array();
    }
    j.key("path").string(e.path);
    j.key("device").string(e.device);
    if (!e.utm_source.empty()) {
        j.key("utm_source").string(e.utm_source);
    }
    if (!e.utm_medium.empty()) {
        j.key("utm_medium").string(e.utm_medium);
    }
    if (!e.utm_campaign.empty()) {
        j.key("utm_campaign").string(e.utm_campaign);
    }
    j.end_object();
    j.key("time").string(iso8601_utc(e.ts_ms));
    if (e.type == EventType::kOrderCompleted) {
        for (const char* name : {"revenue", "value", "price"}) {
            const DecodedProperty* p = e.property(name);
            if (p != nullptr && p->is_number) {
                j.key("value");
                write_value(&j, *p);
                break;
            }
        }
    }
    j.key("unique_id").string(e.id);
    j.key("metric").begin_object().key("data").begin_object();
    j.key("type").string("metric").key("attributes").begin_object().key("name").string(metric);
    j.end_object().end_object().end_object();
    j.key("profile").begin_object().key("data").begin_object();
    j.key("type").string("profile").key("attributes").begin_object();
    j.key("external_id").string(e.vid);
    j.end_object().end_object().end_object();
    j.end_object().end_object().end_object();
    return j.text();
}

std::string segment_event_json(const DecodedEvent& e) {
    JsonText j;
    j.begin_object();
    if (e.type == EventType::kPageViewed) {
        j.key("type").string("page");
    } else if (e.type == EventType::kIdentify) {
        j.key("type").string("identify");
    } else {
        j.key("type").string("track").key("event").string(e.name);
    }
    if (e.type == EventType::kIdentify) {
        j.key("userId").string(e.vid);
        if (!e.previous_vid.empty()) {
            j.key("anonymousId").string(e.previous_vid);
        }
    } else {
        j.key("anonymousId").string(e.vid);
    }
    j.key("messageId").string(e.id);
    j.key("timestamp").string(iso8601_utc(e.ts_ms));
    j.key(e.type == EventType::kIdentify ? "traits" : "properties").begin_object();
    // lines the event carries (the upstream header's products[]) are written
    // as they are; otherwise the flat product fields move into one line
    const bool nest = e.products.empty() && has_products_array(e.type);
    bool any_product_field = false;
    for (const DecodedProperty& p : e.properties) {
        if (nest && product_field(p.name)) {
            any_product_field = true;
            continue;
        }
        write_segment_property(&j, p);
    }
    if (any_product_field) {
        j.key("products").begin_array().begin_object();
        for (const DecodedProperty& p : e.properties) {
            if (product_field(p.name)) {
                write_segment_property(&j, p);
            }
        }
        j.end_object().end_array();
    }
    if (!e.products.empty()) {
        j.key("products").begin_array();
        for (const std::vector<DecodedProperty>& line : e.products) {
            j.begin_object();
            for (const DecodedProperty& p : line) {
                write_segment_property(&j, p);
            }
            j.end_object();
        }
        j.end_array();
    }
    if (e.type == EventType::kPageViewed) {
        j.key("path").string(e.path);
    }
    j.end_object();

    j.key("context").begin_object();
    j.key("library").begin_object().key("name").string("tailor");
    j.key("version").string(version()).end_object();
    j.key("page").begin_object().key("path").string(e.path).end_object();
    if (!e.utm_source.empty() || !e.utm_medium.empty() || !e.utm_campaign.empty()) {
        j.key("campaign").begin_object();
        if (!e.utm_source.empty()) {
            j.key("source").string(e.utm_source);
        }
        if (!e.utm_medium.empty()) {
            j.key("medium").string(e.utm_medium);
        }
        if (!e.utm_campaign.empty()) {
            j.key("name").string(e.utm_campaign);
        }
        j.end_object();
    }
    j.key("referrer").begin_object().key("type").string(e.referrer_class);
    if (!e.referrer_host.empty()) {
        j.key("host").string(e.referrer_host);
    }
    j.end_object();
    j.key("device").begin_object().key("type").string(e.device).end_object();
    if (!e.exposures.empty()) {
        j.key("tailor").begin_object().key("experiments").begin_array();
        for (const DecodedExposure& x : e.exposures) {
            j.begin_object().key("rule").string(x.rule).key("experiment").string(x.experiment);
            j.key("variant").string(x.variant).end_object();
        }
        j.end_array().end_object();
    }
    j.end_object();
    j.end_object();
    return j.text();
}

}  // namespace tailor
