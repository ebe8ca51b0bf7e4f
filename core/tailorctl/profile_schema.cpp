// The profile schemas as tables of fields, and the validator that walks JSON against them.
#include "profile_schema.h"

#include <cinttypes>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/profile/profile.h"

namespace tailorctl {

namespace {

using nlohmann::json;

// --- the schema, as encode checks it --------------------------------------------

enum class Kind {
    kString,
    kBool,
    kVersion,
    kTime,
    kCount,
    kMoney,
    kQuantity,
    kCycleDays,
    kPoints,
    kObject,    // sub-schema
    kList,      // array of sub-schema objects, capped
    kScoreMap,  // category -> number, capped
    kAttrMap,   // name -> string | number | bool, capped
};

struct Field;

struct Schema {
    const Field* fields;
    size_t size;
};

struct Field {
    std::string_view name;
    Kind kind;
    const Schema* sub = nullptr;
    size_t cap = 0;
    bool required = false;
};

constexpr Field kPurchaseFields[] = {
    {"sku", Kind::kString, nullptr, 0, true},
    {"category", Kind::kString},
    {"at", Kind::kTime},
    {"qty", Kind::kQuantity},
    {"cycle_days", Kind::kCycleDays},
    {"price", Kind::kMoney},
};
constexpr Field kViewedFields[] = {
    {"sku", Kind::kString, nullptr, 0, true},
    {"category", Kind::kString},
    {"at", Kind::kTime},
    {"price", Kind::kMoney},
};
constexpr Field kCartFields[] = {
    {"sku", Kind::kString, nullptr, 0, true},
    {"qty", Kind::kQuantity},
    {"added_at", Kind::kTime},
    {"price", Kind::kMoney},
};
constexpr Field kLoyaltyFields[] = {
    {"points", Kind::kPoints},
    {"tier", Kind::kString},
    {"points_expire_at", Kind::kTime},
};
constexpr Field kFlagFields[] = {
    {"open_return", Kind::kBool},
    {"open_complaint", Kind::kBool},
    {"unsubscribed", Kind::kBool},
};
constexpr Field kConsentFields[] = {
    {"personalization", Kind::kBool},
    {"email", Kind::kBool},
    {"sms", Kind::kBool},
};
constexpr Field kAcquisitionFields[] = {
    {"source", Kind::kString},   {"medium", Kind::kString}, {"campaign", Kind::kString},
    {"referrer", Kind::kString}, {"at", Kind::kTime},
};

template <size_t N>
constexpr Schema schema_of(const Field (&fields)[N]) {
    return Schema{fields, N};
}

constexpr Schema kPurchase = schema_of(kPurchaseFields);
constexpr Schema kViewed = schema_of(kViewedFields);
constexpr Schema kCart = schema_of(kCartFields);
constexpr Schema kLoyalty = schema_of(kLoyaltyFields);
constexpr Schema kFlags = schema_of(kFlagFields);
constexpr Schema kConsent = schema_of(kConsentFields);
constexpr Schema kAcquisition = schema_of(kAcquisitionFields);

constexpr Field kProfileFields[] = {
    {"v", Kind::kVersion},
    {"first_name", Kind::kString},
    {"currency", Kind::kString},
    {"first_seen", Kind::kTime},
    {"orders_count", Kind::kCount},
    {"last_order_at", Kind::kTime},
    {"total_spent", Kind::kMoney},
    {"affinity", Kind::kScoreMap, nullptr, tailor::kMaxAffinities},
    {"purchases", Kind::kList, &kPurchase, tailor::kMaxPurchases},
    {"viewed", Kind::kList, &kViewed, tailor::kMaxViewed},
    {"cart", Kind::kList, &kCart, tailor::kMaxCartLines},
    {"cart_at", Kind::kTime},
    {"loyalty", Kind::kObject, &kLoyalty},
    {"flags", Kind::kObject, &kFlags},
    {"consent", Kind::kObject, &kConsent},
    {"attrs", Kind::kAttrMap, nullptr, tailor::kMaxAttributes},
};
constexpr Field kLiveFields[] = {
    {"v", Kind::kVersion},
    {"visits", Kind::kCount},
    {"first_seen", Kind::kTime},
    {"last_seen", Kind::kTime},
    {"viewed", Kind::kList, &kViewed, tailor::kMaxViewed},
    {"cart", Kind::kList, &kCart, tailor::kMaxCartLines},
    {"cart_at", Kind::kTime},
    {"purchased", Kind::kList, &kPurchase, tailor::kMaxPurchases},
    {"last_order_at", Kind::kTime},
    {"acquisition", Kind::kObject, &kAcquisition},
};
constexpr Schema kProfileSchema = schema_of(kProfileFields);
constexpr Schema kLiveSchema = schema_of(kLiveFields);

// --- validation -------------------------------------------------------------------

class Validator {
  public:
    explicit Validator(bool allow_unknown) : allow_unknown_(allow_unknown) {}

    void object(const json& j, const Schema& schema, const std::string& path) {
        if (!j.is_object()) {
            fail(path, "expected an object", j);
            return;
        }
        for (size_t i = 0; i < schema.size; ++i) {
            const Field& f = schema.fields[i];
            if (f.required && (!j.contains(f.name) || j.at(std::string(f.name)).is_null())) {
                errors_.push_back(join(path, f.name) + ": required");
            }
        }
        for (const auto& [key, value] : j.items()) {
            const Field* field = find(schema, key);
            const std::string where = join(path, key);
            if (field == nullptr) {
                if (!allow_unknown_) {
                    errors_.push_back(where + ": unknown field (a typo? --allow-unknown keeps it)");
                }
                continue;
            }
            if (!value.is_null()) {  // null is the same as missing
                check(*field, value, where);
            }
        }
    }

    const std::vector<std::string>& errors() const { return errors_; }

  private:
    static std::string join(const std::string& path, std::string_view key) {
        return path.empty() ? std::string(key) : path + "." + std::string(key);
    }

    static const Field* find(const Schema& schema, std::string_view key) {
        for (size_t i = 0; i < schema.size; ++i) {
            if (schema.fields[i].name == key) {
                return &schema.fields[i];
            }
        }
        return nullptr;
    }

    void fail(const std::string& where, std::string_view expected, const json& got) {
        std::string shown = got.dump(-1, ' ', false, json::error_handler_t::replace);
        if (shown.size() > 40) {
            shown = shown.substr(0, 37) + "...";
        }
        errors_.push_back(where + ": " + std::string(expected) + ", got " + shown);
    }

    void integer(const json& j, int64_t lo, int64_t hi, const std::string& where,
                 std::string_view expected) {
        bool ok = false;
        if (j.is_number_unsigned()) {
            // hi >= 0 for every kind, so v fits in int64_t once it is <= hi.
            const uint64_t v = j.get<uint64_t>();
            ok = v <= static_cast<uint64_t>(hi) && static_cast<int64_t>(v) >= lo;
        } else if (j.is_number_integer()) {
            const int64_t v = j.get<int64_t>();
            ok = v >= lo && v <= hi;
        }
        if (!ok) {
            fail(where, expected, j);
        }
    }

    void check(const Field& f, const json& j, const std::string& where) {
        constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
        switch (f.kind) {
            case Kind::kString:
                if (!j.is_string()) {
                    fail(where, "expected a string", j);
                }
                break;
            case Kind::kBool:
                if (!j.is_boolean()) {
                    fail(where, "expected true or false", j);
                }
                break;
            case Kind::kVersion:
                integer(j, 1, tailor::kProfileSchemaVersion, where,
                        "expected schema version 1 (this tailorctl reads schema 1)");
                break;
            case Kind::kTime:
                integer(j, 0, tailor::kMaxTime, where, "expected unix seconds (an integer >= 0)");
                break;
            case Kind::kCount:
                integer(j, 0, kInt64Max, where, "expected an integer >= 0");
                break;
            case Kind::kMoney:
                integer(j, 0, tailor::kMaxMoney, where,
                        "expected an integer amount in minor units (cents), 0 to 10^12");
                break;
            case Kind::kQuantity:
                integer(j, 1, tailor::kMaxQuantity, where, "expected an integer from 1 to 1000000");
                break;
            case Kind::kCycleDays:
                integer(j, 0, tailor::kMaxCycleDays, where,
                        "expected days as an integer from 0 to 36500");
                break;
            case Kind::kPoints:
                integer(j, std::numeric_limits<int64_t>::min(), kInt64Max, where,
                        "expected an integer");
                break;
            case Kind::kObject:
                object(j, *f.sub, where);
                break;
            case Kind::kList:
                if (!j.is_array()) {
                    fail(where, "expected an array", j);
                    break;
                }
                if (j.size() > f.cap) {
                    errors_.push_back(where + ": " + std::to_string(j.size()) +
                                      " entries, the module reads at most " +
                                      std::to_string(f.cap) + " (newest first)");
                }
                for (size_t i = 0; i < j.size(); ++i) {
                    object(j[i], *f.sub, where + "[" + std::to_string(i) + "]");
                }
                break;
            case Kind::kScoreMap:
            case Kind::kAttrMap:
                map(f, j, where);
                break;
        }
    }

    void map(const Field& f, const json& j, const std::string& where) {
        if (!j.is_object()) {
            fail(where, "expected an object", j);
            return;
        }
        if (j.size() > f.cap) {
            errors_.push_back(where + ": " + std::to_string(j.size()) +
                              " entries, the module reads at most " + std::to_string(f.cap));
        }
        for (const auto& [key, value] : j.items()) {
            const std::string at = where + "." + key;
            if (key.empty()) {
                errors_.push_back(where + ": empty key");
            } else if (f.kind == Kind::kScoreMap && !value.is_number()) {
                fail(at, "expected a number (score)", value);
            } else if (f.kind == Kind::kAttrMap && !value.is_string() && !value.is_number() &&
                       !value.is_boolean()) {
                fail(at, "expected a string, number or boolean", value);
            }
        }
    }

    bool allow_unknown_;
    std::vector<std::string> errors_;
};

}  // namespace

std::vector<std::string> check_profile_json(const json& j, bool live, bool allow_unknown) {
    Validator validator(allow_unknown);
    validator.object(j, live ? kLiveSchema : kProfileSchema, "");
    return validator.errors();
}

}  // namespace tailorctl
