// tailorctl events tail / profile erase: the operator's view of the event stream, and the right
// to be forgotten.
//
//   tailorctl events tail [--type T] [--vid V] [--from ID] [--count N] [--stream KEY]
//                         --redis HOST:PORT
//   tailorctl profile erase VID --redis HOST:PORT
//
// tail prints one JSON object per event (decoded with decode_event, plus the
// stream entry id as "entry"), following new entries with XREAD BLOCK until
// interrupted, or until --count events were printed. --from 0 starts at the
// oldest entry (default: only new ones). --type and --vid filter on the plain
// fields beside the blob, so nothing is decoded for entries that do not match.
//
// erase deletes every key of the visitor (store/keys.h) and prints how many
// keys existed. Stream entries are not rewritten: they age out under MAXLEN,
// and the bridge forwards the erase to the email platform (docs/events.md).
//
// Redis is spoken to with a small blocking RESP client over a TCP socket, so
// tailorctl keeps linking the core library only.
#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "tailor/events/event.h"
#include "tailor/store/keys.h"

namespace tailorctl {

int run_events(const Args& args);
int run_profile_erase(const Args& args);

namespace {

using nlohmann::ordered_json;

// --- a blocking RESP2 client -----------------------------------------------------

struct Reply {
    enum class Type { kNil, kStatus, kError, kInteger, kBulk, kArray } type = Type::kNil;
    std::string str;
    long long integer = 0;
    std::vector<Reply> elements;
};

class Resp {
  public:
    ~Resp() {
        if (fd_ >= 0) {
            close(fd_);
        }
    }

    // "host:port" or "[v6]:port"; false with a message on stderr
    bool connect_to(std::string_view address) {
        std::string host(address);
        std::string port = "6379";
        size_t colon = host.rfind(':');
        if (!host.empty() && host[0] == '[') {
            size_t close_bracket = host.find(']');
            if (close_bracket == std::string::npos) {
                return fail("bad address");
            }
            if (close_bracket + 1 < host.size() && host[close_bracket + 1] == ':') {
                port = host.substr(close_bracket + 2);
            }
            host = host.substr(1, close_bracket - 1);
        } else if (colon != std::string::npos) {
            port = host.substr(colon + 1);
            host.resize(colon);
        }

        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
        if (rc != 0) {
            return fail(gai_strerror(rc));
        }
        for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
            int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
            if (fd < 0) {
                continue;
            }
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
                fd_ = fd;
                break;
            }
            close(fd);
        }
        freeaddrinfo(res);
        return fd_ >= 0 ? true : fail("cannot connect");
    }

    std::optional<Reply> command(const std::vector<std::string>& argv) {
        std::string out = "*" + std::to_string(argv.size()) + "\r\n";
        for (const auto& a : argv) {
            out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
        }
        size_t sent = 0;
        while (sent < out.size()) {
            ssize_t n = write(fd_, out.data() + sent, out.size() - sent);
            if (n <= 0) {
                fail("write failed");
                return std::nullopt;
            }
            sent += static_cast<size_t>(n);
        }
        return read_reply(0);
    }

  private:
    bool fail(const char* why) {
        std::fprintf(stderr, "tailorctl: redis: %s\n", why);
        return false;
    }

    bool fill() {
        char chunk[65536];
        ssize_t n = read(fd_, chunk, sizeof(chunk));
        if (n <= 0) {
            return fail("connection closed");
        }
        buf_.append(chunk, static_cast<size_t>(n));
        return true;
    }

    std::optional<std::string> line() {
        size_t end;
        while ((end = buf_.find("\r\n", pos_)) == std::string::npos) {
            if (!fill()) {
                return std::nullopt;
            }
        }
        std::string l = buf_.substr(pos_, end - pos_);
        pos_ = end + 2;
        compact();
        return l;
    }

    void compact() {
        if (pos_ > 1 << 20) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
    }

    std::optional<Reply> read_reply(int depth) {
        if (depth > 8) {
            return std::nullopt;
        }
        std::optional<std::string> l = line();
        if (!l || l->empty()) {
            return std::nullopt;
        }
        Reply r;
        char t = (*l)[0];
        std::string rest = l->substr(1);
        if (t == '+' || t == '-') {
            r.type = t == '+' ? Reply::Type::kStatus : Reply::Type::kError;
            r.str = rest;
        } else if (t == ':') {
            r.type = Reply::Type::kInteger;
            r.integer = std::strtoll(rest.c_str(), nullptr, 10);
        } else if (t == '$') {
            long long n = std::strtoll(rest.c_str(), nullptr, 10);
            if (n < 0) {
                return r;
            }
            if (n > 512ll * 1024 * 1024) {
                return std::nullopt;
            }
            while (buf_.size() - pos_ < static_cast<size_t>(n) + 2) {
                if (!fill()) {
                    return std::nullopt;
                }
            }
            r.type = Reply::Type::kBulk;
            r.str = buf_.substr(pos_, static_cast<size_t>(n));
            pos_ += static_cast<size_t>(n) + 2;
            compact();
        } else if (t == '*') {
            long long n = std::strtoll(rest.c_str(), nullptr, 10);
            if (n < 0) {
                return r;
            }
            r.type = Reply::Type::kArray;
            for (long long i = 0; i < n; i++) {
                std::optional<Reply> e = read_reply(depth + 1);
                if (!e) {
                    return std::nullopt;
                }
                r.elements.push_back(std::move(*e));
            }
        } else {
            return std::nullopt;
        }
        return r;
    }

    int fd_ = -1;
    std::string buf_;
    size_t pos_ = 0;
};

// --- events tail -----------------------------------------------------------------

ordered_json event_json(const std::string& entry, const tailor::DecodedEvent& e) {
    ordered_json j;
    j["entry"] = entry;
    j["id"] = e.id;
    j["type"] = e.name;
    j["vid"] = e.vid;
    j["ts"] = e.ts_ms;
    j["path"] = e.path;
    if (!e.utm_source.empty())
        j["utm_source"] = e.utm_source;
    if (!e.utm_medium.empty())
        j["utm_medium"] = e.utm_medium;
    if (!e.utm_campaign.empty())
        j["utm_campaign"] = e.utm_campaign;
    j["ref"] = e.referrer_class;
    if (!e.referrer_host.empty())
        j["ref_host"] = e.referrer_host;
    j["device"] = e.device;
    if (!e.exposures.empty()) {
        ordered_json x = ordered_json::array();
        for (const auto& ex : e.exposures) {
            x.push_back({ex.rule, ex.experiment, ex.variant});
        }
        j["exp"] = x;
    }
    if (!e.properties.empty()) {
        ordered_json p = ordered_json::object();
        for (const auto& prop : e.properties) {
            if (!prop.is_number) {
                p[prop.name] = prop.text;
            } else if (prop.is_integer) {
                p[prop.name] = prop.integer;
            } else {
                p[prop.name] = prop.number;
            }
        }
        j["props"] = p;
    }
    if (!e.producer.empty()) {
        j["src"] = e.producer;
        j["seq"] = e.seq;
    }
    if (!e.previous_vid.empty())
        j["prev"] = e.previous_vid;
    return j;
}

const std::string* field(const Reply& kv, std::string_view name) {
    for (size_t i = 0; i + 1 < kv.elements.size(); i += 2) {
        if (kv.elements[i].str == name) {
            return &kv.elements[i + 1].str;
        }
    }
    return nullptr;
}

int usage_events() {
    std::fprintf(stderr,
                 "usage: tailorctl events tail [--type T] [--vid V] [--from ID] [--count N] "
                 "[--stream KEY] --redis HOST:PORT\n");
    return kExitUsage;
}

}  // namespace

int run_events(const Args& args) {
    if (args.empty() || args[0] != "tail") {
        return usage_events();
    }
    std::string redis;
    std::string stream = "tailor:events";
    std::string from = "$";
    std::string type;
    std::string vid;
    long long count = -1;
    for (size_t i = 1; i < args.size(); i++) {
        std::string_view a = args[i];
        if (i + 1 >= args.size()) {
            return usage_events();
        }
        std::string v(args[++i]);
        if (a == "--redis") {
            redis = v;
        } else if (a == "--stream") {
            stream = v;
        } else if (a == "--from") {
            from = v;
        } else if (a == "--type") {
            type = v;
        } else if (a == "--vid") {
            vid = v;
        } else if (a == "--count") {
            count = std::strtoll(v.c_str(), nullptr, 10);
            if (count <= 0) {
                return usage_events();
            }
        } else {
            return usage_events();
        }
    }
    if (redis.empty()) {
        return usage_events();
    }

    Resp conn;
    if (!conn.connect_to(redis)) {
        return kExitFailure;
    }

    std::string last = from;
    long long printed = 0;
    while (count < 0 || printed < count) {
        std::optional<Reply> r =
            conn.command({"XREAD", "COUNT", "500", "BLOCK", "1000", "STREAMS", stream, last});
        if (!r) {
            return kExitFailure;
        }
        if (r->type == Reply::Type::kError) {
            std::fprintf(stderr, "tailorctl: redis: %s\n", r->str.c_str());
            return kExitFailure;
        }
        if (r->type != Reply::Type::kArray || r->elements.empty()) {
            continue;  // timed out: poll again
        }
        if (r->elements[0].elements.size() != 2) {
            continue;
        }
        const Reply& entries = r->elements[0].elements[1];  // [[stream, entries]]
        for (const Reply& entry : entries.elements) {
            if (entry.elements.size() != 2) {
                continue;
            }
            last = entry.elements[0].str;
            const Reply& kv = entry.elements[1];
            const std::string* t = field(kv, "type");
            const std::string* v = field(kv, "vid");
            if ((!type.empty() && (t == nullptr || *t != type)) ||
                (!vid.empty() && (v == nullptr || *v != vid))) {
                continue;
            }
            const std::string* blob = field(kv, "e");
            std::optional<tailor::DecodedEvent> e;
            if (blob != nullptr) {
                e = tailor::decode_event(*blob);
            }
            if (!e) {
                std::fprintf(stderr, "tailorctl: entry %s: not an event, skipped\n", last.c_str());
                continue;
            }
            std::printf("%s\n", event_json(last, *e).dump().c_str());
            std::fflush(stdout);
            if (count > 0 && ++printed >= count) {
                break;
            }
        }
    }
    return kExitOk;
}

int run_profile_erase(const Args& args) {
    std::string vid;
    std::string redis;
    for (size_t i = 0; i < args.size(); i++) {
        if (args[i] == "--redis" && i + 1 < args.size()) {
            redis = std::string(args[++i]);
        } else if (vid.empty() && !args[i].empty() && args[i][0] != '-') {
            vid = std::string(args[i]);
        } else {
            vid.clear();
            break;
        }
    }
    if (vid.empty() || redis.empty()) {
        std::fprintf(stderr, "usage: tailorctl profile erase VID --redis HOST:PORT\n");
        return kExitUsage;
    }

    Resp conn;
    if (!conn.connect_to(redis)) {
        return kExitFailure;
    }
    std::vector<std::string> del = {"DEL"};
    for (tailor::VisitorKeyKind kind : tailor::kVisitorKeyKinds) {
        del.push_back(tailor::visitor_key(vid, kind));
    }
    std::optional<Reply> r = conn.command(del);
    if (!r || r->type != Reply::Type::kInteger) {
        std::fprintf(stderr, "tailorctl: redis: %s\n",
                     r && r->type == Reply::Type::kError ? r->str.c_str() : "no reply");
        return kExitFailure;
    }
    std::printf("erased %lld keys of visitor %s\n", r->integer, vid.c_str());
    return kExitOk;
}

}  // namespace tailorctl
