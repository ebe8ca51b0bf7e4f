// RedisClient: tailorctl's blocking Redis connection (hiredis), one server or a Redis Cluster.
//
// Options every Redis-touching command takes (parse_redis_option):
//   --redis HOST:PORT        the server, or any node of a cluster (a seed)
//   --redis-user USER        ACL user (Redis 6+); env TAILOR_REDIS_USER
//   --redis-password PW      AUTH password; env TAILOR_REDIS_PASSWORD (keeps it out of `ps`)
// AUTH goes first on every connection. Against a cluster (detected with CLUSTER SLOTS), each
// command goes to the node serving its key's slot (tailor/store/cluster_slots.h decides), and
// MOVED and ASK are followed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"

namespace tailorctl {

// Reply
//
// A reply, owning its bytes. Nil is a bulk or array of length -1.
struct Reply {
    enum class Type { kNil, kStatus, kError, kInteger, kBulk, kArray } type = Type::kNil;
    std::string str;
    long long integer = 0;
    std::vector<Reply> elements;
};

struct RedisOptions {
    std::string address;  // "host:port", "[v6]:port", "host" (port 6379)
    std::string user;
    std::string password;
};

// parse_redis_option
//
// True when args[*i] is one of the options above (then *i is moved past its value, and an
// option missing its value sets *bad). Call redis_options_from_env() once before parsing.
bool parse_redis_option(const Args& args, size_t* i, RedisOptions* opts, bool* bad);
RedisOptions redis_options_from_env();

// The usage text of the options: " --redis HOST:PORT [--redis-user U] [--redis-password P]".
inline constexpr const char* kRedisUsage =
    "--redis HOST:PORT [--redis-user USER] [--redis-password PW]";

class RedisClient {
  public:
    RedisClient();
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // RedisClient::connect
    //
    // Connects to the address, authenticates, and learns whether it is a cluster node (then
    // loads the slot map). False with a message on stderr.
    bool connect(const RedisOptions& opts);

    // RedisClient::command
    //
    // Sends one command and waits for its reply, on the node its key routes to. nullopt (and a
    // message on stderr) when no reply came: the connection failed, or too many redirections.
    std::optional<Reply> command(const std::vector<std::string>& argv);

    // RedisClient::pipeline
    //
    // Sends every command before reading any reply, and returns the replies in order: one
    // round trip for the lot on a single Redis. On a cluster, one command at a time through
    // command() (each may go to another node). nullopt (and a message on stderr) when a
    // reply did not come; commands before it may have run.
    std::optional<std::vector<Reply>> pipeline(const std::vector<std::vector<std::string>>& cmds);

    // RedisClient::cluster
    //
    // True when connected to a Redis Cluster.
    [[nodiscard]] bool cluster() const noexcept;

  private:
    struct State;
    std::unique_ptr<State> s_;
};

}  // namespace tailorctl
