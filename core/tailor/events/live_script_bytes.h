// EventLive: the part of the live script (kLiveScript, live_script.cpp) that edits a stored
// live map in its bytes (last_seen patched, a product view spliced into viewed) and writes the
// map in the layout that allows it. live_script.cpp joins it, at compile time, between its
// two parts.
#pragma once

namespace tailor::live_detail {

inline constexpr char kLiveScriptBytes[] = R"lua(
-- The stored map in bytes. Decoding and re-encoding a map with a full
-- viewed list cost ~330k instructions (cmsgpack both ways and collecting the
-- tables), nearly all of a returning visitor's product view, so the common
-- events edit the stored bytes instead: an event without a product in the
-- same visit patches last_seen, a product view splices its entry into
-- viewed. The full path writes a map it can edit that way (encode_live):
--   map16 header (cmsgpack never writes one for 15 keys or fewer), "viewed"
--   first, each entry as entry_bytes() writes it (sku first; no string holds
--   "\163sku"), then "v" = 1, then the other keys as cmsgpack packs them.
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
  local viewed = l.viewed
  local items = again and l.v == 1 and type(viewed) == 'table' and encode_viewed(viewed)
  if items then
    l.viewed, l.v = nil, nil
    local rest = cmsgpack.pack(l)
    l.viewed, l.v = viewed, 1
    local h = byte(rest, 1)
    if h >= 129 and h <= 141 then
      return '\222\0' .. char(h - 126) .. '\166viewed' .. items .. '\161v\001' .. sub(rest, 2)
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

-- Product Viewed on the stored bytes (after touched()): its entry first,
-- the same sku's out, the list capped; true when done (or nothing to do).
-- Entries start at each "\163sku" preceded by a map header: no string holds
-- one, so only an integer's bytes could fake one, which makes one too many;
-- the list ends at "v", found once in the whole map.
local function viewed_fast(v, t, sku, category, price)
  local raw = v.raw
  local b1, b2, b3, b4 = byte(raw, 1, 4)
  if viewed_cap < 1 or b1 ~= 222 or b2 ~= 0 or not b4 or b3 > 15 or b4 ~= 166 or
     find(raw, 'viewed', 5, true) ~= 5 then
    return false
  end
  local e, head = entry_bytes(sku, category, t, price)
  local n, p = byte(raw, 11), 12
  if not e or not n then return false end
  if n >= 144 and n < 160 then
    n = n - 144
  elseif n == 220 then
    local hi, lo = byte(raw, 12, 13)
    if not lo then return false end
    n, p = hi * 256 + lo, 14
  else
    return false
  end
  local E = find(raw, '\161v\001', p, true)
  if not E or find(raw, '\161v\001', E + 1, true) or v.last_at < E then return false end
  if n == 0 or find(raw, e, p, true) ~= p then  -- not already first
    local at, index, q = {}, {}, p
    while true do
      q = find(raw, '\163sku', q, true)
      if not q or q >= E then break end
      local h = byte(raw, q - 1)
      if h >= 130 and h <= 132 then
        at[#at + 1] = q - 1
        index[q] = #at
      end
      q = q + 4
    end
    if #at ~= n or (n > 0 and at[1] ~= p) then return false end
    at[n + 1] = E
    local match = nil
    local pat = '\163sku' .. head .. sku
    q = find(raw, pat, p, true)
    while q and q < E do
      if index[q] then
        if match then return false end  -- twice: the full path takes them all out
        match = index[q]
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
      s1, s2, s3 = sub(raw, E, la - 1), char(floor(x / 16777216) % 256, floor(x / 65536) % 256,
                                             floor(x / 256) % 256, x % 256), sub(raw, la + 4)
      v.patched = false
    else
      s1 = sub(raw, E)
    end
    local out = sub(raw, 1, 10) .. array_header(keep + 1) .. e .. k1 .. k2 .. s1 .. s2 .. s3
    v.last_at = la + #out - #raw
    v.raw, v.spliced = out, true
  end
  return true
end
)lua";

}  // namespace tailor::live_detail
