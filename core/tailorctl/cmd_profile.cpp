// tailorctl profile: visitor profiles between JSON (people) and MessagePack (Redis),
// schema-checked (profile_schema.cpp); `profile erase` is in cmd_profile_erase.cpp.
//
//   tailorctl profile encode [--live] [--allow-unknown] < p.json > p.msgpack
//   tailorctl profile decode [--live | --live-file F] < p.msgpack > p.json
//
// encode checks the JSON against docs/profile.md and names every offending
// field (`purchases[2].qty: expected an integer from 1 to 1000000, got "2"`),
// so a shop's export job fails loudly here rather than being quietly ignored
// field by field in the module. decode prints what the module sees: the
// decoded Profile, defaults filled in, capped and merged.
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "profile_schema.h"
#include "tailor/profile/decode.h"

namespace tailorctl {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// --- JSON -> MessagePack ----------------------------------------------------------

void pack(msgpack_packer* pk, const json& j) {
    switch (j.type()) {
        case json::value_t::null:
        case json::value_t::discarded:
            msgpack_pack_nil(pk);
            break;
        case json::value_t::boolean:
            j.get<bool>() ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
            break;
        case json::value_t::number_integer:
            msgpack_pack_int64(pk, j.get<int64_t>());
            break;
        case json::value_t::number_unsigned:
            msgpack_pack_uint64(pk, j.get<uint64_t>());
            break;
        case json::value_t::number_float:
            msgpack_pack_double(pk, j.get<double>());
            break;
        case json::value_t::string: {
            const auto& s = j.get_ref<const std::string&>();
            msgpack_pack_str_with_body(pk, s.data(), s.size());
            break;
        }
        case json::value_t::binary: {
            const auto& b = j.get_binary();
            msgpack_pack_bin_with_body(pk, b.data(), b.size());
            break;
        }
        case json::value_t::array:
            msgpack_pack_array(pk, j.size());
            for (const auto& e : j) {
                pack(pk, e);
            }
            break;
        case json::value_t::object:
            msgpack_pack_map(pk, j.size());
            for (const auto& [key, value] : j.items()) {
                msgpack_pack_str_with_body(pk, key.data(), key.size());
                pack(pk, value);
            }
            break;
    }
}

// --- Profile -> JSON --------------------------------------------------------------

std::string str(std::string_view v) {
    return std::string(v);
}

ordered_json viewed_json(const std::vector<tailor::ViewedItem>& items) {
    ordered_json out = ordered_json::array();
    for (const auto& v : items) {
        out.push_back(
            {{"sku", str(v.sku)}, {"category", str(v.category)}, {"at", v.at}, {"price", v.price}});
    }
    return out;
}

ordered_json consent_json(const tailor::ProfileConsent& c) {
    ordered_json out = ordered_json::object();
    const std::pair<const char*, tailor::ConsentFlag> flags[] = {
        {"personalization", c.personalization}, {"email", c.email}, {"sms", c.sms}};
    for (const auto& [name, flag] : flags) {
        if (flag != tailor::ConsentFlag::kUnknown) {  // unknown: the shop recorded nothing
            out[name] = flag == tailor::ConsentFlag::kGranted;
        }
    }
    return out;
}

ordered_json profile_json(const tailor::Profile& p) {
    ordered_json out;
    out["v"] = p.version;
    out["first_name"] = str(p.first_name);
    out["currency"] = str(p.currency);
    out["first_seen"] = p.first_seen;
    out["orders_count"] = p.orders_count;
    out["last_order_at"] = p.last_order_at;
    out["total_spent"] = p.total_spent;
    out["affinity"] = ordered_json::object();
    for (const auto& a : p.affinities) {
        out["affinity"][str(a.category)] = a.score;
    }
    out["purchases"] = ordered_json::array();
    for (const auto& x : p.purchases) {
        out["purchases"].push_back({{"sku", str(x.sku)},
                                    {"category", str(x.category)},
                                    {"at", x.at},
                                    {"qty", x.qty},
                                    {"cycle_days", x.cycle_days},
                                    {"price", x.price}});
    }
    out["viewed"] = viewed_json(p.viewed);
    out["cart"] = ordered_json::array();
    for (const auto& c : p.cart) {
        out["cart"].push_back(
            {{"sku", str(c.sku)}, {"qty", c.qty}, {"added_at", c.added_at}, {"price", c.price}});
    }
    out["cart_at"] = p.cart_at;
    out["loyalty"] = {{"points", p.loyalty.points},
                      {"tier", str(p.loyalty.tier)},
                      {"points_expire_at", p.loyalty.points_expire_at}};
    out["flags"] = {{"open_return", p.flags.open_return},
                    {"open_complaint", p.flags.open_complaint},
                    {"unsubscribed", p.flags.unsubscribed}};
    out["consent"] = consent_json(p.consent);
    out["attrs"] = ordered_json::object();
    for (const auto& a : p.attributes) {
        switch (a.type) {
            case tailor::AttributeType::kString:
                out["attrs"][str(a.name)] = str(a.text);
                break;
            case tailor::AttributeType::kNumber:
                out["attrs"][str(a.name)] = a.number;
                break;
            case tailor::AttributeType::kBool:
                out["attrs"][str(a.name)] = a.boolean;
                break;
        }
    }
    // Module-written facts live under their own key, so the rest of the
    // output is a valid `profile encode` input again.
    if (p.has_live) {
        out["live"] = {{"visits", p.visits},
                       {"last_seen", p.last_seen},
                       {"acquisition",
                        {{"source", str(p.acquisition.source)},
                         {"medium", str(p.acquisition.medium)},
                         {"campaign", str(p.acquisition.campaign)},
                         {"referrer", str(p.acquisition.referrer)},
                         {"at", p.acquisition.at}}}};
    }
    return out;
}

// --- stdio --------------------------------------------------------------------------

bool read_all(std::FILE* in, std::string* out) {
    char buf[65536];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) {
        out->append(buf, n);
    }
    return std::ferror(in) == 0;
}

bool read_path(const std::string& path, std::string* out) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        return false;
    }
    const bool ok = read_all(f, out);
    std::fclose(f);
    return ok;
}

int usage() {
    print_profile_usage(stderr);
    return kExitUsage;
}

void print_stats(const tailor::ProfileDecodeStats& s) {
    if (s.unknown + s.wrong_type + s.over_limit > 0) {
        std::fprintf(stderr,
                     "tailorctl profile: ignored %" PRIu32 " unknown, %" PRIu32
                     " wrong-typed and %" PRIu32 " over-limit field(s)\n",
                     s.unknown, s.wrong_type, s.over_limit);
    }
}

int run_encode(const Args& args) {
    bool live = false;
    bool allow_unknown = false;
    for (std::string_view a : args) {
        if (a == "--live") {
            live = true;
        } else if (a == "--allow-unknown") {
            allow_unknown = true;
        } else {
            return usage();
        }
    }
    if (isatty(fileno(stdout))) {
        std::fprintf(stderr, "tailorctl profile encode: stdout is a terminal; redirect it\n");
        return kExitUsage;
    }
    std::string text;
    if (!read_all(stdin, &text)) {
        std::fprintf(stderr, "tailorctl profile encode: cannot read stdin\n");
        return kExitFailure;
    }
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        std::fprintf(stderr, "tailorctl profile encode: stdin is not valid JSON\n");
        return kExitFailure;
    }
    const std::vector<std::string> errors = check_profile_json(j, live, allow_unknown);
    if (!errors.empty()) {
        for (const std::string& e : errors) {
            std::fprintf(stderr, "%s\n", e.c_str());
        }
        return kExitFailure;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack(&pk, j);
    const std::string_view bytes(sb.data, sb.size);
    int rc = kExitOk;
    // What the module would do with these bytes; a refusal here is a bug in
    // this encoder or a profile over a bound the schema check cannot see.
    const auto decoded = live ? tailor::decode_profile({}, bytes) : tailor::decode_profile(bytes);
    const tailor::ProfileError error = live ? decoded.live_error : decoded.error;
    if (error != tailor::ProfileError::kNone) {
        const auto name = tailor::profile_error_name(error);
        std::fprintf(stderr,
                     "tailorctl profile encode: the module would refuse this (%.*s, %zu bytes)\n",
                     static_cast<int>(name.size()), name.data(), bytes.size());
        rc = kExitFailure;
    } else if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
               std::fflush(stdout) != 0) {
        std::fprintf(stderr, "tailorctl profile encode: cannot write stdout\n");
        rc = kExitFailure;
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

int run_decode(const Args& args) {
    bool live = false;
    std::string live_file;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--live") {
            live = true;
        } else if (args[i] == "--live-file" && i + 1 < args.size()) {
            live_file = std::string(args[++i]);
        } else {
            return usage();
        }
    }
    if (live && !live_file.empty()) {
        return usage();
    }
    std::string in;
    std::string live_bytes;
    if (!read_all(stdin, &in)) {
        std::fprintf(stderr, "tailorctl profile decode: cannot read stdin\n");
        return kExitFailure;
    }
    if (!live_file.empty() && !read_path(live_file, &live_bytes)) {
        std::fprintf(stderr, "tailorctl profile decode: cannot read %s\n", live_file.c_str());
        return kExitFailure;
    }
    const auto r = live ? tailor::decode_profile({}, in) : tailor::decode_profile(in, live_bytes);
    if (!r.profile) {
        const auto name = tailor::profile_error_name(r.error);
        std::fprintf(
            stderr,
            "tailorctl profile decode: refused: %.*s (the module serves the default page)\n",
            static_cast<int>(name.size()), name.data());
        return kExitFailure;
    }
    if (r.live_error != tailor::ProfileError::kNone) {
        const auto name = tailor::profile_error_name(r.live_error);
        std::fprintf(stderr, "tailorctl profile decode: live map refused: %.*s\n",
                     static_cast<int>(name.size()), name.data());
        if (live) {
            return kExitFailure;
        }
    }
    print_stats(r.stats);
    const std::string out =
        profile_json(*r.profile).dump(2, ' ', false, json::error_handler_t::replace);
    std::printf("%s\n", out.c_str());
    return kExitOk;
}

}  // namespace

int run_profile(const Args& args) {
    if (args.empty()) {
        return usage();
    }
    const Args rest(args.begin() + 1, args.end());
    if (args[0] == "encode") {
        return run_encode(rest);
    }
    if (args[0] == "decode") {
        return run_decode(rest);
    }
    if (args[0] == "erase") {
        return run_profile_erase(rest);
    }
    return usage();
}

void print_profile_usage(std::FILE* out) {
    std::fprintf(
        out,
        "usage: tailorctl profile encode [--live] [--allow-unknown] < in.json > out.msgpack\n"
        "       tailorctl profile decode [--live | --live-file LIVE.msgpack] < in.msgpack\n"
        "       tailorctl profile erase VID --redis HOST:PORT\n"
        "  encode  checks JSON against the profile schema (docs/profile.md) and writes\n"
        "          MessagePack; --live checks the module's live map schema instead\n"
        "  decode  prints what the module sees as JSON; --live reads stdin as a live\n"
        "          map, --live-file merges a live map into the profile on stdin\n"
        "  erase   deletes every key of the visitor (the right to be forgotten)\n");
}

}  // namespace tailorctl
