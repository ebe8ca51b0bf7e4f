// EventSchema: type names both ways, custom names, property kinds and the personal-data check.
#include "tailor/events/schema.h"

#include "tailor/base/ascii.h"

#include <array>

namespace tailor {
namespace {

struct TypeName {
    EventType type;
    std::string_view segment;
    std::string_view klaviyo;
};

constexpr std::array<TypeName, 9> kTypeNames = {{
    {EventType::kPageViewed, "Page Viewed", "Active on Site"},
    {EventType::kProductViewed, "Product Viewed", "Viewed Product"},
    {EventType::kProductAdded, "Product Added", "Added to Cart"},
    {EventType::kProductRemoved, "Product Removed", ""},
    {EventType::kCartViewed, "Cart Viewed", ""},
    {EventType::kCheckoutStarted, "Checkout Started", "Started Checkout"},
    {EventType::kOrderCompleted, "Order Completed", "Placed Order"},
    {EventType::kProductsSearched, "Products Searched", ""},
    {EventType::kIdentify, "Identify", ""},
}};

}  // namespace

bool valid_custom_event_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxEventNameBytes || !is_ascii_alpha(name[0])) {
        return false;
    }
    for (char c : name) {
        if (!(is_ascii_alnum(c) || c == ' ' || c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

std::string_view event_type_name(EventType type) noexcept {
    for (const TypeName& t : kTypeNames) {
        if (t.type == type) {
            return t.segment;
        }
    }
    return {};
}

std::string_view klaviyo_metric_name(EventType type) noexcept {
    for (const TypeName& t : kTypeNames) {
        if (t.type == type) {
            return t.klaviyo;
        }
    }
    return {};
}

std::optional<EventType> parse_event_type(std::string_view name) noexcept {
    for (const TypeName& t : kTypeNames) {
        if (t.segment == name) {
            return t.type;
        }
    }
    if (valid_custom_event_name(name)) {
        return EventType::kCustom;
    }
    return std::nullopt;
}

PropertyKind default_property_kind(std::string_view name) noexcept {
    static constexpr std::string_view kNumeric[] = {
        "price",    "quantity", "value",    "revenue",  "total",
        "subtotal", "tax",      "shipping", "discount", "position",
    };
    for (std::string_view n : kNumeric) {
        if (n == name) {
            return PropertyKind::kNumber;
        }
    }
    return PropertyKind::kString;
}

std::string_view property_name_error_reason(PropertyNameError error) noexcept {
    switch (error) {
        case PropertyNameError::kOk:
            return "ok";
        case PropertyNameError::kEmpty:
            return "is empty";
        case PropertyNameError::kTooLong:
            return "is longer than 40 characters";
        case PropertyNameError::kBadCharacter:
            return "must be letters, digits and '_', not starting with a digit";
        case PropertyNameError::kPersonalData:
            break;
    }
    return "names personal data, which events never carry";
}

PropertyNameError check_property_name(std::string_view name) noexcept {
    if (name.empty()) {
        return PropertyNameError::kEmpty;
    }
    if (name.size() > kMaxPropertyNameBytes) {
        return PropertyNameError::kTooLong;
    }
    if (is_ascii_digit(name[0])) {
        return PropertyNameError::kBadCharacter;
    }
    char buf[kMaxPropertyNameBytes];
    size_t n = 0;
    for (char c : name) {
        if (!(is_ascii_alnum(c) || c == '_')) {
            return PropertyNameError::kBadCharacter;
        }
        if (c != '_') {
            buf[n++] = ascii_lower(c);
        }
    }
    const std::string_view norm(buf, n);
    static constexpr std::string_view kExact[] = {
        "name", "ip", "ua", "dob", "ssn", "zip", "tel", "phone", "mobile", "age", "gender",
    };
    for (std::string_view e : kExact) {
        if (norm == e) {
            return PropertyNameError::kPersonalData;
        }
    }
    static constexpr std::string_view kContains[] = {
        "email",        "mail",         "phone",          "firstname",  "lastname",
        "fullname",     "surname",      "givenname",      "familyname", "username",
        "customername", "middlename",   "nickname",       "address",    "street",
        "postcode",     "zipcode",      "postalcode",     "birth",      "password",
        "passwd",       "useragent",    "ipaddr",         "creditcard", "cardnumber",
        "cvv",          "iban",         "socialsecurity", "token",      "secret",
        "billingname",  "shippingname", "contactname",    "realname",   "displayname",
    };
    for (std::string_view c : kContains) {
        if (norm.find(c) != std::string_view::npos) {
            return PropertyNameError::kPersonalData;
        }
    }
    return PropertyNameError::kOk;
}

}  // namespace tailor
