// Internal to ngx_module/redis: the client's state, shared by its parts:
// ngx_http_tailor_redis_reader.cpp (which replies are refused unparsed),
// ngx_http_tailor_redis_connection.cpp (connect, reconnect with backoff, the
// stall watchdog, close), ngx_http_tailor_redis_handshake.cpp (AUTH/SELECT/READONLY),
// ngx_http_tailor_redis.cpp (admission, commands, replies) and
// ngx_http_tailor_redis_cluster.cpp (Redis Cluster: nodes, slot map, routing, MOVED/ASK).
#pragma once

#include "ngx_http_tailor_log_limit.h"
#include "ngx_http_tailor_redis.h"

enum ngx_http_tailor_redis_state_e : ngx_uint_t {
    NGX_HTTP_TAILOR_REDIS_DOWN = 0,    // no context; reconnect timer armed
    NGX_HTTP_TAILOR_REDIS_CONNECTING,  // connect(2) in progress
    NGX_HTTP_TAILOR_REDIS_HANDSHAKE,   // connected, AUTH/SELECT in flight
    NGX_HTTP_TAILOR_REDIS_READY,
    NGX_HTTP_TAILOR_REDIS_CLOSING  // a posted close is pending
};

struct ngx_http_tailor_redis_cluster_t;

struct ngx_http_tailor_redis_t {
    const ngx_http_tailor_redis_conf_t* conf;
    const char* name;
    ngx_log_t* log;
    redisAsyncContext* ac;
    ngx_uint_t state;
    ngx_flag_t up;  // has been ready
    ngx_http_tailor_redis_stats_t* stats;

    ngx_msec_t backoff;        // next reconnect delay
    ngx_uint_t handshake;      // AUTH/SELECT replies due
    uint64_t in_flight;        // callbacks due
    uint64_t conn_replies;     // replies on this connection
    uint64_t stall_replies;    // conn_replies at last tick
    ngx_flag_t stall_waiting;  // in_flight at last tick

    long long reply_elements;  // of the reply being parsed, all its arrays
    const char* refused;       // why the reader refused a reply (the disconnect says it)

    ngx_http_tailor_log_limit_t log_limit;
    char log_prefix[64 + NGX_SOCKADDR_STRLEN];  // "tailor redis \"events\" 127.0.0.1:6379: "

    ngx_event_t connect_ev;  // connect_timeout
    ngx_event_t stall_ev;    // watchdog tick
    ngx_event_t reconnect_ev;
    ngx_event_t close_ev;  // posted: close from a callback

    ngx_http_tailor_redis_stats_t own_stats;

    // Redis Cluster: the cluster client has `cluster` and no connection of its own; each of
    // its nodes is a client like any other, with `owner` pointing back and the owner's stats
    ngx_http_tailor_redis_cluster_t* cluster;
    ngx_http_tailor_redis_t* owner;
};

struct ngx_http_tailor_redis_op_t {
    ngx_http_tailor_redis_handler_pt handler;  // nullptr: cancelled
    void* data;
    uint64_t sent_us;
    // send_pipeline's: replies still due (1 for any other op), and whether an earlier one
    // was an error or none (the handler then gets nullptr)
    ngx_uint_t pending;
    ngx_flag_t broken;
    // send_each's: the handler's data for each command's reply (nullptr: one call, with
    // `data`, at the last), and the next reply's index
    void* const* each;
    ngx_uint_t next;
};

// Every op on a cluster node's connection is one of these (the cluster code makes them all):
// the command, formatted once, is kept to follow a MOVED or ASK.
struct ngx_http_tailor_redis_cluster_op_t {
    ngx_http_tailor_redis_op_t op;  // first: an op pointer is a cluster op pointer
    char* cmd;                      // redisFormatCommandArgv's; redisFreeCommand
    size_t cmdlen;
    ngx_uint_t redirects;
    ngx_flag_t nowait;  // send_nowait's: no handler, an error reply is logged
    int replica_slot;   // a read sent to a replica of this slot; -1: none
};

// privdata of AUTH and SELECT replies (ops are heap, fire-and-forget is null)
extern char ngx_http_tailor_redis_handshake_tag;

// The gauges (connected, in_flight) are the stats block's owner's: a worker of an older
// generation draining after a reload leaves them to the new worker of its slot.
inline bool ngx_http_tailor_redis_owns_gauges(const ngx_http_tailor_redis_t* rc) noexcept {
    return rc->stats->owner == static_cast<uint64_t>(ngx_pid);
}

// ngx_http_tailor_redis.cpp
void ngx_http_tailor_redis_on_reply(redisAsyncContext* ac, void* r, void* privdata) noexcept;
uint64_t ngx_http_tailor_redis_clock_us() noexcept;
void ngx_http_tailor_redis_set_in_flight(ngx_http_tailor_redis_t* rc) noexcept;
// Admission on one connection: connected, under the bounds (counts the reject).
bool ngx_http_tailor_redis_admit(ngx_http_tailor_redis_t* rc) noexcept;

// ngx_http_tailor_redis_cluster.cpp
//
// The cluster client: create (from create() when conf->cluster), destroy, ready, send.
// `read`: a replica may answer; `nowait`: fire-and-forget (handler nullptr).
ngx_int_t ngx_http_tailor_redis_cluster_init(ngx_http_tailor_redis_t* rc,
                                             ngx_cycle_t* cycle) noexcept;
void ngx_http_tailor_redis_cluster_destroy(ngx_http_tailor_redis_t* rc) noexcept;
bool ngx_http_tailor_redis_cluster_ready(const ngx_http_tailor_redis_t* rc) noexcept;
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_cluster_send(
    ngx_http_tailor_redis_t* rc, const ngx_str_t* key, int argc, const char** argv,
    const size_t* argvlen, ngx_http_tailor_redis_handler_pt handler, void* data, bool read,
    bool nowait) noexcept;
// The reply (or none) to an op on a cluster node's connection: a MOVED or ASK is followed
// (the op goes on), else the op's handler gets it and the op is freed.
void ngx_http_tailor_redis_cluster_on_reply(ngx_http_tailor_redis_t* node,
                                            ngx_http_tailor_redis_op_t* op,
                                            const redisReply* reply) noexcept;
// A node's in-flight count changed: the cluster's gauge.
void ngx_http_tailor_redis_cluster_gauges(ngx_http_tailor_redis_t* node) noexcept;
// A node became ready or was lost: the gauges, and the map asked for when it may be stale.
void ngx_http_tailor_redis_cluster_state(ngx_http_tailor_redis_t* node) noexcept;

// ngx_http_tailor_redis_reader.cpp
//
// Makes the context's reply reader refuse what no command of ours gets, before hiredis acts
// on it: a reply with no command waiting (hiredis 0.14 asserts on one), more than
// NGX_HTTP_TAILOR_REDIS_MAX_ELEMENTS elements in one reply, arrays nested deeper than
// NGX_HTTP_TAILOR_REDIS_MAX_DEPTH. A refusal is a reader error: hiredis drops the connection,
// every command waiting on it gets a null reply, and the client reconnects.
#define NGX_HTTP_TAILOR_REDIS_MAX_ELEMENTS 65536
#define NGX_HTTP_TAILOR_REDIS_MAX_DEPTH 2
#define NGX_HTTP_TAILOR_REDIS_CLUSTER_MAX_DEPTH 4
void ngx_http_tailor_redis_guard_reader(redisAsyncContext* ac) noexcept;

// ngx_http_tailor_redis_connection.cpp
// The `connected` gauge: the client's own, or its cluster's.
void ngx_http_tailor_redis_set_connected(ngx_http_tailor_redis_t* rc, bool connected) noexcept;
void ngx_http_tailor_redis_log_error(ngx_http_tailor_redis_t* rc, ngx_uint_t level, const char* fmt,
                                     ...) noexcept;

// ngx_http_tailor_redis_handshake.cpp
//
// handshake: sends AUTH/SELECT/READONLY as the conf asks (false: not sent); on_handshake takes
// each reply; ready_now: the connection takes commands (also when no handshake is needed).
bool ngx_http_tailor_redis_handshake(ngx_http_tailor_redis_t* rc) noexcept;
void ngx_http_tailor_redis_on_handshake(ngx_http_tailor_redis_t* rc,
                                        const redisReply* reply) noexcept;
void ngx_http_tailor_redis_ready_now(ngx_http_tailor_redis_t* rc) noexcept;
// Posts a close (from inside hiredis, where the context must not be freed).
void ngx_http_tailor_redis_post_close(ngx_http_tailor_redis_t* rc) noexcept;
