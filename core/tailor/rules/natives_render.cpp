// Rendering a rule's template with its vars and the visitor view; the natives fill and render.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <lua.hpp>

#include "tailor/html/template.h"
#include "tailor/rules/natives.h"
#include "tailor/rules/visitor_view.h"

namespace tailor {
namespace rules_detail {

namespace {

// Template lookups read the rule's vars first, then the visitor view; dotted
// names walk into tables. Values stay on the Lua stack until the render is
// done, so their text cannot be collected under the template.
struct LuaLookup {
    lua_State* L;
    int vars;  // stack index or 0
    int view;  // stack index or 0
    int trusted_ref;
    int trusted_text;                            // stack index of kit.trusted_html
    int names;                                   // stack index of the interned names
    const std::vector<Impl::RenderName>* order;  // this template's names, in render order
    const LuaVisitorView* live;                  // the runtime's view
    bool vars_table;                             // vars is a table (asked once per render)
    bool view_table;                             // the same for the view
    size_t next = 0;                             // the next placeholder render asks for
    int fields = 0;        // stack index of what view fields are read from, 0: not resolved yet
    char number[24] = {};  // a whole number's digits, used before the next lookup

    // The interned first part of the name render asks for now (`cached`:
    // what prepare_render_names saw at this position); anything else is
    // interned afresh.
    void push_first(std::string_view part, const Impl::RenderName* cached) {
        if (cached != nullptr && cached->data == part.data() && cached->size == part.size()) {
            lua_rawgeti(L, names, cached->slot);
            return;
        }
        lua_pushlstring(L, part.data(), part.size());
    }

    // Lua's tostring of a number ("%.14g") for whole numbers below 1e14,
    // without making a Lua string; false for the rest.
    bool format_whole(lua_Number n, TemplateValue* value) {
        if (!(n > -1e14 && n < 1e14) || n != static_cast<lua_Number>(static_cast<int64_t>(n))) {
            return false;
        }
        auto i = static_cast<int64_t>(n);
        if (i == 0 && std::signbit(n)) {
            return false;  // "-0"
        }
        uint64_t u = i < 0 ? static_cast<uint64_t>(-i) : static_cast<uint64_t>(i);
        char* end = number + sizeof(number);
        char* p = end;
        do {
            *--p = static_cast<char>('0' + u % 10);
            u /= 10;
        } while (u != 0);
        if (i < 0) {
            *--p = '-';
        }
        value->text = std::string_view(p, static_cast<size_t>(end - p));
        value->trusted = false;
        return true;
    }

    bool operator()(std::string_view name, TemplateValue* value) {
        const Impl::RenderName* cached = next < order->size() ? &(*order)[next] : nullptr;
        ++next;
        size_t start = 0;
        bool first = true;
        while (start <= name.size()) {
            size_t dot = name.find('.', start);
            std::string_view part = name.substr(
                start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
            if (part.empty() || part.size() > Template::kMaxNameBytes || !lua_checkstack(L, 4)) {
                return false;
            }
            if (first) {
                push_first(part, cached);  // once, for both tables
                int key = lua_gettop(L);
                // the view raises on an unknown field; a template name
                // that is neither a var nor a field renders its default
                bool field = view_table && (cached != nullptr && cached->data == part.data()
                                                ? cached->field
                                                : LuaVisitorView::is_field(part));
                if (vars_table) {
                    lua_pushvalue(L, key);
                    lua_gettable(L, vars);
                    if (field && lua_isnil(L, -1)) {
                        lua_pop(L, 1);
                    } else {
                        field = false;  // found among the vars
                    }
                } else if (!field) {
                    lua_pushnil(L);
                }
                if (field) {
                    if (fields == 0) {
                        // the live view's own fields table: no trip through
                        // the proxy's metatable per name
                        fields = live->push_fields(L, view) ? lua_gettop(L) : view;
                    }
                    lua_pushvalue(L, key);
                    lua_gettable(L, fields);
                }
                first = false;
            } else {
                if (!lua_istable(L, -1)) {
                    return false;
                }
                lua_pushlstring(L, part.data(), part.size());
                lua_gettable(L, -2);
            }
            if (dot == std::string_view::npos) {
                break;
            }
            start = dot + 1;
        }
        int type = lua_type(L, -1);
        if (type == LUA_TNUMBER && format_whole(lua_tonumber(L, -1), value)) {
            return true;
        }
        if (type == LUA_TSTRING || type == LUA_TNUMBER) {
            size_t len = 0;
            const char* s = lua_tolstring(L, -1, &len);
            value->text = std::string_view(s, len);
            value->trusted = false;
            return len != 0;
        }
        if (type == LUA_TBOOLEAN) {
            value->text = lua_toboolean(L, -1) ? "true" : "false";
            value->trusted = false;
            return true;
        }
        if (type == LUA_TTABLE && lua_getmetatable(L, -1)) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, trusted_ref);
            bool is_trusted = lua_rawequal(L, -1, -2) != 0;
            lua_pop(L, 2);
            if (is_trusted) {
                lua_pushvalue(L, -1);
                lua_rawget(L, trusted_text);  // what its "html" field reads
                size_t len = 0;
                const char* s =
                    lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : nullptr;
                if (s != nullptr) {
                    value->text = std::string_view(s, len);
                    value->trusted = true;
                    return true;
                }
            }
        }
        return false;
    }
};

}  // namespace

void render_template(lua_State* L, Impl* m, size_t tpl, int vars, int view, std::string& out) {
    int top = lua_gettop(L);
    static const std::vector<Impl::RenderName> kNone;
    if (!lua_checkstack(L, 2)) {
        luaL_error(L, "not enough memory");
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->trusted_text_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->names_ref);
    LuaLookup lookup{L,
                     vars,
                     view,
                     m->trusted_ref,
                     top + 1,
                     top + 2,
                     tpl < m->render_names.size() ? &m->render_names[tpl] : &kNone,
                     &m->view,
                     vars != 0 && lua_type(L, vars) == LUA_TTABLE,
                     view != 0 && lua_type(L, view) == LUA_TTABLE};
    m->templates[tpl].render_with(out, lookup);
    lua_settop(L, top);
}

int prepare_render_names(lua_State* L) {
    auto* m = static_cast<Impl*>(lua_touserdata(L, 1));
    lua_newtable(L);
    int names = lua_gettop(L);
    int slots = 0;
    return guarded(L, [&]() -> int {
        m->render_names.assign(m->templates.size(), {});
        for (size_t t = 0; t < m->templates.size(); ++t) {
            for (std::string_view name : m->templates[t].variables()) {
                std::string_view head = name.substr(0, name.find('.'));
                lua_pushlstring(L, head.data(), head.size());
                lua_rawseti(L, names, ++slots);
                m->render_names[t].push_back(
                    {head.data(), head.size(), slots, LuaVisitorView::is_field(head)});
            }
        }
        lua_pushvalue(L, names);
        m->names_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return 0;
    });
}

// native.fill(slot, index, template, vars, v)
int native_fill(lua_State* L) {
    Impl* m = impl_of(L);
    std::string_view slot = check_sv(L, 1);
    size_t idx = check_index(L, 2, m->rules.size(), "rule");
    size_t tpl = check_index(L, 3, m->templates.size(), "template");
    lua_settop(L, 5);
    return guarded(L, [&]() -> int {
        std::string html;
        html.reserve(m->templates[tpl].literal_bytes() + 64);
        render_template(L, m, tpl, 4, 5, html);
        if (m->decision->set_slot(slot, std::move(html))) {
            ++m->rules[idx].wins;
            m->record(idx, RuleOutcome::kWon, "");
        } else {
            m->record(idx, RuleOutcome::kError, "decision is full (too many slots)");
        }
        return 0;
    });
}

// native.render(template, vars) -> string, for blocks built from items
int native_render(lua_State* L) {
    Impl* m = impl_of(L);
    size_t tpl = check_index(L, 1, m->templates.size(), "template");
    lua_settop(L, 2);
    return guarded(L, [&]() -> int {
        std::string html;
        render_template(L, m, tpl, 2, 0, html);
        lua_pushlstring(L, html.data(), html.size());
        return 1;
    });
}

}  // namespace rules_detail
}  // namespace tailor
