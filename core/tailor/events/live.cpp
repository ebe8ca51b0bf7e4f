// EventLive: the live-state Lua script (run by Redis) and the EVALSHA argv builder.
#include "tailor/events/live.h"

#include <charconv>

#include "tailor/profile/profile.h"
#include "tailor/store/keys.h"
#include "tailor/store/script.h"
#include "tailor/visitor/visitor_id.h"

namespace tailor {

// Argument layout (LiveBatch builds it):
//   KEYS  [stream,] then per visitor: live, ev
//   ARGV  1 format "1", 2 "s" to append to KEYS[1] or "-", 3 maxlen (0: none),
//         4 ttl seconds, 5 viewed cap, 6 cart cap, 7 money scale,
//         8 session gap seconds, then per event: live key index,
//         previous visitor's live key index (0: none), blob.
// The ev key of a visitor is always the KEYS entry right after its live key.
const std::string_view kLiveScript =
    R"lua(-- tailor live v1: append events to the stream and apply them to tailor:{vid}:live
if ARGV[1] ~= '1' then
  return redis.error_reply('ERR tailor live: unsupported argument format')
end
local to_stream = ARGV[2] == 's'
local maxlen = tonumber(ARGV[3]) or 0
local ttl = tonumber(ARGV[4]) or 7776000
local viewed_cap = tonumber(ARGV[5]) or 20
local cart_cap = tonumber(ARGV[6]) or 50
local scale = tonumber(ARGV[7]) or 100
local gap = tonumber(ARGV[8]) or 1800
local FIXED = 8
local MAX_PRODUCERS = 16

local function str(x)
  if type(x) == 'string' and #x > 0 then return x end
  return nil
end
local function num(x)
  if type(x) == 'number' and x == x and x > -1e15 and x < 1e15 then return x end
  return nil
end
local function sku_of(p)
  if type(p) ~= 'table' then return nil end
  return str(p.product_id) or str(p.ProductID) or str(p.sku)
end
local function money(x)
  x = num(x)
  if not x or x < 0 then return nil end
  local m = math.floor(x * scale + 0.5)
  if m > 1e12 then return nil end
  return m
end
local function qty(x)
  x = num(x)
  if not x then return 1 end
  x = math.floor(x)
  if x < 1 then return 1 end
  if x > 1000000 then return 1000000 end
  return x
end

-- 1. Unpack and check every event before anything is written.
local n = math.floor((#ARGV - FIXED) / 3)
local events, results = {}, {}
for i = 1, n do
  local base = FIXED + (i - 1) * 3
  local ki, pi, blob = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]), ARGV[base + 3]
  local ok, e = pcall(cmsgpack.unpack, blob)
  if ok and type(e) == 'table' and str(e.type) and str(e.vid) and num(e.ts) and ki
     and KEYS[ki] and KEYS[ki + 1] then
    local prev = nil
    if pi and pi > 0 and KEYS[pi] and KEYS[pi + 1] and pi ~= ki then prev = pi end
    events[i] = {e = e, k = ki, p = prev, blob = blob}
    results[i] = 0
  else
    results[i] = -1
  end
end

-- 2. Read the state the batch touches.
local lives, hashes, live_dirty, hash_dirty = {}, {}, {}, {}
local function load(ki)
  local key = KEYS[ki]
  if lives[key] == nil then
    local l = nil
    local raw = redis.pcall('GET', key)
    if type(raw) == 'string' then
      local ok, t = pcall(cmsgpack.unpack, raw)
      if ok and type(t) == 'table' then l = t end
    end
    if l == nil then l = {v = 1} end
    lives[key] = l
    local h = {}
    local flat = redis.pcall('HGETALL', KEYS[ki + 1])
    if type(flat) == 'table' and flat.err == nil then
      for j = 1, #flat - 1, 2 do h[flat[j]] = flat[j + 1] end
    end
    hashes[KEYS[ki + 1]] = h
  end
end
for i = 1, n do
  local ev = events[i]
  if ev then
    load(ev.k)
    if ev.p then load(ev.p) end
  end
end

-- 3. Apply, in order.
local function list(l, name)
  if type(l[name]) ~= 'table' then l[name] = {} end
  return l[name]
end
local function remove_sku(t, sku)
  for j = #t, 1, -1 do
    if type(t[j]) ~= 'table' or t[j].sku == sku then table.remove(t, j) end
  end
end
local function trim(t, cap)
  while #t > cap do table.remove(t) end
end

local function apply(l, e)
  -- A newer major written by a newer module: leave it alone.
  if num(l.v) and l.v > 1 then return end
  l.v = 1
  local t = math.floor(e.ts / 1000)
  local last = num(l.last_seen)
  if not last or t - last > gap then l.visits = (num(l.visits) or 0) + 1 end
  if not last or t > last then l.last_seen = t end
  local first = num(l.first_seen)
  if not first or first == 0 or t < first then l.first_seen = t end
  if type(l.acquisition) ~= 'table' then
    l.acquisition = {
      source = str(e.utm_source) or str(e.ref_host) or e.ref,
      medium = str(e.utm_medium),
      campaign = str(e.utm_campaign),
      referrer = str(e.ref_host),
      at = t,
    }
  end
  local p = e.props
  local sku = sku_of(p)
  local kind = e.type
  if kind == 'Product Viewed' and sku then
    local viewed = list(l, 'viewed')
    remove_sku(viewed, sku)
    table.insert(viewed, 1, {sku = sku, category = str(p.category), at = t, price = money(p.price)})
    trim(viewed, viewed_cap)
  elseif kind == 'Product Added' and sku then
    local cart = list(l, 'cart')
    local line = nil
    for j = 1, #cart do
      if type(cart[j]) == 'table' and cart[j].sku == sku then line = cart[j] end
    end
    if line then
      line.qty = math.min((num(line.qty) or 1) + qty(p.quantity), 1000000)
      line.price = money(p.price) or line.price
    else
      table.insert(cart, 1, {sku = sku, qty = qty(p.quantity), added_at = t, price = money(p.price)})
      trim(cart, cart_cap)
    end
    l.cart_at = t
  elseif kind == 'Product Removed' and sku then
    local cart = list(l, 'cart')
    for j = #cart, 1, -1 do
      if type(cart[j]) == 'table' and cart[j].sku == sku then
        local left = (num(cart[j].qty) or 1) - qty(p.quantity)
        if left < 1 then table.remove(cart, j) else cart[j].qty = left end
      end
    end
    l.cart_at = t
  elseif kind == 'Order Completed' then
    l.cart = {}
    l.cart_at = t
  end
end

-- Identify: the anonymous visitor's live data joins the known visitor's.
local function merge(into, from)
  if num(into.v) and into.v > 1 then return end
  local seen, all = {}, {}
  for _, src in ipairs({list(into, 'viewed'), list(from, 'viewed')}) do
    for _, item in ipairs(src) do
      if type(item) == 'table' and str(item.sku) then
        local old = seen[item.sku]
        if not old or (num(item.at) or 0) > (num(old.at) or 0) then seen[item.sku] = item end
      end
    end
  end
  for _, item in pairs(seen) do table.insert(all, item) end
  table.sort(all, function(a, b) return (num(a.at) or 0) > (num(b.at) or 0) end)
  trim(all, viewed_cap)
  into.viewed = all
  if (num(from.cart_at) or 0) > (num(into.cart_at) or 0) then
    into.cart = from.cart
    into.cart_at = from.cart_at
  end
  into.visits = (num(into.visits) or 0) + (num(from.visits) or 0)
  if num(from.first_seen) and from.first_seen > 0 and
     (not num(into.first_seen) or into.first_seen == 0 or from.first_seen < into.first_seen) then
    into.first_seen = from.first_seen
  end
  if num(from.last_seen) and from.last_seen > (num(into.last_seen) or 0) then
    into.last_seen = from.last_seen
  end
  if type(from.acquisition) == 'table' and (type(into.acquisition) ~= 'table' or
     (num(from.acquisition.at) or 0) < (num(into.acquisition.at) or 0)) then
    into.acquisition = from.acquisition
  end
end

for i = 1, n do
  local ev = events[i]
  if ev then
    local e = ev.e
    local live_key, hash_key = KEYS[ev.k], KEYS[ev.k + 1]
    local h = hashes[hash_key]
    local src, seq = str(e.src), num(e.seq)
    local field = src and ('p:' .. src) or nil
    if field and seq and tonumber(h[field] or '') and seq <= tonumber(h[field]) then
      results[i] = 0
    else
      if field and seq then
        h[field] = tostring(seq)
        hash_dirty[hash_key] = true
      end
      if to_stream then
        if maxlen > 0 then
          redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*',
                     'type', e.type, 'vid', e.vid, 'e', ev.blob)
        else
          redis.call('XADD', KEYS[1], '*', 'type', e.type, 'vid', e.vid, 'e', ev.blob)
        end
      end
      apply(lives[live_key], e)
      live_dirty[live_key] = true
      if e.type == 'Identify' and ev.p then
        merge(lives[live_key], lives[KEYS[ev.p]])
        hashes[KEYS[ev.p + 1]]['merged_into'] = e.vid
        hash_dirty[KEYS[ev.p + 1]] = true
      end
      results[i] = 1
    end
  end
end

-- 4. Write back once per key, bounded, with the TTL refreshed.
for key in pairs(live_dirty) do
  redis.call('SET', key, cmsgpack.pack(lives[key]), 'EX', ttl)
end
for key in pairs(hash_dirty) do
  local h, producers = hashes[key], {}
  for f, v in pairs(h) do
    if string.sub(f, 1, 2) == 'p:' then table.insert(producers, {f, tonumber(v) or 0}) end
  end
  if #producers > MAX_PRODUCERS then
    table.sort(producers, function(a, b) return a[2] > b[2] end)
    for j = MAX_PRODUCERS + 1, #producers do h[producers[j][1]] = nil end
  end
  local args = {}
  for f, v in pairs(h) do
    table.insert(args, f)
    table.insert(args, v)
  end
  redis.call('DEL', key)
  if #args > 0 then
    redis.call('HSET', key, unpack(args))
    redis.call('EXPIRE', key, ttl)
  end
end
return results
)lua";

static_assert(kMaxViewed >= 20 && kMaxCartLines >= 50,
              "LiveConfig's default caps must fit the profile decoder's");

std::string_view live_script_sha1() noexcept {
    static const std::string hex = redis_script_sha1(kLiveScript);
    return hex;
}

std::string live_key(std::string_view vid) {
    return visitor_key(vid, VisitorKeyKind::kLive);
}

std::string live_ev_key(std::string_view vid) {
    return visitor_key(vid, VisitorKeyKind::kEvents);
}

void LiveBatch::reset(const LiveConfig& config) noexcept {
    try {
        config_ = config;
    } catch (...) {
        config_.stream.key.clear();  // out of memory: finish() refuses
    }
    strings_.clear();
    keys_.clear();
    key_index_.clear();
    events_.clear();
    argv_.clear();
    argvlen_.clear();
}

uint32_t LiveBatch::key_for(std::string_view vid) {
    auto it = key_index_.find(std::string(vid));
    if (it != key_index_.end()) {
        return it->second;
    }
    // KEYS is 1-based; the stream (when appended to) is KEYS[1].
    const uint32_t index =
        static_cast<uint32_t>(keys_.size()) + 1 + (config_.append_to_stream ? 1 : 0);
    for (const std::string& k : {live_key(vid), live_ev_key(vid)}) {
        keys_.emplace_back(strings_.size(), k.size());
        strings_.append(k);
    }
    key_index_.emplace(std::string(vid), index);
    return index;
}

bool LiveBatch::add(std::string_view blob) noexcept {
    const auto routing = event_routing(blob);
    if (!routing || !is_valid_vid(routing->vid) ||
        (!routing->previous_vid.empty() && !is_valid_vid(routing->previous_vid))) {
        return false;
    }
    try {
        Pending p;
        p.blob = blob;
        p.key = key_for(routing->vid);
        if (!routing->previous_vid.empty() && routing->type == "Identify" &&
            routing->previous_vid != routing->vid) {
            p.previous = key_for(routing->previous_vid);
        }
        events_.push_back(p);
        return true;
    } catch (...) {
        return false;
    }
}

bool LiveBatch::finish() noexcept {
    if (config_.append_to_stream && config_.stream.key.empty()) {
        return false;
    }
    try {
        argv_.clear();
        argvlen_.clear();
        // Numbers go into the arena after the keys; offsets stay valid as
        // it grows, pointers are taken only at the end.
        std::vector<std::pair<size_t, size_t>> nums;
        auto number = [&](uint64_t v) {
            char buf[24];
            const auto r = std::to_chars(buf, buf + sizeof buf, v);
            nums.emplace_back(strings_.size(), static_cast<size_t>(r.ptr - buf));
            strings_.append(buf, r.ptr);
        };
        const size_t stream_keys = config_.append_to_stream ? 1 : 0;
        number(keys_.size() + stream_keys);
        number(config_.stream.maxlen);
        number(config_.ttl_seconds);
        number(config_.viewed_cap);
        number(config_.cart_cap);
        number(config_.money_scale);
        number(config_.session_gap_seconds);
        for (const Pending& p : events_) {
            number(p.key);
            number(p.previous);
        }

        const size_t argc =
            3 + stream_keys + keys_.size() + kFixedArgs + kArgsPerEvent * events_.size();
        argv_.reserve(argc);
        argvlen_.reserve(argc);
        auto add = [&](std::string_view s) {
            argv_.push_back(s.data());
            argvlen_.push_back(s.size());
        };
        auto arena = [&](std::pair<size_t, size_t> at) {
            add(std::string_view(strings_).substr(at.first, at.second));
        };
        add("EVALSHA");
        add(live_script_sha1());
        arena(nums[0]);
        if (stream_keys != 0) {
            add(config_.stream.key);
        }
        for (const auto& k : keys_) {
            arena(k);
        }
        add("1");
        add(config_.append_to_stream ? "s" : "-");
        for (size_t i = 1; i <= 6; ++i) {
            arena(nums[i]);
        }
        for (size_t i = 0; i < events_.size(); ++i) {
            arena(nums[7 + 2 * i]);
            arena(nums[8 + 2 * i]);
            add(events_[i].blob);
        }
        return true;
    } catch (...) {
        argv_.clear();
        argvlen_.clear();
        return false;
    }
}

void LiveBatch::use_eval() noexcept {
    if (argv_.size() >= 2) {
        argv_[0] = "EVAL";
        argvlen_[0] = 4;
        argv_[1] = kLiveScript.data();
        argvlen_[1] = kLiveScript.size();
    }
}

}  // namespace tailor
