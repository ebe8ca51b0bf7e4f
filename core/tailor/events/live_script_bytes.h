// EventLive: the part of the live script (kLiveScript, live_script.cpp) that says what one
// event does to a visitor's stored live map: first in the map's bytes where it can (last_seen
// patched, a product view spliced into viewed) and the layout that allows it (encode_live);
// then on the decoded map (apply, merge on Identify, full). live_script.cpp joins it, at compile
// time, between its two parts; bench/http/live_script_driver.py reads it by this name.
#pragma once

namespace tailor::live_detail {

inline constexpr char kLiveScriptBytes[] = R"lua(
-- The stored map in bytes. Decoding and re-encoding a map with a full
-- viewed list cost ~330k instructions (cmsgpack both ways and collecting the
-- tables), nearly all of a returning visitor's product view, so the common
-- events edit the stored bytes instead: an event without a product in the
-- same visit patches last_seen, a product view splices its entry into
-- viewed. The full path writes a map it can edit that way (encode_live):
--   map16 header (cmsgpack never writes one for 15 keys or fewer), "rev" (a
--   uint32, 0xce: bytes 1 to 12 of the map are the header and the revision),
--   "viewed", each entry as entry_bytes() writes it (sku first; no string holds
--   "\163sku"), then "v" = 1, then the other keys as cmsgpack packs them.
-- Every write of a map moves "rev" on by one (encode_live, and rev_moved() for
-- the byte edits): nginx's edits are taken when the stored map's first 12
-- bytes are still those it read (live_script.cpp).
-- Anything else (an older map, a string that would not do) takes the full
-- path, which decodes the map, as before.
-- (each piece one string: Lua interns every string it makes, ~1-2k instructions each)
local function uint(x)
  if type(x) ~= 'number' or x < 0 or x >= 4294967296 or x ~= floor(x) then return nil end
  if x < 128 then return char(x) end
  if x < 256 then return char(204, x) end
  if x < 65536 then return char(205, floor(x / 256), x % 256) end
  return char(206, floor(x / 16777216), floor(x / 65536) % 256, floor(x / 256) % 256, x % 256)
end
-- a string's header; nil for one that would not do
local function str_head(s)
  local n = #s
  if find(s, '\163sku', 1, true) then return nil end  -- it would read as an entry's start
  if n < 32 then return char(160 + n) end
  if n < 256 then return char(217, n) end
  if n < 65536 then return char(218, floor(n / 256), n % 256) end
  return nil
end
-- A viewed entry {sku, category, at, price} (category and price optional), in that order;
-- and the sku's header.
local function entry_bytes(sku, category, at, price)
  local s, a = type(sku) == 'string' and str_head(sku), uint(at)
  if not s or not a then return nil end
  local n, c, p = 2, '', ''
  if category ~= nil then
    local h = type(category) == 'string' and str_head(category)
    if not h then return nil end
    n, c = 3, '\168category' .. h .. category
  end
  if price ~= nil then
    p = uint(price)
    if not p then return nil end
    n, p = n + 1, '\165price' .. p
  end
  return char(128 + n, 163) .. 'sku' .. s .. sku .. c .. '\162at' .. a .. p, s
end
local function be32(x)
  return char(floor(x / 16777216) % 256, floor(x / 65536) % 256, floor(x / 256) % 256, x % 256)
end
-- The map with its revision moved on (a map without one at its start: as it is).
local function rev_moved(raw)
  if sub(raw, 4, 8) ~= '\163rev\206' then return raw end
  local b1, b2, b3, b4 = byte(raw, 9, 12)
  return sub(raw, 1, 8) .. be32(((((b1 * 256 + b2) * 256) + b3) * 256 + b4 + 1) % 4294967296) ..
         sub(raw, 13)
end
local function array_header(n)
  if n < 16 then return char(144 + n) end
  return '\220' .. char(floor(n / 256), n % 256)
end
local function encode_viewed(list)
  local n = #list
  if n >= 65536 or next(list, n > 0 and n or nil) ~= nil then return nil end
  local parts = {array_header(n)}
  for j = 1, n do
    local e = list[j]
    if type(e) ~= 'table' then return nil end
    local keys = 0
    for _ in pairs(e) do keys = keys + 1 end
    local s = entry_bytes(e.sku, e.category, e.at, e.price)
    if not s or byte(s, 1) - 128 ~= keys then return nil end
    parts[j + 1] = s
  end
  return table.concat(parts)
end
-- A visitor's first map is plain cmsgpack: most never come back, and the
-- layout costs ~25k instructions to write (Lua strings); the second write
-- (a later batch's full path) lays it out.
local function encode_live(l, again)
  -- a map's first revision is its time, not 1: a map written again after an erase (and its
  -- tombstone's end) does not take up the revisions of the one before
  local rev = ((num(l.rev) or num(l.last_seen) or 0) + 1) % 4294967296
  local viewed = l.viewed
  l.rev = rev
  local items = again and l.v == 1 and type(viewed) == 'table' and encode_viewed(viewed)
  if items and rev == floor(rev) then
    l.viewed, l.v, l.rev = nil, nil, nil
    local rest = cmsgpack.pack(l)
    l.viewed, l.v, l.rev = viewed, 1, rev
    local h = byte(rest, 1)
    if h >= 129 and h <= 140 then
      return '\222\0' .. char(h - 125) .. '\163rev\206' .. be32(rev) .. '\166viewed' .. items ..
             '\161v\001' .. sub(rest, 2)
    end
  end
  return cmsgpack.pack(l)
end

-- A version 1 map holds "v" = 1 and "last_seen" as a uint32 (0xce,
-- big-endian) until 2106; a "last_seen" string followed by 0xce found once
-- can only be that key (a value is followed by a key or a container header,
-- never 0xce). The stored map is read once per visitor and batch; later
-- events compare with what it said. touched() is true when the event is in
-- the same visit and the map complete, and moves last_seen (patched at the
-- end); anything else: false, and the caller takes the full path.
local function uint32_at(raw, key)
  local at = find(raw, key, 1, true)
  if not at or find(raw, key, at + 1, true) or #raw < at + #key + 3 then return nil end
  local b1, b2, b3, b4 = byte(raw, at + #key, at + #key + 3)
  return ((b1 * 256 + b2) * 256 + b3) * 256 + b4, at + #key
end
local function touched(v, t)
  if v.l ~= nil or t > 4294967295 or t < 0 then return false end
  if v.last_at == nil then
    local raw = v.raw
    if not raw or not find(raw, '\161v\001', 1, true) then return false end
    local acq = find(raw, '\171acquisition', 1, true)
    local header = acq and byte(raw, acq + 12)
    if not header or header < 128 or header > 143 then return false end
    local first = uint32_at(raw, '\170first_seen\206')
    local last, at = uint32_at(raw, '\169last_seen\206')
    if not first or first == 0 or not last then return false end
    v.first, v.last, v.last_at = first, last, at
  end
  if t < v.first or t - v.last > gap then return false end
  if t > v.last then
    v.last = t
    v.patched = true
  end
  return true
end

-- Where viewed_fast() notes the entries' starts: one table for the batch, as a table grown
-- one entry at a time is rehashed at every power of two (~1k instructions each).
local entry_starts = {}

-- Product Viewed on the stored bytes (after touched()): its entry first,
-- the same sku's out, the list capped; true when done (or nothing to do).
-- Entries start at each "\163sku" preceded by a map header: no string holds
-- one, so only an integer's bytes could fake one, which makes one too many;
-- the list ends at "v", found once in the whole map.
local function viewed_fast(v, t, sku, category, price)
  local raw = v.raw
  local b1, b2, b3, b4 = byte(raw, 1, 4)
  if viewed_cap < 1 or b1 ~= 222 or b2 ~= 0 or not b4 or b3 > 15 or b4 ~= 163 or
     sub(raw, 5, 8) ~= 'rev\206' or sub(raw, 13, 19) ~= '\166viewed' then
    return false
  end
  local e, head = entry_bytes(sku, category, t, price)
  local n, p = byte(raw, 20), 21
  if not e or not n then return false end
  if n >= 144 and n < 160 then
    n = n - 144
  elseif n == 220 then
    local hi, lo = byte(raw, 21, 22)
    if not lo then return false end
    n, p = hi * 256 + lo, 23
  else
    return false
  end
  local E = find(raw, '\161v\001', p, true)
  if not E or find(raw, '\161v\001', E + 1, true) or v.last_at < E then return false end
  if n == 0 or find(raw, e, p, true) ~= p then  -- not already first
    -- the entries' starts, in the batch's scratch table (at[1..k], the rest stale)
    local at, k, q = entry_starts, 0, p
    while true do
      q = find(raw, '\163sku', q, true)
      if not q or q >= E then break end
      local h = byte(raw, q - 1)
      if h >= 130 and h <= 132 then
        k = k + 1
        at[k] = q - 1
      end
      q = q + 4
    end
    if k ~= n or (n > 0 and at[1] ~= p) then return false end
    at[n + 1] = E
    -- the entries of this sku: its pattern where an entry starts (both in order)
    local match, j = nil, 1
    local pat = '\163sku' .. head .. sku
    q = find(raw, pat, p, true)
    while q and q < E do
      while j <= n and at[j] + 1 < q do j = j + 1 end
      if j <= n and at[j] + 1 == q then
        if match then return false end  -- twice: the full path takes them all out
        match = j
      end
      q = find(raw, pat, q + 1, true)
    end
    -- the new bytes in one concatenation, with last_seen patched when it moved
    local keep = math.min(n - (match and 1 or 0), viewed_cap - 1)
    local k1, k2 = nil, ''
    if not match or keep < match then
      k1 = sub(raw, p, at[keep + 1] - 1)
    else
      k1, k2 = sub(raw, p, at[match] - 1), sub(raw, at[match + 1], at[keep + 2] - 1)
    end
    local la, s1, s2, s3 = v.last_at, nil, '', ''
    if v.patched then
      local x = v.last
      s1, s2, s3 = sub(raw, E, la - 1), be32(x), sub(raw, la + 4)
      v.patched = false
    else
      s1 = sub(raw, E)
    end
    local out = sub(raw, 1, 19) .. array_header(keep + 1) .. e .. k1 .. k2 .. s1 .. s2 .. s3
    v.last_at = la + #out - #raw
    v.raw, v.spliced = out, true
  end
  return true
end

local function list(l, name)
  if type(l[name]) ~= 'table' then l[name] = {} end
  return l[name]
end
local function trim(t, cap)
  while #t > cap do table.remove(t) end
end

-- An order's product ids: props.products[] lines and the flat props, each
-- under the first spelling present (product_id, ProductID, sku), as
-- LiveFacts picks a product event's. Orders are rare, so unpacking the blob
-- here costs nothing that matters and keeps the argument format as it is.
local function order_skus(blob)
  local out, seen = {}, {}
  local ok, e = pcall(cmsgpack.unpack, blob)
  if not ok or type(e) ~= 'table' or type(e.props) ~= 'table' then return out end
  local function add(x)
    if type(x) ~= 'table' or #out >= PURCHASED_CAP then return end
    local s = str(x.product_id) or str(x.ProductID) or str(x.sku)
    if s and #s <= 256 and not seen[s] then
      seen[s] = true
      out[#out + 1] = s
    end
  end
  add(e.props)
  if type(e.props.products) == 'table' then
    for _, line in ipairs(e.props.products) do add(line) end
  end
  return out
end

-- Applies one event; true when the live map changed.
local function apply(l, kind, t, blob, sku, category, price, qty)
  -- A newer major written by a newer module: leave it alone.
  if num(l.v) and l.v > 1 then return false end
  local changed = l.v ~= 1
  l.v = 1
  local last = num(l.last_seen)
  if not last or t - last > gap then
    l.visits = (num(l.visits) or 0) + 1
    changed = true
  end
  if not last or t > last then
    l.last_seen = t
    changed = true
  end
  local first = num(l.first_seen)
  if not first or first == 0 or t < first then
    l.first_seen = t
    changed = true
  end
  if type(l.acquisition) ~= 'table' then
    local ok, e = pcall(cmsgpack.unpack, blob)
    if not ok or type(e) ~= 'table' then e = {} end
    l.acquisition = {
      source = str(e.utm_source) or str(e.ref_host) or e.ref,
      medium = str(e.utm_medium),
      campaign = str(e.utm_campaign),
      referrer = str(e.ref_host),
      at = t,
    }
    changed = true
  end
  if kind == 'Order Completed' then
    l.cart = {}
    l.cart_at = t
    if not num(l.last_order_at) or t > l.last_order_at then l.last_order_at = t end
    local skus = order_skus(blob)
    if #skus > 0 then
      local purchased = list(l, 'purchased')
      for _, s in ipairs(skus) do
        for j = #purchased, 1, -1 do
          if type(purchased[j]) ~= 'table' or purchased[j].sku == s then table.remove(purchased, j) end
        end
        table.insert(purchased, 1, {sku = s, at = t})
      end
      trim(purchased, PURCHASED_CAP)
    end
    return true
  end
  if not sku then return changed end
  if kind == 'Product Viewed' then
    local viewed = list(l, 'viewed')
    local top = viewed[1]
    -- the same product seen again in the same second: nothing to write
    if type(top) == 'table' and top.sku == sku and top.at == t and top.category == category
       and top.price == price then
      return changed
    end
    for j = #viewed, 1, -1 do
      if type(viewed[j]) ~= 'table' or viewed[j].sku == sku then table.remove(viewed, j) end
    end
    table.insert(viewed, 1, {sku = sku, category = category, at = t, price = price})
    trim(viewed, viewed_cap)
    return true
  elseif kind == 'Product Added' then
    local cart = list(l, 'cart')
    local line = nil
    for j = 1, #cart do
      if type(cart[j]) == 'table' and cart[j].sku == sku then line = cart[j] end
    end
    if line then
      line.qty = math.min((num(line.qty) or 1) + qty, 1000000)
      line.price = price or line.price
    else
      table.insert(cart, 1, {sku = sku, qty = qty, added_at = t, price = price})
      trim(cart, cart_cap)
    end
    l.cart_at = t
    return true
  elseif kind == 'Product Removed' then
    local cart = list(l, 'cart')
    for j = #cart, 1, -1 do
      if type(cart[j]) == 'table' and cart[j].sku == sku then
        local left = (num(cart[j].qty) or 1) - qty
        if left < 1 then table.remove(cart, j) else cart[j].qty = left end
      end
    end
    l.cart_at = t
    return true
  end
  return changed
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
  local bought, skus = {}, {}
  for _, src in ipairs({list(into, 'purchased'), list(from, 'purchased')}) do
    for _, item in ipairs(src) do
      if type(item) == 'table' and str(item.sku) then
        local old = bought[item.sku]
        if not old then skus[#skus + 1] = item.sku end
        if not old or (num(item.at) or 0) > (num(old.at) or 0) then bought[item.sku] = item end
      end
    end
  end
  local purchased = {}
  for _, sku in ipairs(skus) do purchased[#purchased + 1] = bought[sku] end
  table.sort(purchased, function(a, b) return (num(a.at) or 0) > (num(b.at) or 0) end)
  trim(purchased, PURCHASED_CAP)
  if #purchased > 0 then into.purchased = purchased else into.purchased = nil end
  if (num(from.last_order_at) or 0) > (num(into.last_order_at) or 0) then
    into.last_order_at = from.last_order_at
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


-- Any event that cannot edit the stored bytes: decode the map and apply it.
local function full(v, kind, t, blob, sku, category, price, qty, pi)
  v.top_sku = nil  -- the bytes are not what the map will be
  local l = live(v)
  if apply(l, kind, t, blob, sku, category, price, qty) then v.dirty = true end
  if kind == 'Identify' and pi and pi > 0 and pi ~= v.ki and KEYS[pi] and KEYS[pi + 1] then
    local p = visitor(pi)
    if not p.erased then
      merge(l, live(p))
      v.dirty = true
      p.set['merged_into'] = v.vid
      v.set['merged:' .. p.vid] = '1'  -- the link both ways, for erase
    end
  end
end
)lua";

}  // namespace tailor::live_detail
