// StreamAppend: the shard script Redis runs (kStreamScript) and its SHA-1 (model:
// stream_append.h).
#include "tailor/events/stream_append.h"
#include "tailor/store/script.h"

namespace tailor {

const std::string_view kStreamScript =
    R"lua(-- tailor stream v1: append events to one stream shard, each (producer, seq) once
if ARGV[1] ~= '1' then
  return redis.error_reply('ERR tailor stream: unsupported argument format')
end
local stream = KEYS[1]
local maxlen = tonumber(ARGV[2]) or 0
local ttl = tonumber(ARGV[3]) or 7776000
local FIXED, PER = 3, 5
local marks = {}
local results = {}
local appended = false
local n = math.floor((#ARGV - FIXED) / PER)
for i = 1, n do
  local b = FIXED + (i - 1) * PER
  local ki = tonumber(ARGV[b + 1]) or 0
  local seq = tonumber(ARGV[b + 2])
  local fresh = true
  if ki > 1 and KEYS[ki] and seq then
    local m = marks[ki]
    if m == nil then
      local raw = redis.pcall('GET', KEYS[ki])
      m = {seq = tonumber(type(raw) == 'string' and raw or '') or -1}
      marks[ki] = m
    end
    if seq <= m.seq then
      fresh = false
    else
      m.seq = seq
      m.last = ARGV[b + 2]
    end
  end
  if fresh then
    redis.call('XADD', stream, '*', 'type', ARGV[b + 3], 'vid', ARGV[b + 4], 'e', ARGV[b + 5])
    appended = true
    results[i] = '1'
  else
    results[i] = '0'
  end
end
if appended and maxlen > 0 then
  redis.call('XTRIM', stream, 'MAXLEN', '~', ARGV[2])
end
for ki, m in pairs(marks) do
  if m.last then
    redis.call('SET', KEYS[ki], m.last, 'EX', ttl)
  end
end
return table.concat(results)
)lua";

std::string_view stream_script_sha1() noexcept {
    static const std::string hex = redis_script_sha1(kStreamScript);
    return hex;
}

}  // namespace tailor
