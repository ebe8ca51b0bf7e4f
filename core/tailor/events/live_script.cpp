// EventLive: the live-state Lua script Redis runs (kLiveScript) and its SHA-1 (model: live.h).
// This file holds the batch: the argument format, each visitor's stored state, the producers'
// watermarks, the loop over the events and the write-back; what one event does to a visitor's
// live map is live_script_bytes.h's, joined between the two parts here.
#include "tailor/events/live.h"

#include <array>
#include <cstddef>

#include "tailor/events/live_script_bytes.h"

#include "tailor/profile/profile.h"
#include "tailor/store/script.h"

namespace tailor {

// Argument layout (LiveBatch builds it):
//   KEYS  [stream,] then per visitor: live, ev; then [with the stream] one
//         watermark key per producer in the batch (producer_key())
//   ARGV  1 format "6", 2 "s" to append to KEYS[1] or "-", 3 maxlen (0: none),
//         4 ttl seconds, 5 viewed cap, 6 cart cap, 7 session gap seconds,
//         8 the number of producers P, then per producer (4): its name, the
//         seq of its first and of its last event in the batch, and its
//         events' seqs ("<event number> <seq> ..."; event numbers from 1);
//         then the number of edits M, and per edit (3): a visitor's live key
//         index, the first 12 bytes of its map as nginx read it (the header
//         and the revision), and that map with all of the visitor's events in
//         the batch applied and its revision moved on ("": unchanged);
//         then per event: live key index (0: not an event the script takes,
//         reported '-'), time (unix seconds), type, blob, and by type:
//         Product Viewed: product id, category, price in minor units;
//         Product Added / Removed: product id, price, quantity;
//         Identify: the previous visitor's live key index (0: none);
//         or, for an event whose facts (all of these but the blob) are those of the
//         event before it: "=" and its blob.
// The ev key of a visitor is always the KEYS entry right after its live key.
//
// Why the facts travel beside the blob: LiveBatch reads them in one pass
// over the blob it scans for routing anyway, so the script unpacks a blob
// only in the rare case that needs more (a visitor's first event, for its
// acquisition). Why only the facts an event's type needs, and the seqs per
// producer: each argument costs Redis ~1k instructions (parsed from RESP,
// pushed into Lua) whether the script reads it or not; format 3 sent 11 per
// event, of which a page view needs 4 and a product view 7, and the seqs are
// read only for a replay. Why "=": a batch is mostly runs of one visitor's page views in
// the same second, and a run's facts are then sent once (format 5: a batch of 100 product
// views of one visitor cost Redis 28.2k instructions an event in format 4, 22.8k in this
// one; docs/benchmarks.md, "Runs travel once").
//
// Why edits (format 6): on a shop nearly every event in a batch is another visitor's, and
// loading, splicing and writing back each one's ~1 KB map in Lua cost Redis ~200k
// instructions per event, 3x what storing a map nginx edited costs (docs/benchmarks.md, "Many
// visitors"). nginx read the map at the start of the request; LiveMapEdit applies the same
// byte edits the script makes (live_edit_test.cpp checks them against each other). The script
// takes an edit only when the stored map is still the one nginx read, the visitor is not
// erased, and no event in the batch is a replay (with the stream, a batch without replays has
// no per-producer seq lists); else it edits the map itself, as before, and the edit costs only
// its bytes on the wire. "Still the one read" is the map's revision ("rev", in its first 12
// bytes, moved on by every write of the map: encode_live, rev_moved, LiveMapEdit): a GETRANGE
// of 12 bytes and an EXISTS of the tombstone instead of loading the map. Comparing the whole
// map cost ~20k instructions more per event: Redis's Lua hashes every byte of every string it
// makes, and that was the map read (MGET) and the map nginx sent, 1 KB each.
//
// Why a watermark per producer (format 3 on) when the stream is appended to:
// a producer delivers in seq order, so "seq <= the highest applied" is a
// replay, whichever visitor it is for. One GET and one SET per producer and
// batch replace the HGETALL, HSET and EXPIRE of every visitor's ev hash,
// which were most of what a new visitor's first page view wrote. Without the
// stream (Redis Cluster, one call per visitor slot, ClusterBatch) the ev hash
// keeps the watermark per visitor, and the stream shard its own per producer
// (StreamAppend).
namespace {

// kLiveScript's first part (the arguments, helpers, a visitor's stored state); then
// live_detail::kLiveScriptBytes (the map edits), then kTail (the batch's loop). Two literals
// here and one there: bench/http/live_script_driver.py rebuilds the script from them.
constexpr char kHead[] =
    R"lua(-- tailor live v5: append events to the stream and apply them to tailor:{vid}:live
if ARGV[1] ~= '6' then
  return redis.error_reply('ERR tailor live: unsupported argument format')
end
local to_stream = ARGV[2] == 's'
local maxlen = tonumber(ARGV[3]) or 0
-- a string: redis.call() formats a Lua number with snprintf("%.17g"), ~2k instructions each
local ttl = tonumber(ARGV[4]) and ARGV[4] or '7776000'
local viewed_cap = tonumber(ARGV[5]) or 20
local cart_cap = tonumber(ARGV[6]) or 50
local gap = tonumber(ARGV[7]) or 1800
local producers = tonumber(ARGV[8]) or 0
local MAX_PRODUCERS = 16
local PURCHASED_CAP = 50  -- the newest order's products first; kMaxPurchases is 256
-- an event's arguments after its key index, time, type and blob, by type
local EXTRA = {['Product Viewed'] = 3, ['Product Added'] = 3, ['Product Removed'] = 3,
               Identify = 1}
local stream = KEYS[1]
local byte, char, find, sub, floor = string.byte, string.char, string.find, string.sub, math.floor

local function str(x)
  if type(x) == 'string' and #x > 0 then return x end
  return nil
end
local function num(x)
  if type(x) == 'number' and x == x and x > -1e15 and x < 1e15 then return x end
  return nil
end
-- tonumber() of an argument, memoized: it parses the string twice (strtod),
-- and a batch repeats the same few (times, prices)
local memo = {}
local function number(s)
  local x = memo[s]
  if x == nil then
    x = tonumber(s) or false
    memo[s] = x
  end
  return x or nil
end

-- Per visitor, loaded on its first event: the stored live map's bytes and
-- its tombstone (one MGET), live decoded on first use, the ev hash (without
-- the stream only), and what changed. With nginx's edit of the map it read
-- (edits: key index -> the edit's first argument) and that map still stored
-- (its first 12 bytes, which hold its revision, the same): the edit is the
-- visitor's map, its events edit nothing (cas), and the map is not read.
local visitors = {}
local edits = nil
local function visitor(ki)
  local v = visitors[ki]
  if v == nil then
    local key = KEYS[ki]
    local h = {}
    if not to_stream then
      local flat = redis.pcall('HGETALL', KEYS[ki + 1])
      if type(flat) == 'table' and flat.err == nil then
        for j = 1, #flat - 1, 2 do h[flat[j]] = flat[j + 1] end
      end
    end
    -- key is tailor:{<vid>}:live; erased (tailorctl profile erase): tailor:{<vid>}:erased
    local tombstone = string.sub(KEYS[ki], 1, -5) .. 'erased'
    local a = edits and edits[ki]
    if a and redis.call('GETRANGE', key, '0', '11') == ARGV[a + 1] and
       redis.call('EXISTS', tombstone) == 0 then
      -- the map nginx read, by its revision: nginx's edit is the map (nil: unchanged)
      v = {ki = ki, h = h, set = {}, vid = sub(key, 9, -7), cas = true,
           raw = ARGV[a + 2] ~= '' and ARGV[a + 2] or false, erased = false}
    else
      local got = redis.call('MGET', key, tombstone)
      v = {ki = ki, h = h, set = {}, vid = sub(key, 9, -7),
           raw = type(got[1]) == 'string' and got[1] or false, erased = got[2] ~= false}
    end
    visitors[ki] = v
  end
  return v
end
local function live(v)
  if v.l == nil then
    local l = nil
    if v.raw then
      local ok, t = pcall(cmsgpack.unpack, v.raw)
      if ok and type(t) == 'table' then l = t end
    end
    if l == nil then l = {v = 1} end
    if v.last_at then
      -- patched in place so far: the decoded map takes the patched last_seen
      l.last_seen = v.last
    end
    v.l = l
  end
  return v.l
end

)lua";

constexpr char kTail[] = R"lua(
-- Per producer: its watermark (with the stream, the highest seq applied,
-- read once). When its first event in the batch is above it, so are the
-- rest (a producer's events come in seq order): their seqs are not even
-- looked at and the last one becomes the watermark. Else (a replay), and
-- without the stream (a watermark per visitor), each event's seq is taken
-- from the producer's list.
local marks, mark_of, seq_of = {}, nil, nil
for j = 1, producers do
  local a = 8 + 4 * (j - 1)
  local m = {src = ARGV[a + 1], key = stream .. ':seq:' .. ARGV[a + 1]}
  local each = not to_stream
  if to_stream then
    local raw = redis.pcall('GET', m.key)
    m.seq = tonumber(type(raw) == 'string' and raw or '') or -1
    if (tonumber(ARGV[a + 2]) or -1) > m.seq then m.last = ARGV[a + 3] else each = true end
  end
  if each then
    mark_of, seq_of = mark_of or {}, seq_of or {}
    for e, s in string.gmatch(ARGV[a + 4], '(%d+) (%S+)') do
      e = tonumber(e)
      mark_of[e], seq_of[e] = m, s
    end
  end
  marks[j] = m
end

-- nginx's edits, taken only when no event is a replay: an edit applied every
-- event of its visitor in the batch.
local b, i = 8 + 4 * producers, 0
local nedits = tonumber(ARGV[b + 1]) or 0
if nedits > 0 and to_stream and mark_of == nil then
  edits = {}
  for j = 0, nedits - 1 do
    local ki = tonumber(ARGV[b + 2 + 3 * j])
    if ki then edits[ki] = b + 2 + 3 * j end
  end
end
b = b + 1 + 3 * nedits

-- Each event in order: an invalid one is reported and skipped (it writes
-- nothing), a replay is skipped, the rest appended and applied.
local results = {}
local appended = false
local nargs = #ARGV
local times = {}
local last_ks, v = nil, false  -- a batch is mostly runs of one visitor's events
-- an event's facts; "=" in its key's place: those of the event before it (a run)
local ks, t, kind, x1, x2, x3 = nil, false, nil, nil, nil, nil
while b < nargs do
  i = i + 1
  local blob
  if ARGV[b + 1] == '=' then
    blob = ARGV[b + 2]
    b = b + 2
  else
    local ts, n
    ks, ts, kind, blob = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
    n = EXTRA[kind] or 0
    x1 = n >= 1 and ARGV[b + 5] or nil
    x2 = n >= 2 and ARGV[b + 6] or nil
    x3 = n >= 3 and ARGV[b + 7] or nil
    b = b + 4 + n
    t = false
    if ts then
      t = times[ts]
      if t == nil then
        t = tonumber(ts) or false
        times[ts] = t
      end
    end
  end
  if ks ~= last_ks then
    local ki = tonumber(ks)
    v = ki and ki > 0 and KEYS[ki] and KEYS[ki + 1] and visitor(ki) or false
    last_ks = ks
  end
  if not (v and t) or b > nargs then
    results[i] = '-'
  else
    local fresh = true
    local m = mark_of and mark_of[i]
    if m then
      local seq_s = seq_of[i]
      local seq = tonumber(seq_s)
      if seq and to_stream then
        if seq <= m.seq then
          fresh = false
        else
          m.seq, m.last = seq, seq_s
        end
      elseif seq then
        local field = 'p:' .. m.src
        local high = tonumber(v.h[field] or '')
        if high and seq <= high then
          fresh = false
        else
          v.h[field] = seq_s
          v.set[field] = seq_s
        end
      end
    end
    if v.erased then
      fresh = false  -- erased (tombstone): a replay must not re-create anything
    end
    if not fresh then
      -- without the stream the caller appends what is not erased ('x') to a shard itself
      results[i] = (v.erased and not to_stream) and 'x' or '0'
    else
      if to_stream then
        redis.call('XADD', stream, '*', 'type', kind, 'vid', v.vid, 'e', blob)
        appended = true
      end
      local extra = EXTRA[kind]
      local sku = extra == 3 and x1 or ''
      if v.cas then
        -- nginx's edit holds it
      elseif sku ~= '' then
        if kind == 'Product Viewed' then
          local cs, ps = x2, x3
          -- not what this visitor's last view here put first, in the same second
          if not (v.top_sku == sku and v.top_at == t and v.top_cs == cs and v.top_ps == ps) then
            local category, price = str(cs), number(ps)
            if touched(v, t) and viewed_fast(v, t, sku, category, price) then
              v.top_sku, v.top_at, v.top_cs, v.top_ps = sku, t, cs, ps
            else
              full(v, kind, t, blob, sku, category, price, 1)
            end
          end
        else
          full(v, kind, t, blob, sku, nil, number(x2), number(x3) or 1)
        end
      elseif kind == 'Order Completed' or extra == 1 then
        full(v, kind, t, blob, nil, nil, nil, 1, extra == 1 and number(x1))
      elseif not touched(v, t) then
        full(v, kind, t, blob, nil, nil, nil, 1)
      end
      results[i] = v.cas and 'c' or '1'
    end
  end
end

-- Trim once per batch (MAXLEN ~ on every XADD cost a third of each XADD),
-- write back once per key, only what changed, with the TTL refreshed.
if appended and maxlen > 0 then
  redis.call('XTRIM', stream, 'MAXLEN', '~', ARGV[3])
end
for _, m in ipairs(marks) do
  if m.last then
    redis.call('SET', m.key, m.last, 'EX', ttl)
  end
end
for ki, v in pairs(visitors) do
  if v.dirty then
    redis.call('SET', KEYS[ki], encode_live(v.l, v.raw), 'EX', ttl)
  elseif v.cas then
    if v.raw then redis.call('SET', KEYS[ki], v.raw, 'EX', ttl) end  -- nginx moved rev
  elseif v.patched or v.spliced then
    local raw = v.raw
    if v.patched then
      local at = v.last_at
      raw = sub(raw, 1, at - 1) .. be32(v.last) .. sub(raw, at + 4)
    end
    redis.call('SET', KEYS[ki], rev_moved(raw), 'EX', ttl)
  end
  local args = {}
  for f, val in pairs(v.set) do
    args[#args + 1] = f
    args[#args + 1] = val
  end
  if #args > 0 then
    local key = KEYS[ki + 1]
    redis.call('HSET', key, unpack(args))
    if not to_stream then
      local producers = {}
      for f, val in pairs(v.h) do
        if string.sub(f, 1, 2) == 'p:' then producers[#producers + 1] = {f, tonumber(val) or 0} end
      end
      if #producers > MAX_PRODUCERS then
        table.sort(producers, function(a, b) return a[2] > b[2] end)
        local gone = {}
        for j = MAX_PRODUCERS + 1, #producers do gone[#gone + 1] = producers[j][1] end
        redis.call('HDEL', key, unpack(gone))
      end
    end
    redis.call('EXPIRE', key, ttl)
  end
end
-- one byte per event: an array of integers cost a reply object per event in nginx
return table.concat(results)
)lua";

// The three parts as one array, at compile time (C++17 has no constexpr string concatenation).
template <size_t A, size_t B, size_t C>
constexpr std::array<char, A + B + C - 2> joined(const char (&a)[A], const char (&b)[B],
                                                 const char (&c)[C]) {
    std::array<char, A + B + C - 2> out{};
    size_t n = 0;
    for (size_t i = 0; i + 1 < A; ++i)
        out[n++] = a[i];
    for (size_t i = 0; i + 1 < B; ++i)
        out[n++] = b[i];
    for (size_t i = 0; i < C; ++i)
        out[n++] = c[i];
    return out;
}

constexpr auto kScript = joined(kHead, live_detail::kLiveScriptBytes, kTail);

}  // namespace

const std::string_view kLiveScript(kScript.data(), kScript.size() - 1);

static_assert(kMaxViewed >= 20 && kMaxCartLines >= 50,
              "LiveConfig's default caps must fit the profile decoder's");

std::string_view live_script_sha1() noexcept {
    static const std::string hex = redis_script_sha1(kLiveScript);
    return hex;
}

}  // namespace tailor
