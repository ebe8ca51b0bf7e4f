// tailorctl profile erase: the right to be forgotten, for every id of one person.
//
//   tailorctl profile erase [--] VID --redis HOST:PORT [--redis-user U] [--redis-password P]
//                           [--user NAME] [--password-file PATH]
//                           [--stream KEY] [--tombstone-ttl SECONDS]
//   tailorctl profile erase --vid VID ...      (an id that starts with `-`)
//
// Follows the identity links both ways (an anonymous id's `merged_into`, a
// known id's `merged:<anon>` fields in the `ev` hash, store/keys.h), then for
// each id found: sets the tombstone `tailor:{id}:erased` (first, so the live
// script cannot re-create anything in between), deletes every data key, and
// appends a `Profile Erased` event naming the id to the stream, so the email
// side deletes too. The tombstone outlives any spool replay and profile cache
// (kErasedTombstoneSeconds); the live script and the profile read honour it.
// Older stream entries naming the ids are left to the stream's MAXLEN and to
// the consumers, who act on `Profile Erased` (docs/privacy.md says why).
// The password is best given by --password-file, REDISCLI_AUTH (as redis-cli)
// or TAILOR_REDIS_PASSWORD: a command line is readable by other users.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "redis_client.h"
#include "tailor/events/encode.h"
#include "tailor/events/event_id.h"
#include "tailor/store/keys.h"

namespace tailorctl {
namespace {

// One person rarely has more than a few ids (one per device and browser
// before logging in); the bound keeps a corrupt link graph finite.
constexpr size_t kMaxLinkedIds = 256;

struct EraseArgs {
    std::string vid;
    RedisOptions redis = redis_options_from_env();
    std::string password_file;
    std::string stream = "tailor:events";
    long long tombstone_ttl = tailor::kErasedTombstoneSeconds;
};

bool parse(const Args& args, EraseArgs* out) {
    bool options_done = false;
    bool bad = false;
    for (size_t i = 0; i < args.size() && !bad; i++) {
        if (!options_done && parse_redis_option(args, &i, &out->redis, &bad)) {
            continue;
        }
        const std::string_view a = args[i];
        const bool has_value = i + 1 < args.size();
        if (!options_done && a == "--") {
            options_done = true;
        } else if (!options_done && a == "--vid" && has_value && out->vid.empty()) {
            out->vid = std::string(args[++i]);
        } else if (!options_done && a == "--user" && has_value) {
            out->redis.user = std::string(args[++i]);
        } else if (!options_done && a == "--password-file" && has_value) {
            out->password_file = std::string(args[++i]);
        } else if (!options_done && a == "--stream" && has_value) {
            out->stream = std::string(args[++i]);
        } else if (!options_done && a == "--tombstone-ttl" && has_value) {
            char* end = nullptr;
            const std::string v(args[++i]);
            out->tombstone_ttl = std::strtoll(v.c_str(), &end, 10);
            if (end == v.c_str() || *end != '\0' || out->tombstone_ttl <= 0) {
                return false;
            }
        } else if (out->vid.empty() && !a.empty() && (options_done || a[0] != '-')) {
            out->vid = std::string(a);
        } else {
            return false;
        }
    }
    return !bad && !out->vid.empty() && !out->redis.address.empty() && !out->stream.empty();
}

bool ok_reply(const std::optional<Reply>& r, Reply::Type want) {
    if (r && r->type == want) {
        return true;
    }
    std::fprintf(stderr, "tailorctl: redis: %s\n",
                 r && r->type == Reply::Type::kError ? r->str.c_str() : "unexpected reply");
    return false;
}

// --password-file, else REDISCLI_AUTH (as redis-cli), when no --redis-password or
// TAILOR_REDIS_PASSWORD gave one.
bool read_password(EraseArgs* a) {
    if (!a->password_file.empty()) {
        std::ifstream in(a->password_file);
        if (!in || !std::getline(in, a->redis.password)) {
            std::fprintf(stderr, "tailorctl: cannot read %s\n", a->password_file.c_str());
            return false;
        }
    } else if (const char* env = std::getenv("REDISCLI_AUTH");
               env != nullptr && a->redis.password.empty()) {
        a->redis.password = env;
    }
    return true;
}

// Every id linked to `vid`, `vid` first; false on a Redis failure.
bool linked_ids(RedisClient* conn, const std::string& vid, std::vector<std::string>* ids) {
    std::set<std::string> seen = {vid};
    ids->push_back(vid);
    for (size_t next = 0; next < ids->size() && ids->size() < kMaxLinkedIds; next++) {
        const std::string id = (*ids)[next];
        std::optional<Reply> r =
            conn->command({"HGETALL", tailor::visitor_key(id, tailor::VisitorKeyKind::kEvents)});
        if (r && r->type == Reply::Type::kError && r->str.rfind("WRONGTYPE", 0) == 0) {
            continue;  // not ours to read; its DEL still removes it
        }
        if (!ok_reply(r, Reply::Type::kArray)) {
            return false;
        }
        for (size_t f = 0; f + 1 < r->elements.size(); f += 2) {
            const std::string& field = r->elements[f].str;
            std::string other;
            if (field == tailor::kMergedIntoField) {
                other = r->elements[f + 1].str;
            } else if (field.rfind(tailor::kMergedFromFieldPrefix, 0) == 0) {
                other = field.substr(tailor::kMergedFromFieldPrefix.size());
            }
            if (!other.empty() && seen.insert(other).second && ids->size() < kMaxLinkedIds) {
                ids->push_back(other);
            }
        }
    }
    return true;
}

// The `Profile Erased` event for the email side, encoded like the module's.
bool append_erased_event(RedisClient* conn, const std::string& stream, const std::string& vid) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    std::optional<tailor::EventId> id = tailor::EventId::generate(now_ms);
    if (!id) {
        std::fprintf(stderr, "tailorctl: no random bytes for an event id\n");
        return false;
    }
    tailor::Event e(*id);
    e.type = tailor::EventType::kCustom;
    e.name = "Profile Erased";
    e.vid = vid;
    e.ts_ms = now_ms;
    e.producer = "tailorctl";
    std::string blob;
    if (tailor::encode_event(e, &blob).status != tailor::EncodeStatus::kOk) {
        std::fprintf(stderr, "tailorctl: cannot encode the Profile Erased event\n");
        return false;
    }
    return ok_reply(
        conn->command({"XADD", stream, "*", "type", "Profile Erased", "vid", vid, "e", blob}),
        Reply::Type::kBulk);
}

}  // namespace

int run_profile_erase(const Args& args) {
    EraseArgs a;
    if (!parse(args, &a)) {
        std::fprintf(stderr,
                     "usage: tailorctl profile erase [--] VID | --vid VID --redis HOST:PORT "
                     "[--redis-user U] [--redis-password P] [--user NAME] [--password-file PATH] "
                     "[--stream KEY] "
                     "[--tombstone-ttl SECONDS]\n");
        return kExitUsage;
    }

    // one visitor's keys share a slot: each command goes to the node that holds them
    RedisClient conn;
    if (!read_password(&a) || !conn.connect(a.redis)) {
        return kExitFailure;
    }
    std::vector<std::string> ids;
    if (!linked_ids(&conn, a.vid, &ids)) {
        return kExitFailure;
    }

    const std::string ttl = std::to_string(a.tombstone_ttl);
    for (const std::string& id : ids) {
        // the tombstone first: a batch the live script runs meanwhile writes nothing
        if (!ok_reply(conn.command({"SET", tailor::visitor_key(id, tailor::VisitorKeyKind::kErased),
                                    "1", "EX", ttl}),
                      Reply::Type::kStatus)) {
            return kExitFailure;
        }
        std::vector<std::string> del = {"DEL"};
        for (tailor::VisitorKeyKind kind : tailor::kVisitorKeyKinds) {
            del.push_back(tailor::visitor_key(id, kind));
        }
        std::optional<Reply> r = conn.command(del);
        if (!ok_reply(r, Reply::Type::kInteger) || !append_erased_event(&conn, a.stream, id)) {
            return kExitFailure;
        }
        if (id == a.vid) {
            std::printf("erased %lld keys of visitor %s\n", r->integer, id.c_str());
        } else {
            std::printf("erased %lld keys of linked visitor %s\n", r->integer, id.c_str());
        }
    }
    return kExitOk;
}

}  // namespace tailorctl
