// A batch as Redis's own commands (tailor::WatchedBatch, core/tailor/events/watched_batch.h):
// the check (WATCH, MGET) and MULTI, written together, then the commit (XADD ... EXEC) once
// MULTI's +OK says the transaction is open, on the events connection. What the replies mean is
// core's; this file sends, translates and falls back to the live script, which is always
// right: a batch goes by the script when core says so, when EXEC did nothing (a watched key
// changed), and when the check or MULTI got no answer.
//
// The states, with w->op the reply awaited (the batch's busy state):
//   check sent, MULTI sent   checked(): core decides (w->watch_commit); the MULTI is awaited
//   MULTI answered           opened(): +OK and decided -> the commit; else the transaction
//                            is closed (EXEC) or the WATCH let go (UNWATCH), and the script
//   commit sent              committed()
#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_events_worker.h"

#include <exception>

#include "ngx_http_tailor_redis.h"
#include "tailor/events/watched_batch.h"

namespace {

using Kind = tailor::WatchedReply::Kind;

// Failures (a check refused, a commit aborted) since the last commit before the commands are
// left for the connection's life: a Redis or a proxy that refuses WATCH, MULTI or EXEC.
constexpr uint32_t kMaxWatchFailures = 3;

tailor::WatchedReply ngx_http_tailor_events_watched_element(const redisReply* r) noexcept {
    tailor::WatchedReply e;
    switch (r->type) {
        case REDIS_REPLY_NIL:
            e.kind = Kind::kNil;
            break;
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
            e.kind = Kind::kBytes;
            e.bytes = std::string_view(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            e.kind = Kind::kInteger;
            e.integer = r->integer;
            break;
        case REDIS_REPLY_ERROR:
            e.kind = Kind::kError;
            e.bytes = std::string_view(r->str, r->len);
            break;
        default:
            e.kind = Kind::kOther;
            break;
    }
    return e;
}

// The reply's elements into w->watched_replies; false when it is not an array (or memory).
bool ngx_http_tailor_events_watched_elements(ngx_http_tailor_events_worker_t* w,
                                             const redisReply* reply) noexcept {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
        return false;
    }
    try {
        w->watched_replies.clear();
        for (size_t i = 0; i < reply->elements; i++) {
            w->watched_replies.push_back(ngx_http_tailor_events_watched_element(reply->element[i]));
        }
    } catch (const std::exception&) {
        return false;
    }
    return true;
}

// A check or commit that failed on a connection still up (a lost connection is not the
// commands' fault).
void ngx_http_tailor_events_watch_failed(ngx_http_tailor_events_worker_t* w,
                                         const char* what) noexcept {
    if (!ngx_http_tailor_redis_ready(w->redis) || ++w->watch_failures < kMaxWatchFailures) {
        return;
    }
    const ngx_http_tailor_redis_stats_t* st = ngx_http_tailor_redis_stats(w->redis);
    w->watch_off_at = st != nullptr ? st->connects + 1 : 1;
    w->watch_failures = 0;
    // once per connection at most: not rate-limited away behind the errors that led here
    ngx_log_error(NGX_LOG_WARN, w->log, 0,
                  "tailor events: %s %ui times since the last commit: batches go by the live "
                  "script until Redis is connected again",
                  what, static_cast<ngx_uint_t>(kMaxWatchFailures));
}

// What is left of the check on the connection, before the script.
enum class Leftover : unsigned char {
    kNothing,      // EXEC ran or answered: no transaction, no WATCH
    kWatch,        // the check's WATCH may stand: UNWATCH, so no later EXEC fails for its keys
    kTransaction,  // MULTI opened it: EXEC of nothing closes it, and lets go of the WATCH
};

// The batch goes by the script after all, nothing of it written; from inside a reply handler.
void ngx_http_tailor_events_watched_to_script(ngx_http_tailor_events_worker_t* w,
                                              Leftover leftover) noexcept {
    if (leftover != Leftover::kNothing) {
        const bool open = leftover == Leftover::kTransaction;
        const char* argv[] = {open ? "EXEC" : "UNWATCH"};
        size_t argvlen[] = {open ? size_t{4} : size_t{7}};
        if (ngx_http_tailor_redis_send_nowait(w->redis, nullptr, 1, argv, argvlen) != NGX_OK &&
            open && ngx_http_tailor_redis_ready(w->redis)) {
            // The transaction stays open: a script sent now would only be queued in it. Later,
            // after a backoff: the next check's MULTI fails as nested, its EXEC closes this
            // one, and the batch goes by the script from there. (A WATCH left standing only
            // makes that next EXEC conflict; the check's own EXEC lets go of it.)
            w->delivery->failed();
            ngx_http_tailor_events_done(w, false);
            return;
        }
    }
    if (!ngx_http_tailor_events_send_script(w)) {
        // nothing of it was written: first in line again, at the next flush
        w->delivery->not_sent();
        ngx_http_tailor_events_done(w, true);
    }
}

void ngx_http_tailor_events_committed(void* data, const redisReply* reply, uint64_t) noexcept {
    auto* w = static_cast<ngx_http_tailor_events_worker_t*>(data);
    w->op = nullptr;

    tailor::LiveBatch& batch = w->delivery->batch();
    if (reply != nullptr && reply->type == REDIS_REPLY_NIL) {
        // a watched key changed after the check: EXEC ran nothing
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_WATCH_CONFLICTS);
        ngx_http_tailor_events_watched_to_script(w, Leftover::kNothing);
        return;
    }

    if ((reply == nullptr && ngx_http_tailor_redis_ready(w->redis)) ||
        (reply != nullptr && reply->type == REDIS_REPLY_ERROR)) {
        // EXEC refused (EXECABORT: a command refused while queued, or EXEC itself), or an
        // error before its answer on a connection still up: the transaction was discarded,
        // nothing ran (the commit went into the transaction MULTI opened)
        if (reply != nullptr) {
            ngx_http_tailor_events_log_limited(w, NGX_LOG_ERR, "EXEC of %uz events refused: %*s",
                                               batch.events(), reply->len, reply->str);
        }
        ngx_http_tailor_events_watch_failed(w, "the commit failed");
        ngx_http_tailor_events_watched_to_script(w, Leftover::kNothing);
        return;
    }

    tailor::WatchedBatch::Outcome outcome = tailor::WatchedBatch::Outcome::kFailed;
    try {
        if (ngx_http_tailor_events_watched_elements(w, reply)) {
            outcome = w->watched.committed(false, w->watched_replies.data(),
                                           w->watched_replies.size(), &w->results);
        }
    } catch (const std::exception&) {
        outcome = tailor::WatchedBatch::Outcome::kFailed;
    }
    if (outcome == tailor::WatchedBatch::Outcome::kFailed) {
        // no answer (the connection lost), or not EXEC's: written or not, unknown. It goes
        // again, without its edits, so by the script, which skips what EXEC applied
        if (reply != nullptr) {
            ngx_http_tailor_events_log_limited(
                w, NGX_LOG_ERR, "batch of %uz events got an unexpected reply", batch.events());
        }
        w->delivery->failed();
        ngx_http_tailor_events_done(w, false);
        return;
    }
    if (outcome == tailor::WatchedBatch::Outcome::kPartial) {
        // MULTI does not roll back: the maps and the watermark are stored, the events whose
        // XADD failed are not on the stream (counted invalid)
        for (const tailor::WatchedReply& e : w->watched_replies) {
            if (e.kind == tailor::WatchedReply::Kind::kError) {
                ngx_http_tailor_events_log_limited(
                    w, NGX_LOG_ERR, "a command of a batch of %uz events failed inside EXEC: %*s",
                    batch.events(), e.bytes.size(), e.bytes.data());
                break;
            }
        }
    }

    w->watch_failures = 0;
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_WATCHED_BATCHES);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_LIVE_EDITS_TAKEN,
                                 batch.events() - w->watched.reedited_events());
    w->delivery->answered(w->results.data(), w->results.size());
    ngx_http_tailor_events_done(w, true);
}

// The check's last reply (MGET's): core decides; MULTI's answer, awaited next, acts on it.
void ngx_http_tailor_events_checked(void* data, const redisReply* reply, uint64_t) noexcept {
    auto* w = static_cast<ngx_http_tailor_events_worker_t*>(data);
    w->op = w->watch_open;
    w->watch_open = nullptr;
    w->watch_commit = false;
    if (w->op == nullptr) {
        // MULTI was refused where the check was not (send_watched): the script
        ngx_http_tailor_events_watched_to_script(w, Leftover::kWatch);
        return;
    }

    if (!ngx_http_tailor_events_watched_elements(w, reply)) {
        // WATCH or MGET refused (an ACL, a proxy), or the connection lost: the script
        ngx_http_tailor_events_watch_failed(w, "the check failed");
        return;
    }

    if (!w->watched.decide(w->watched_replies.data(), w->watched_replies.size())) {
        // a tombstone, a replay, a map nginx cannot edit: the script decides
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_WATCH_DECLINED);
        return;
    }
    w->watch_commit = true;
}

// MULTI's reply: the commit goes only into the transaction its +OK opened.
void ngx_http_tailor_events_opened(void* data, const redisReply* reply, uint64_t) noexcept {
    auto* w = static_cast<ngx_http_tailor_events_worker_t*>(data);
    w->op = nullptr;

    const bool open = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
    if (!open) {
        if (w->watch_commit) {
            // refused since the check's own MULTI (an ACL changed), or the connection lost
            ngx_http_tailor_events_watch_failed(w, "MULTI failed");
        }
        ngx_http_tailor_events_watched_to_script(w, Leftover::kWatch);
        return;
    }
    if (!w->watch_commit) {
        ngx_http_tailor_events_watched_to_script(w, Leftover::kTransaction);
        return;
    }

    const std::string_view commit = w->watched.commit();
    const std::vector<size_t>& lens = w->watched.commit_lengths();
    w->op = ngx_http_tailor_redis_send_pipeline(w->redis, commit.data(), lens.data(), lens.size(),
                                                ngx_http_tailor_events_committed, w);
    if (w->op == nullptr) {
        ngx_http_tailor_events_watched_to_script(w, Leftover::kTransaction);
    }
}

}  // namespace

bool ngx_http_tailor_events_send_watched(ngx_http_tailor_events_worker_t* w) noexcept {
    if (!w->watch || w->split) {
        return false;
    }
    const ngx_http_tailor_redis_stats_t* st = ngx_http_tailor_redis_stats(w->redis);
    if (w->watch_off_at != 0) {
        if (st != nullptr && st->connects + 1 == w->watch_off_at) {
            return false;  // refused on this connection
        }
        w->watch_off_at = 0;
    }
    if (!w->watched.plan(w->delivery->batch(), w->watch_max_commands)) {
        return false;
    }
    const std::string_view check = w->watched.check();
    const std::vector<size_t>& lens = w->watched.check_lengths();
    ngx_http_tailor_redis_op_t* op = ngx_http_tailor_redis_send_pipeline(
        w->redis, check.data(), lens.data(), lens.size(), ngx_http_tailor_events_checked, w);
    if (op == nullptr) {
        return false;
    }
    const std::string_view open = tailor::WatchedBatch::open();
    const size_t open_len = open.size();
    w->watch_open = ngx_http_tailor_redis_send_pipeline(w->redis, open.data(), &open_len, 1,
                                                        ngx_http_tailor_events_opened, w);
    // Refused (the check filled the output buffer past max_output, or in_flight reached
    // max_pending), the check still goes: checked() finds no MULTI to wait for and, its
    // replies in, lets go of the WATCH and sends the script, with the buffer drained.
    w->op = op;
    return true;
}
