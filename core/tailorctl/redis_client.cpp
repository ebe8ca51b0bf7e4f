// RedisClient: hiredis's blocking API, AUTH on every connection, Redis Cluster routing.
#include "redis_client.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tailor/store/cluster_slots.h"

namespace tailorctl {

namespace {

constexpr int kMaxRedirects = 5;
constexpr time_t kConnectSeconds = 5;
constexpr time_t kReplySeconds = 30;  // above the longest XREAD BLOCK tailorctl sends

struct ContextFree {
    void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

struct ReplyFree {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using RawReply = std::unique_ptr<redisReply, ReplyFree>;

Reply owned(const redisReply* r) {
    Reply out;
    switch (r->type) {
        case REDIS_REPLY_STRING:
            out.type = Reply::Type::kBulk;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = Reply::Type::kStatus;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = Reply::Type::kError;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = Reply::Type::kInteger;
            out.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = Reply::Type::kArray;
            out.elements.reserve(r->elements);
            for (size_t i = 0; i < r->elements; i++) {
                out.elements.push_back(owned(r->element[i]));
            }
            break;
        default:
            out.type = Reply::Type::kNil;
            break;
    }
    return out;
}

// Views into `r`, for core's CLUSTER SLOTS parser.
tailor::RespNode view(const redisReply* r) {
    tailor::RespNode n;
    switch (r->type) {
        case REDIS_REPLY_STRING:
            n.type = tailor::RespNode::Type::kString;
            n.str = {r->str, r->len};
            break;
        case REDIS_REPLY_STATUS:
            n.type = tailor::RespNode::Type::kStatus;
            n.str = {r->str, r->len};
            break;
        case REDIS_REPLY_ERROR:
            n.type = tailor::RespNode::Type::kError;
            n.str = {r->str, r->len};
            break;
        case REDIS_REPLY_INTEGER:
            n.type = tailor::RespNode::Type::kInteger;
            n.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            n.type = tailor::RespNode::Type::kArray;
            for (size_t i = 0; i < r->elements; i++) {
                n.elements.push_back(view(r->element[i]));
            }
            break;
        default:
            break;
    }
    return n;
}

bool fail(const std::string& why) {
    std::fprintf(stderr, "tailorctl: redis: %s\n", why.c_str());
    return false;
}

// "host:port", "[v6]:port" or "host"; false when malformed.
bool split_address(const std::string& address, std::string* host, int* port) {
    std::string p = "6379";
    *host = address;
    if (!address.empty() && address[0] == '[') {
        size_t close = address.find(']');
        if (close == std::string::npos) {
            return false;
        }
        *host = address.substr(1, close - 1);
        if (close + 1 < address.size()) {
            if (address[close + 1] != ':') {
                return false;
            }
            p = address.substr(close + 2);
        }
    } else {
        size_t colon = address.rfind(':');
        if (colon != std::string::npos && address.find(':') == colon) {
            *host = address.substr(0, colon);
            p = address.substr(colon + 1);
        }
    }
    char* end = nullptr;
    long v = std::strtol(p.c_str(), &end, 10);
    if (host->empty() || end == p.c_str() || *end != '\0' || v <= 0 || v > 65535) {
        return false;
    }
    *port = static_cast<int>(v);
    return true;
}

// The connection's peer as an IP literal: what stands in for an empty host in CLUSTER SLOTS.
std::string peer_ip(const redisContext* c) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    char buf[INET6_ADDRSTRLEN] = {0};
    if (getpeername(c->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return {};
    }
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof(buf));
    } else if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof(buf));
    }
    return buf;
}

// hiredis's view of a command: pointers and lengths into `argv`.
struct ArgvView {
    explicit ArgvView(const std::vector<std::string>& argv) {
        args.reserve(argv.size());
        lens.reserve(argv.size());
        for (const auto& a : argv) {
            args.push_back(a.data());
            lens.push_back(a.size());
        }
    }
    int argc() const { return static_cast<int>(args.size()); }

    std::vector<const char*> args;
    std::vector<size_t> lens;
};

RawReply run(redisContext* c, const std::vector<std::string>& argv) {
    ArgvView v(argv);
    return RawReply(
        static_cast<redisReply*>(redisCommandArgv(c, v.argc(), v.args.data(), v.lens.data())));
}

}  // namespace

struct RedisClient::State {
    RedisOptions opts;
    Context seed;
    std::string seed_ip;
    bool cluster = false;
    tailor::ClusterSlotMap map;
    std::vector<Context> nodes;  // by the map's node number

    // A connection, authenticated; null with a message on stderr.
    Context open(const std::string& host, int port) const {
        timeval tv{kConnectSeconds, 0};
        Context c(redisConnectWithTimeout(host.c_str(), port, tv));
        if (!c || c->err) {
            fail(std::string(host) + ":" + std::to_string(port) + ": " +
                 (c ? c->errstr : "out of memory"));
            return nullptr;
        }
        timeval rt{kReplySeconds, 0};
        (void)redisSetTimeout(c.get(), rt);
        if (!opts.password.empty()) {
            std::vector<std::string> auth = {"AUTH"};
            if (!opts.user.empty()) {
                auth.push_back(opts.user);
            }
            auth.push_back(opts.password);
            RawReply r = run(c.get(), auth);
            if (!r || r->type == REDIS_REPLY_ERROR) {
                fail(std::string("AUTH failed: ") +
                     (r ? std::string(r->str, r->len) : std::string(c->errstr)));
                return nullptr;
            }
        }
        return c;
    }

    bool load_map(redisContext* c, const std::string& queried) {
        RawReply r = run(c, {"CLUSTER", "SLOTS"});
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            return false;
        }
        std::string error;
        if (!map.update(view(r.get()), queried, &error)) {
            return fail("CLUSTER SLOTS: " + error);
        }
        return true;
    }

    redisContext* node(int n) {
        if (n < 0 || static_cast<size_t>(n) >= map.nodes()) {
            return seed.get();
        }
        if (nodes.size() <= static_cast<size_t>(n)) {
            nodes.resize(static_cast<size_t>(n) + 1);
        }
        if (!nodes[static_cast<size_t>(n)]) {
            const tailor::ClusterNodeAddress& a = map.node(n);
            nodes[static_cast<size_t>(n)] = open(a.host, a.port);
        }
        return nodes[static_cast<size_t>(n)].get();
    }

    // A node did not answer (a failover?): ask the others for the map again.
    bool reload() {
        if (seed && load_map(seed.get(), seed_ip)) {
            return true;
        }
        for (size_t n = 0; n < map.nodes(); n++) {
            redisContext* c = node(static_cast<int>(n));
            if (c != nullptr && load_map(c, map.node(static_cast<int>(n)).host)) {
                return true;
            }
        }
        return false;
    }
};

RedisClient::RedisClient() : s_(std::make_unique<State>()) {}
RedisClient::~RedisClient() = default;

bool RedisClient::cluster() const noexcept {
    return s_->cluster;
}

RedisOptions redis_options_from_env() {
    RedisOptions o;
    if (const char* u = std::getenv("TAILOR_REDIS_USER")) {
        o.user = u;
    }
    if (const char* p = std::getenv("TAILOR_REDIS_PASSWORD")) {
        o.password = p;
    }
    return o;
}

bool parse_redis_option(const Args& args, size_t* i, RedisOptions* opts, bool* bad) {
    std::string_view a = args[*i];
    std::string* into = nullptr;
    if (a == "--redis") {
        into = &opts->address;
    } else if (a == "--redis-user") {
        into = &opts->user;
    } else if (a == "--redis-password") {
        into = &opts->password;
    } else {
        return false;
    }
    if (*i + 1 >= args.size()) {
        *bad = true;
        return true;
    }
    *into = std::string(args[++*i]);
    return true;
}

bool RedisClient::connect(const RedisOptions& opts) {
    s_->opts = opts;
    if (!opts.user.empty() && opts.password.empty()) {
        return fail("--redis-user needs --redis-password (or TAILOR_REDIS_PASSWORD)");
    }
    std::string host;
    int port = 0;
    if (!split_address(opts.address, &host, &port)) {
        return fail("bad address \"" + opts.address + "\"");
    }
    s_->seed = s_->open(host, port);
    if (!s_->seed) {
        return false;
    }
    s_->seed_ip = peer_ip(s_->seed.get());

    // a cluster node answers CLUSTER SLOTS; a single server says cluster support is disabled
    RawReply r = run(s_->seed.get(), {"CLUSTER", "SLOTS"});
    if (!r) {
        return fail(s_->seed->errstr);
    }
    if (r->type == REDIS_REPLY_ARRAY) {
        std::string error;
        if (!s_->map.update(view(r.get()), s_->seed_ip, &error)) {
            return fail("CLUSTER SLOTS: " + error);
        }
        s_->cluster = true;
    }
    return true;
}

std::optional<std::vector<Reply>> RedisClient::pipeline(
    const std::vector<std::vector<std::string>>& cmds) {
    std::vector<Reply> out;
    out.reserve(cmds.size());
    State& s = *s_;
    if (s.cluster) {
        for (const auto& argv : cmds) {
            std::optional<Reply> r = command(argv);
            if (!r) {
                return std::nullopt;
            }
            out.push_back(std::move(*r));
        }
        return out;
    }
    redisContext* c = s.seed.get();
    for (const auto& argv : cmds) {
        ArgvView v(argv);
        if (redisAppendCommandArgv(c, v.argc(), v.args.data(), v.lens.data()) != REDIS_OK) {
            fail(c->errstr);
            return std::nullopt;
        }
    }
    for (size_t i = 0; i < cmds.size(); i++) {
        void* raw = nullptr;
        if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
            fail(c->errstr);
            return std::nullopt;
        }
        RawReply r(static_cast<redisReply*>(raw));
        out.push_back(owned(r.get()));
    }
    return out;
}

std::optional<Reply> RedisClient::command(const std::vector<std::string>& argv) {
    State& s = *s_;
    if (!s.cluster) {
        RawReply r = run(s.seed.get(), argv);
        if (!r) {
            fail(s.seed->errstr);
            return std::nullopt;
        }
        return owned(r.get());
    }

    std::vector<std::string_view> views(argv.begin(), argv.end());
    std::optional<std::string_view> key = tailor::cluster_command_key(views);
    int n = key ? s.map.primary(tailor::cluster_key_slot(*key)) : tailor::ClusterSlotMap::kNone;
    bool asking = false;
    bool reloaded = false;

    for (int hop = 0; hop <= kMaxRedirects; hop++) {
        redisContext* c = s.node(n);
        RawReply r;
        if (c != nullptr && asking) {
            r = run(c, {"ASKING"});
        }
        if (c != nullptr) {
            r = run(c, argv);
        }
        if (!r) {
            // the node is gone (killed, failed over): forget it, learn the map again, once
            if (n >= 0 && static_cast<size_t>(n) < s.nodes.size()) {
                s.nodes[static_cast<size_t>(n)].reset();
            }
            if (reloaded || !s.reload()) {
                fail("no reply from the cluster node for this key");
                return std::nullopt;
            }
            reloaded = true;
            n = key ? s.map.primary(tailor::cluster_key_slot(*key)) : tailor::ClusterSlotMap::kNone;
            asking = false;
            continue;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            const tailor::ClusterNodeAddress* at =
                n >= 0 && static_cast<size_t>(n) < s.map.nodes() ? &s.map.node(n) : nullptr;
            auto redirect = tailor::parse_cluster_redirect({r->str, r->len},
                                                           at != nullptr ? at->host : s.seed_ip);
            if (redirect) {
                if (redirect->kind == tailor::ClusterRedirect::Kind::kMoved) {
                    n = s.map.moved(redirect->slot, redirect->node);
                    asking = false;
                } else {
                    n = s.map.add(redirect->node);
                    asking = true;
                }
                continue;
            }
        }
        return owned(r.get());
    }
    fail("too many redirections");
    return std::nullopt;
}

}  // namespace tailorctl
