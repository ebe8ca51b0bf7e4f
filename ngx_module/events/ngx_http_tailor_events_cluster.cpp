// A Redis Cluster's event batches: each batch of the delivery goes split (tailor::ClusterBatch)
// in two phases, the live script once per visitor slot, then the shard script once per stream
// shard (each followed by a WAIT for the shard's replica), every part routed by a key of its
// slot through the cluster client (MOVED/ASK followed there). Any part without a usable reply
// fails the whole batch, which the delivery sends again: both phases skip what they applied.
// Until a SET of the shard count (<stream>:shards, what consumers read to find the shards) is
// answered OK on the current connections, it goes with the live phase; until it has been
// stored once by this worker, a batch whose SET fails goes again: no shard gets an append that
// a consumer could not find.
#include "ngx_http_tailor_events_worker.h"

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/stream_shard.h"

namespace {

void ngx_http_tailor_events_part_reply(void* data, const redisReply* reply, uint64_t) noexcept;

// Sends one part of the split batch's current phase, routed by a key of its slot.
bool ngx_http_tailor_events_send_part(ngx_http_tailor_events_worker_t* w,
                                      ngx_http_tailor_events_part_t* p) noexcept {
    int argc;
    const char** argv;
    const size_t* argvlen;
    std::string_view key;
    if (w->stream_phase) {
        tailor::StreamAppend& a = w->cluster.stream(p->index);
        argc = a.argc();
        argv = a.argv();
        argvlen = a.argvlen();
        key = a.key();
    } else {
        tailor::LiveBatch& b = w->cluster.live(p->index);
        argc = b.argc();
        argv = b.argv();
        argvlen = b.argvlen();
        key = w->cluster.live_route(p->index);
    }
    ngx_str_t k = {key.size(), reinterpret_cast<u_char*>(const_cast<char*>(key.data()))};
    p->op = ngx_http_tailor_redis_send(w->redis, &k, argc, argv, argvlen,
                                       ngx_http_tailor_events_part_reply, p);
    return p->op != nullptr;
}

bool ngx_http_tailor_events_resend_part_as_eval(void* data) noexcept {
    auto* p = static_cast<ngx_http_tailor_events_part_t*>(data);
    if (p->w->stream_phase) {
        p->w->cluster.stream(p->index).use_eval();
    } else {
        p->w->cluster.live(p->index).use_eval();
    }
    return ngx_http_tailor_events_send_part(p->w, p);
}

// The SET publishing the shard count for consumers, routed by its own key's slot.
bool ngx_http_tailor_events_send_shards(ngx_http_tailor_events_worker_t* w,
                                        ngx_http_tailor_events_part_t* p) noexcept {
    try {
        std::string key = tailor::stream_shards_key(w->live.stream.key);
        std::string n = std::to_string(w->shards);
        const char* argv[] = {"SET", key.c_str(), n.c_str()};
        size_t argvlen[] = {3, key.size(), n.size()};
        ngx_str_t k = {key.size(), reinterpret_cast<u_char*>(key.data())};
        p->op = ngx_http_tailor_redis_send(w->redis, &k, 3, argv, argvlen,
                                           ngx_http_tailor_events_part_reply, p);
    } catch (const std::exception&) {
        return false;
    }
    return p->op != nullptr;
}

// After stream part `index`, on the same node: WAIT until a replica has it (or the timeout), so
// a failover right after the reply cannot lose what the reply confirmed.
bool ngx_http_tailor_events_send_wait(ngx_http_tailor_events_worker_t* w,
                                      ngx_http_tailor_events_part_t* p) noexcept {
    std::string_view key = w->cluster.stream(p->index).key();
    ngx_str_t k = {key.size(), reinterpret_cast<u_char*>(const_cast<char*>(key.data()))};
    const char* argv[] = {"WAIT", "1", w->replica_wait.c_str()};
    size_t argvlen[] = {4, 1, w->replica_wait.size()};
    p->op = ngx_http_tailor_redis_send(w->redis, &k, 3, argv, argvlen,
                                       ngx_http_tailor_events_part_reply, p);
    return p->op != nullptr;
}

// Sends every part of the current phase (in the live phase the shard count's SET while it is
// unpublished; in the stream phase each append followed by its WAIT when the shard's slot has a
// replica); false when none went. One that does not go fails the batch once those sent have
// answered (a part is never left out: the batch goes again whole).
bool ngx_http_tailor_events_send_phase(ngx_http_tailor_events_worker_t* w, size_t count) noexcept {
    using kind = ngx_http_tailor_events_part_kind_t;
    bool waits = w->stream_phase && !w->replica_wait.empty();
    const ngx_http_tailor_redis_stats_t* st = ngx_http_tailor_redis_stats(w->redis);
    bool shards = !w->stream_phase && st != nullptr && st->connects + 1 != w->shards_connects;
    try {
        // nothing of the previous phase is out
        w->parts.resize((waits ? 2 * count : count) + (shards ? 1 : 0));
    } catch (const std::exception&) {
        return false;
    }
    w->parts_pending = 0;
    size_t used = 0;
    if (shards) {
        ngx_http_tailor_events_part_t* p = &w->parts[used++];
        *p = {w, 0, nullptr, kind::kShards};
        w->shards_sent_at = st->connects + 1;
        if (ngx_http_tailor_events_send_shards(w, p)) {
            w->parts_pending++;
        } else if (!w->shards_stored) {
            w->parts_failed = true;
            return false;
        } else {
            used--;  // stored before: it goes with a later batch
        }
    }
    for (size_t i = 0; i < count; i++) {
        ngx_http_tailor_events_part_t* p = &w->parts[used++];
        *p = {w, i, nullptr, kind::kBatch};
        if (!ngx_http_tailor_events_send_part(w, p)) {
            w->parts_failed = true;
            break;
        }
        w->parts_pending++;

        if (!waits) {
            continue;
        }
        std::string_view key = w->cluster.stream(i).key();
        ngx_str_t k = {key.size(), reinterpret_cast<u_char*>(const_cast<char*>(key.data()))};
        if (!ngx_http_tailor_redis_slot_has_replica(w->redis, &k)) {
            continue;
        }
        p = &w->parts[used++];
        *p = {w, i, nullptr, kind::kWait};
        if (!ngx_http_tailor_events_send_wait(w, p)) {
            w->parts_failed = true;
            break;
        }
        w->parts_pending++;
    }
    return w->parts_pending > 0;
}

// A part's reply. When the last of a phase is in: the stream phase follows the live one, and
// after it the batch is answered; any part without its reply fails the whole batch.
void ngx_http_tailor_events_part_reply(void* data, const redisReply* reply, uint64_t) noexcept {
    auto* p = static_cast<ngx_http_tailor_events_part_t*>(data);
    ngx_http_tailor_events_worker_t* w = p->w;
    p->op = nullptr;

    if (p->kind == ngx_http_tailor_events_part_kind_t::kBatch &&
        ngx_http_tailor_redis_resent_as_eval(&reply, ngx_http_tailor_events_resend_part_as_eval,
                                             p)) {
        return;
    }

    bool ok = false;
    if (p->kind == ngx_http_tailor_events_part_kind_t::kShards) {
        // Lost (a MOVED to a node not yet connected, a node gone) or refused: the SET goes
        // again with the next batch. Until it has been stored once, this batch goes again too;
        // after that the count is there, and a failed republish holds nothing back.
        bool stored = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
        if (stored) {
            w->shards_connects = w->shards_sent_at;
            w->shards_stored = true;
        } else if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
            ngx_http_tailor_events_log_limited(
                w, NGX_LOG_ERR, "publishing the shard count failed: %*s", reply->len, reply->str);
        }
        ok = stored || w->shards_stored;
        reply = nullptr;  // said here, if at all
    } else if (p->kind == ngx_http_tailor_events_part_kind_t::kWait) {
        // no reply: the node went away, maybe before its replica had the append: again
        // (the shard skips it if it was kept). No replica in time, or WAIT refused (ACL):
        // the append stands, said once in a while.
        ok = reply != nullptr;
        if (ok && (reply->type != REDIS_REPLY_INTEGER || reply->integer < 1)) {
            std::string_view key = w->cluster.stream(p->index).key();
            ngx_http_tailor_events_log_limited(
                w, NGX_LOG_WARN, "no replica confirmed the append to \"%*s\" within %s ms%s%*s",
                key.size(), key.data(), w->replica_wait.c_str(),
                reply->type == REDIS_REPLY_ERROR ? ": " : "",
                reply->type == REDIS_REPLY_ERROR ? static_cast<size_t>(reply->len) : 0,
                reply->type == REDIS_REPLY_ERROR ? reply->str : "");
        }
    } else if (reply != nullptr && reply->type == REDIS_REPLY_STRING) {
        std::string_view bytes(reply->str, static_cast<size_t>(reply->len));
        ok = w->stream_phase ? w->cluster.stream_answered(p->index, bytes)
                             : w->cluster.live_answered(p->index, bytes);
    }
    if (!ok) {
        if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
            ngx_http_tailor_events_log_limited(w, NGX_LOG_ERR, "%s part of a batch failed: %*s",
                                               w->stream_phase ? "stream" : "live", reply->len,
                                               reply->str);
        }
        w->parts_failed = true;
    }
    if (--w->parts_pending > 0) {
        return;
    }

    if (!w->parts_failed && !w->stream_phase) {
        w->stream_phase = true;
        if (!w->cluster.build_streams()) {
            w->parts_failed = true;
        } else if (w->cluster.stream_parts() > 0) {
            if (ngx_http_tailor_events_send_phase(w, w->cluster.stream_parts())) {
                return;  // the shards answer
            }
            w->parts_failed = true;
        }
    }

    if (w->parts_failed) {
        w->delivery->failed();
        ngx_http_tailor_events_done(w, false);
        return;
    }
    const std::vector<tailor::LiveResult>& results = w->cluster.results();
    w->delivery->answered(results.data(), results.size());
    ngx_http_tailor_events_done(w, true);
}

}  // namespace

// The split batch: phase 1, each visitor slot's live update (and the shard count's SET while
// unpublished).
bool ngx_http_tailor_events_send_split(ngx_http_tailor_events_worker_t* w) noexcept {
    if (!w->cluster.build(w->delivery->batch(), w->live, w->shards) ||
        w->cluster.live_parts() == 0) {
        return false;
    }
    w->stream_phase = false;
    w->parts_failed = false;
    if (!ngx_http_tailor_events_send_phase(w, w->cluster.live_parts())) {
        w->parts_failed = false;
        return false;  // nothing went: not sent
    }
    return true;
}
