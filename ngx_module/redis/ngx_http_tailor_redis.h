// ngx_http_tailor_redis: a per-worker, non-blocking, fail-open Redis client on
// nginx's event loop (hiredis 0.14 async). docs/redis.md has the model.
#pragma once

#include "ngx_http_tailor.h"

extern "C" {
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
}

#include <cstdint>

#define NGX_HTTP_TAILOR_REDIS_DEFAULT_PORT 6379

// ngx_http_tailor_redis_addr_t
//
// One more Redis Cluster seed after the first address (which stays in the conf itself).
struct ngx_http_tailor_redis_addr_t {
    ngx_str_t peer;                      // "127.0.0.1:7000"
    char host[NGX_SOCKADDR_STRLEN + 1];  // IP literal
    in_port_t port;
};

// ngx_http_tailor_redis_conf_t
//
// What "tailor_redis" says, settled at config time: the address is already an
// IP literal or a unix path, so the workers never resolve a name. POD, filled
// by ngx_http_tailor_redis_parse_conf() in cf->pool; it must outlive every
// client created from it (the cycle pool does).
struct ngx_http_tailor_redis_conf_t {
    ngx_str_t peer;                      // "127.0.0.1:6379", "[::1]:6379", "unix:/p"
    char host[NGX_SOCKADDR_STRLEN + 1];  // IP literal or unix path
    in_port_t port;                      // 0 for a unix socket
    ngx_flag_t unix_socket;

    ngx_msec_t connect_timeout;  // connect + AUTH/SELECT; default 100ms
    ngx_msec_t stall_timeout;    // no reply while commands wait; 1s
    ngx_msec_t reconnect;        // first reconnect delay; 100ms
    ngx_msec_t reconnect_max;    // backoff doubles up to this; 5s
    ngx_uint_t max_pending;      // commands in flight; 4096
    size_t max_output;           // unsent bytes (hiredis obuf); 1m
    size_t max_reply;            // unparsed reply bytes; 8m

    ngx_str_t user;      // AUTH user (Redis 6 ACL); empty: none
    ngx_str_t password;  // AUTH password; empty: no AUTH
    ngx_uint_t db;       // SELECT db; 0: no SELECT

    ngx_flag_t cluster;                   // cluster=on: the addresses are seeds of a Redis Cluster
    ngx_flag_t replica_reads;             // replica_reads=on: profile reads may go to replicas
    ngx_http_tailor_redis_addr_t* seeds;  // the addresses after the first, nseeds of them
    ngx_uint_t nseeds;
};

// ngx_http_tailor_redis_parse_conf
//
// Parses the arguments of "tailor_redis" that follow the directive name:
// the address, or several (Redis Cluster seeds, with cluster=on), then
// name=value parameters.
// Call it from the directive handler as
//     parse_conf(cf, &value[1], cf->args->nelts - 1, conf)
// conf need not be initialized; every field is set. Returns NGX_CONF_OK, or
// NGX_CONF_ERROR after ngx_conf_log_error(NGX_LOG_EMERG, ...) named the reason.
// A host name is resolved here, once (blocking is fine at config time); when
// it has several addresses the first is used and a warning says so.
// Example: "127.0.0.1", "localhost:6380", "[::1]:6379", "unix:/run/r.sock",
//          then e.g. connect_timeout=50ms max_pending=1000 password=s3cret db=2;
//          "10.0.0.1:7000 10.0.0.2:7000 cluster=on replica_reads=on user=tailor password=pw"
char* ngx_http_tailor_redis_parse_conf(ngx_conf_t* cf, ngx_str_t* args, ngx_uint_t nargs,
                                       ngx_http_tailor_redis_conf_t* conf) noexcept;

// ngx_http_tailor_redis_stats_t
//
// One client's counters, written by the worker that owns the client; counters
// only grow, the two gauges are set. 64-bit aligned, so another process may
// read them from shared memory without tearing on x86-64/arm64. A block in
// shared memory is a worker slot's: after a reload the new worker of the slot
// claims it (owner) while the old one may still be draining, and only the
// owner sets the gauges, so the old one's exit does not zero them. Both add
// to the counters meanwhile, without atomics: an increment may be lost then.
struct ngx_http_tailor_redis_stats_t {
    uint64_t connects;          // connections that became ready
    uint64_t connect_failures;  // refused, timed out, AUTH/SELECT failed
    uint64_t disconnects;       // ready connections lost, for any reason
    uint64_t stall_resets;      // of those: the stall watchdog's doing
    uint64_t reply_resets;      // of those: a reply over max_reply
    uint64_t down_rejects;      // send refused: not connected
    uint64_t busy_rejects;      // send refused: max_output/max_pending
    uint64_t commands;          // commands written (both send paths)
    uint64_t replies;           // replies read, error replies included
    uint64_t errors;            // of those: Redis error replies (-ERR ...)
    uint64_t failed;            // commands that never got a reply
    uint64_t in_flight;         // gauge: commands sent, not answered yet
    uint64_t connected;         // gauge: 1 when ready (a cluster: every primary ready)
    uint64_t redirects;         // Redis Cluster: MOVED and ASK followed
    uint64_t slot_maps;         // Redis Cluster: slot maps loaded (CLUSTER SLOTS)
    uint64_t owner;             // the pid of the client that sets the gauges (create)
};

struct ngx_http_tailor_redis_t;  // one client: one connection, or a cluster's; opaque

// ngx_http_tailor_redis_handler_pt
//
// Completion of one command. `reply` is hiredis's parsed reply, valid only
// during the call (copy what you need); nullptr when the command got no reply
// (connection lost, stall reset, reply too large, client destroyed).
// (A string reply may also be kept: ngx_http_tailor_redis_keep_reply.) A Redis
// error reply is a non-null reply of type REDIS_REPLY_ERROR. `elapsed_us` is
// the monotonic time from send to now, in microseconds.
// Runs inside hiredis: record the outcome and post an event; never run request
// phases or finalize a request here, never destroy the client. Sending more
// commands and cancelling other ops is fine.
typedef void (*ngx_http_tailor_redis_handler_pt)(void* data, const redisReply* reply,
                                                 uint64_t elapsed_us) noexcept;

// ngx_http_tailor_redis_keep_reply
//
// Keeps a string reply (REDIS_REPLY_STRING, _STATUS or _ERROR) past its handler's call, so its
// bytes need no copy; the caller frees it with ngx_http_tailor_redis_release_reply, exactly
// once (a request's: in a pool cleanup). False, and nothing kept, for any other reply (or one
// kept already): copy what you need then.
// Example:
//   if (ngx_http_tailor_redis_keep_reply(reply)) { part->reply = reply; }
bool ngx_http_tailor_redis_keep_reply(const redisReply* reply) noexcept;
void ngx_http_tailor_redis_release_reply(const redisReply* reply) noexcept;

// ngx_http_tailor_redis_create
//
// Creates a client in the calling worker and starts connecting (no blocking:
// the address is a literal). Call from init_process, and only in worker
// processes (init_process also runs in the cache manager and loader: check
// ngx_process == NGX_PROCESS_WORKER || ngx_process == NGX_PROCESS_SINGLE).
// `name` (a string literal, e.g. "profile" or "events") tags log lines.
// `stats` points where the counters go (e.g. this worker's slot in shared
// memory, zeroed by the caller, its owner set to ngx_pid: the gauges are set
// only by the owner's client), one block per client, and must outlive the
// client; nullptr keeps them inside the client. Several clients may share one conf: each has its
// own connection. With cluster=on the client keeps one connection per node
// it routes to (docs/redis.md: Cluster). Returns nullptr on allocation failure (logged).
ngx_http_tailor_redis_t* ngx_http_tailor_redis_create(
    ngx_cycle_t* cycle, const ngx_http_tailor_redis_conf_t* conf, const char* name,
    ngx_http_tailor_redis_stats_t* stats) noexcept;

// ngx_http_tailor_redis_destroy
//
// Closes the connection and frees the client; call from exit_process. Every
// op not cancelled gets its handler called with nullptr, synchronously, from
// inside this call. Not from inside a handler. nullptr is a no-op.
void ngx_http_tailor_redis_destroy(ngx_http_tailor_redis_t* rc) noexcept;

// ngx_http_tailor_redis_ready
//
// True when a send would be accepted right now: connected, AUTH/SELECT done,
// unsent bytes under max_output, fewer than max_pending commands in flight.
// A pure query (send checks again and counts the reject). The request-side
// functions accept rc == nullptr (no "tailor_redis"): not ready, not sent.
bool ngx_http_tailor_redis_ready(const ngx_http_tailor_redis_t* rc) noexcept;

// ngx_http_tailor_redis_is_cluster
//
// Whether the client is a cluster's (cluster=on): its commands are routed one by one.
bool ngx_http_tailor_redis_is_cluster(const ngx_http_tailor_redis_t* rc) noexcept;

// ngx_http_tailor_redis_send
//
// Queues one command, argv/argvlen form (binary-safe; hiredis copies the
// bytes, so the arrays may be on the stack). `key` is the routing key (the
// hash-tagged visitor key; nullptr: the command's own first key, or none):
// with one server it is unused, with Redis Cluster it picks the node, and a
// MOVED or ASK is followed here (the handler sees the final reply; a
// redirection that cannot be followed is a null reply). Commands sent in one event
// loop turn go out in one write. SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE and MONITOR
// are refused.
// Returns the op, which this layer owns (heap memory, freed after the handler
// returns). The handler is called exactly once, later (never inside send),
// unless ngx_http_tailor_redis_cancel(op) was called first. Returns nullptr
// when the command was not sent: not ready (counted: fail open at once), or
// out of memory. Then the handler is never called.
// Example:
//     const char* argv[] = {"MGET", k1, k2, k3};   size_t len[] = {4, ...};
//     ctx->op = ngx_http_tailor_redis_send(rc, &key, 4, argv, len, done, ctx);
//     if (ctx->op == nullptr) { /* outcome "down": default page now */ }
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send(ngx_http_tailor_redis_t* rc,
                                                       const ngx_str_t* key, int argc,
                                                       const char** argv, const size_t* argvlen,
                                                       ngx_http_tailor_redis_handler_pt handler,
                                                       void* data) noexcept;

// ngx_http_tailor_redis_send_read
//
// send() for a read that a replica may answer (replica_reads=on in a cluster):
// the slot's replica when it is ready, else its primary. Elsewhere it is send().
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send_read(
    ngx_http_tailor_redis_t* rc, const ngx_str_t* key, int argc, const char** argv,
    const size_t* argvlen, ngx_http_tailor_redis_handler_pt handler, void* data) noexcept;

// ngx_http_tailor_redis_slot_has_replica
//
// Redis Cluster: true when the slot map names a replica for `key`'s slot (a failed one is not
// listed), so a WAIT after a write there can be answered. False for one server, or no map yet.
bool ngx_http_tailor_redis_slot_has_replica(const ngx_http_tailor_redis_t* rc,
                                            const ngx_str_t* key) noexcept;

// ngx_http_tailor_redis_send_formatted
//
// As send, for a command already in RESP (`*<argc>\r\n$<len>\r\n<arg>\r\n...`):
// a large batch built by its owner (the events flusher) skips hiredis's
// formatting, which cost more than the rest of a page view's event.
// `cmd` must be well formed; `name` is its command name (the refused list
// applies to it).
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send_formatted(
    ngx_http_tailor_redis_t* rc, const ngx_str_t* key, const char* name, const char* cmd,
    size_t len, ngx_http_tailor_redis_handler_pt handler, void* data) noexcept;

// ngx_http_tailor_redis_send_pipeline
//
// As send_formatted, for `count` commands already in RESP, one after the other in `cmds`
// (`lens[i]` bytes each), on one server's connection (nullptr with a cluster): they go out in
// one write and the handler is called once, with the last command's reply; with nullptr when
// an earlier one got an error (logged) or no reply. WATCH ... MGET and MULTI ... EXEC are
// sent so (the events' WatchedBatch): their commands must not be split by others.
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send_pipeline(
    ngx_http_tailor_redis_t* rc, const char* cmds, const size_t* lens, size_t count,
    ngx_http_tailor_redis_handler_pt handler, void* data) noexcept;

// ngx_http_tailor_redis_send_each
//
// As send_pipeline, but the handler is called once per reply, in command order, with
// `datas[i]` for command i's reply (nullptr for one that got none); `datas` must stay valid
// until the op is cancelled or its last call. One server's connection only (nullptr with a
// cluster: route each command with send or send_read). All or nothing: nullptr when any
// command could not be queued (those queued are dropped as cancelled).
// Example: the visitor read (ngx_http_tailor_read.cpp), four commands, four parts.
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send_each(
    ngx_http_tailor_redis_t* rc, const char* cmds, const size_t* lens, size_t count,
    ngx_http_tailor_redis_handler_pt handler, void* const* datas) noexcept;

// ngx_http_tailor_redis_send_nowait
//
// Fire-and-forget (e.g. XADD ... MAXLEN ~ N): the reply is read, counted and
// dropped; an error reply is logged (at most once a second). Same bounds as
// send. Returns NGX_OK when queued, NGX_DECLINED when not ready (counted),
// NGX_ERROR on allocation failure.
ngx_int_t ngx_http_tailor_redis_send_nowait(ngx_http_tailor_redis_t* rc, const ngx_str_t* key,
                                            int argc, const char** argv,
                                            const size_t* argvlen) noexcept;

// ngx_http_tailor_redis_cancel
//
// Detaches the op: its handler will never be called; the reply, if one comes,
// is read and dropped, and the op freed. Call it when the request gives up
// (deadline, pool cleanup). Safe until the op's handler has returned,
// including from inside that handler (a no-op then); after the handler
// returned the op is gone, so clear your pointer to it in the handler.
void ngx_http_tailor_redis_cancel(ngx_http_tailor_redis_op_t* op) noexcept;

// ngx_http_tailor_redis_stats
//
// The client's counters (where create was told to put them).
const ngx_http_tailor_redis_stats_t* ngx_http_tailor_redis_stats(
    const ngx_http_tailor_redis_t* rc) noexcept;

// ngx_http_tailor_redis_now_us
//
// The clock elapsed_us is measured with: CLOCK_MONOTONIC, in microseconds.
uint64_t ngx_http_tailor_redis_now_us() noexcept;

/* internal to the Redis layer, not for callers */

// ngx_http_tailor_redis_adapter_attach (ngx_http_tailor_redis_adapter.cpp)
//
// Wraps the context's fd in an ngx_connection_t and installs hiredis's event
// hooks: level-triggered, idempotent; the cleanup hook lets hiredis close the
// fd. The handlers get an event whose connection's data is `ac`.
ngx_int_t ngx_http_tailor_redis_adapter_attach(redisAsyncContext* ac, ngx_log_t* log,
                                               ngx_event_handler_pt read_handler,
                                               ngx_event_handler_pt write_handler) noexcept;

// ngx_http_tailor_redis_adapter_write (ngx_http_tailor_redis_adapter.cpp)
//
// Lets hiredis write the context's output (the write handler's only call): a write it cannot
// finish then waits for the fd in epoll, while commands queued outside it wait only for the
// end of the event loop's iteration (add_write posts the write event).
void ngx_http_tailor_redis_adapter_write(redisAsyncContext* ac) noexcept;

// ngx_http_tailor_redis_adapter_failed (ngx_http_tailor_redis.cpp)
//
// An event hook could not (un)register the fd; called inside hiredis, so the
// client only schedules a close.
void ngx_http_tailor_redis_adapter_failed(redisAsyncContext* ac, const char* what) noexcept;

// ngx_http_tailor_redis_resend_pt
//
// Sends the same script again as EVAL (its source rather than its SHA-1); true when sent, and
// the reply then goes to the handler of that new op.
typedef bool (*ngx_http_tailor_redis_resend_pt)(void* data) noexcept;

// ngx_http_tailor_redis_resent_as_eval
//
// The one NOSCRIPT fallback, for a handler of an EVALSHA: Redis lost its script cache (a
// restart, SCRIPT FLUSH, a failover), so the command goes again as EVAL, which also caches the
// script again. True when `*reply` was NOSCRIPT and resend() sent it: the handler returns and
// waits for the new reply. When it was NOSCRIPT and could not be sent again, `*reply` becomes
// null (no reply). Any other reply is left alone.
// Example (in a handler):
//     if (ngx_http_tailor_redis_resent_as_eval(&reply, resend_as_eval, ctx)) {
//         return;
//     }
[[nodiscard]] bool ngx_http_tailor_redis_resent_as_eval(const redisReply** reply,
                                                        ngx_http_tailor_redis_resend_pt resend,
                                                        void* data) noexcept;
