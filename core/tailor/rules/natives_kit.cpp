// The natives the rule kit calls to read the profile without building Lua
// tables: recommendations, the consumable due for reorder, flags, loyalty,
// affinities and the request facts.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>

#include "tailor/base/ascii.h"
#include "tailor/rules/natives.h"

namespace tailor {
namespace rules_detail {
namespace {

// Renders one recommendation item into `html`: variables sku, and name
// (default: the sku), url, category from the catalog entry at `entry` (a
// table, or anything else for none). Values stay on the stack until the
// caller restores its top.
void render_item(lua_State* L, const Template& tpl, std::string_view sku, int entry,
                 std::string& html) {
    bool has_item = lua_istable(L, entry);
    auto lookup = [&](std::string_view name, TemplateValue* value) -> bool {
        if (name == "sku") {
            value->text = sku;
            return true;
        }
        if (!has_item || (name != "name" && name != "url" && name != "category")) {
            if (name == "name") {
                value->text = sku;
                return true;
            }
            return false;
        }
        lua_pushlstring(L, name.data(), name.size());
        lua_rawget(L, entry);  // stays on the stack until this item is done
        size_t len = 0;
        const char* s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : nullptr;
        if (s == nullptr || len == 0) {
            if (name == "name") {
                value->text = sku;
                return true;
            }
            return false;
        }
        value->text = std::string_view(s, len);
        return true;
    };
    tpl.render_with(html, lookup);
}

// What native.recommend's reused html may keep between calls (Impl::recommend_html).
constexpr size_t kKeptRecommendBytes = 16 * 1024;

// Candidate picking for native.recommend: an array and a set at once, as
// the kit's offer_all did it, straight from the Profile.
struct Picker {
    const Profile& p;
    double limit;
    std::vector<std::string_view>& picked;  // empty at the start

    bool full() const { return static_cast<double>(picked.size()) >= limit; }

    void offer(std::string_view sku) {
        if (sku.empty() || full()) {
            return;
        }
        for (std::string_view q : picked) {
            if (q == sku) {
                return;
            }
        }
        for (const Purchase& line : p.purchases) {  // anything bought is never shown
            if (line.sku == sku) {
                return;
            }
        }
        if (p.in_cart(sku)) {
            return;
        }
        picked.push_back(sku);
    }

    // The list at `list` (pairs[sku]): its strings in order, anything else
    // skipped; a string or false/nil offers nothing, as in the kit before.
    void offer_list(lua_State* L, int list) {
        if (lua_type(L, list) != LUA_TTABLE) {
            return;
        }
        int n = static_cast<int>(lua_objlen(L, list));
        for (int i = 1; i <= n && !full(); ++i) {
            lua_rawgeti(L, list, i);
            if (lua_type(L, -1) == LUA_TSTRING) {
                size_t len = 0;
                const char* s = lua_tolstring(L, -1, &len);
                offer(std::string_view(s, len));  // the string lives in the pack's table
            }
            lua_pop(L, 1);
        }
    }
};

}  // namespace

// native.recommend(v, item template, sources, pairs, catalog, limit, min_items) -> n, html
// The recommendations rule's picking and rendering in one call, reading the
// Profile behind `v` directly instead of building v.purchased, v.in_cart,
// v.viewed_skus and v.purchase_skus: candidates from `sources` in order
// ("viewed", "paired", "replenish", "attribute:NAME"), deduplicated, never
// bought or in the cart, up to `limit`. html is "" when n < min_items.
int native_recommend(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile* profile = m->view.profile_of(L, 1);
    if (profile == nullptr) {
        return luaL_error(L, "visitor view used outside its evaluation");
    }
    size_t tpl = check_index(L, 2, m->templates.size(), "template");
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_checktype(L, 4, LUA_TTABLE);
    luaL_checktype(L, 5, LUA_TTABLE);
    lua_Number limit = luaL_checknumber(L, 6);
    lua_Number min_items = luaL_checknumber(L, 7);
    lua_settop(L, 7);
    if (!lua_checkstack(L, 16)) {
        return luaL_error(L, "not enough memory");
    }
    const Profile& p = *profile;
    std::optional<std::vector<const Purchase*>> consumables;
    std::string& html = m->recommend_html;
    html.clear();
    m->recommend_picked.clear();
    size_t n = 0;
    // Lua errors (longjmp) may only be raised outside the guarded C++ body.
    const char* bad_pairs = nullptr;
    // pairs[sku]'s list; false (and bad_pairs set) for what `#list` refuses
    auto offer_paired = [&](Picker& picker, std::string_view sku) -> bool {
        int top = lua_gettop(L);
        lua_pushlstring(L, sku.data(), sku.size());
        lua_rawget(L, 4);
        int type = lua_type(L, -1);
        if (type != LUA_TNIL && type != LUA_TTABLE && type != LUA_TSTRING &&
            !(type == LUA_TBOOLEAN && lua_toboolean(L, -1) == 0)) {
            bad_pairs = lua_typename(L, type);
        } else {
            picker.offer_list(L, top + 1);
        }
        lua_settop(L, top);
        return bad_pairs == nullptr;
    };
    guarded(L, [&]() -> int {
        Picker picker{p, limit, m->recommend_picked};
        int sources = static_cast<int>(lua_objlen(L, 3));
        for (int si = 1; si <= sources && !picker.full(); ++si) {
            lua_rawgeti(L, 3, si);
            size_t len = 0;
            const char* s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : "";
            std::string_view source(s, len);
            lua_pop(L, 1);  // the kit's sources list keeps the string alive
            if (source == "viewed") {
                for (const ViewedItem& item : p.viewed) {
                    picker.offer(item.sku);
                }
            } else if (source == "paired") {
                for (const Purchase& line : p.purchases) {
                    if (picker.full() || !offer_paired(picker, line.sku)) {
                        break;
                    }
                }
            } else if (source == "replenish") {
                // a consumable due again is a purchase, so exclusion would
                // drop it; it is offered through its pairs instead
                if (!consumables) {
                    consumables = latest_consumables(p);
                }
                for (const Purchase* line : *consumables) {
                    if (picker.full() || !offer_paired(picker, line->sku)) {
                        break;
                    }
                }
            } else if (source.size() > 10 && source.substr(0, 10) == "attribute:") {
                std::string_view name = source.substr(10);
                const Attribute* found = nullptr;
                for (const Attribute& a : p.attributes) {
                    if (a.name == name) {
                        found = &a;  // the view keeps the last one of a name
                    }
                }
                if (found != nullptr && found->type == AttributeType::kString) {
                    std::string_view text = found->text;
                    size_t i = 0;
                    while (i < text.size() && !picker.full()) {
                        while (i < text.size() && (text[i] == ',' || is_ascii_space(text[i]))) {
                            ++i;
                        }
                        size_t start = i;
                        while (i < text.size() && text[i] != ',' && !is_ascii_space(text[i])) {
                            ++i;
                        }
                        if (i > start) {
                            picker.offer(text.substr(start, i - start));
                        }
                    }
                }
            }
        }
        if (bad_pairs != nullptr) {
            return 0;
        }
        n = picker.picked.size();
        if (static_cast<double>(n) < min_items) {
            return 0;
        }
        for (std::string_view sku : picker.picked) {
            int top = lua_gettop(L);
            lua_pushlstring(L, sku.data(), sku.size());
            lua_rawget(L, 5);  // top + 1: catalog entry or nil
            render_item(L, m->templates[tpl], sku, top + 1, html);
            lua_settop(L, top);
        }
        return 0;
    });
    if (bad_pairs != nullptr) {
        return luaL_error(L, "recommendations: pairs entry is a %s, not a list", bad_pairs);
    }
    lua_pushnumber(L, static_cast<lua_Number>(n));
    lua_pushlstring(L, html.data(), html.size());
    if (html.capacity() > kKeptRecommendBytes) {
        std::string().swap(html);  // a rare long list keeps no room
    }
    return 2;
}

// native.due_consumable(v, within, overdue) -> sku, category, due_in_days,
// days_since_purchase | nothing
// The reorder prompt's search over v.consumables (soonest due first, not in
// the cart, due within [now - overdue, now + within] seconds), straight from
// the Profile, so the consumables list is not built for it.
int native_due_consumable(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile* profile = m->view.profile_of(L, 1);
    if (profile == nullptr || m->facts == nullptr) {
        return luaL_error(L, "visitor view used outside its evaluation");
    }
    lua_Number within = luaL_checknumber(L, 2);
    lua_Number overdue = luaL_checknumber(L, 3);
    int64_t now = m->facts->now;
    const Purchase* found = nullptr;
    bool failed = false;
    try {
        for (const Purchase* line : latest_consumables(*profile)) {
            auto delta =
                static_cast<lua_Number>(line->at + line->cycle_days * kSecondsPerDay - now);
            if (!profile->in_cart(line->sku) && delta <= within && delta >= -overdue) {
                found = line;
                break;
            }
        }
    } catch (const std::exception&) {
        failed = true;
    }
    if (failed) {
        return luaL_error(L, "not enough memory");
    }
    if (found == nullptr) {
        return 0;
    }
    int64_t due_in = found->at + found->cycle_days * kSecondsPerDay - now;
    int64_t due_days = due_in / kSecondsPerDay;
    if (due_in % kSecondsPerDay != 0 && due_in < 0) {
        --due_days;  // floor, as v.consumables' due_in_days
    }
    lua_pushlstring(L, found->sku.data(), found->sku.size());
    if (found->category.empty()) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, found->category.data(), found->category.size());
    }
    lua_pushnumber(L, static_cast<lua_Number>(due_days));
    lua_pushnumber(
        L, static_cast<lua_Number>(now > found->at ? (now - found->at) / kSecondsPerDay : 0));
    return 4;
}

// The Profile behind the view at 1, or a Lua error outside its evaluation.
const Profile& checked_profile(lua_State* L, Impl* m) {
    const Profile* profile = m->view.profile_of(L, 1);
    if (profile == nullptr || m->facts == nullptr) {
        luaL_error(L, "visitor view used outside its evaluation");
        __builtin_unreachable();  // luaL_error unwinds to the protected call
    }
    return *profile;
}

// native.flags(v) -> open_return, open_complaint: what t.suppressed reads of
// v.flags, without building that table
int native_flags(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile& p = checked_profile(L, m);
    lua_pushboolean(L, p.flags.open_return ? 1 : 0);
    lua_pushboolean(L, p.flags.open_complaint ? 1 : 0);
    return 2;
}

// native.loyalty(v) -> points, tier, days_to_points_expiry: v.loyalty's
// fields (nil where the view has none), without building that table
int native_loyalty(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile& p = checked_profile(L, m);
    lua_pushnumber(L, static_cast<lua_Number>(p.loyalty.points));
    if (p.loyalty.tier.empty()) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, p.loyalty.tier.data(), p.loyalty.tier.size());
    }
    if (p.loyalty.points_expire_at > 0) {
        int64_t left = p.loyalty.points_expire_at - m->facts->now;
        int64_t days = left / kSecondsPerDay;
        if (left % kSecondsPerDay != 0 && left < 0) {
            --days;  // floor, as the view
        }
        lua_pushnumber(L, static_cast<lua_Number>(days));
    } else {
        lua_pushnil(L);
    }
    return 3;
}

// native.affinity(v, category) -> score | nil: v.affinity[category]
// (the last entry of a category, as the view), without building v.affinity
int native_affinity(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile& p = checked_profile(L, m);
    std::string_view category = check_sv(L, 2);
    const Affinity* found = nullptr;
    for (const Affinity& a : p.affinities) {
        if (a.category == category) {
            found = &a;
        }
    }
    if (found == nullptr) {
        lua_pushnil(L);
    } else {
        lua_pushnumber(L, found->score);
    }
    return 1;
}

// native.request(v, field) -> v.request.path (1), .referrer (2) or .device
// (3), nil when empty, without building v.request
int native_request(lua_State* L) {
    Impl* m = impl_of(L);
    (void)checked_profile(L, m);
    lua_Integer field = luaL_checkinteger(L, 2);
    std::string_view value;
    if (field == 1) {
        value = m->facts->path;
    } else if (field == 2) {
        value = m->facts->referrer_source;
    } else if (field == 3) {
        value = m->facts->device_class;
    }
    if (value.empty()) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, value.data(), value.size());
    }
    return 1;
}

}  // namespace rules_detail
}  // namespace tailor
