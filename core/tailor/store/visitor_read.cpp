#include "tailor/store/visitor_read.h"

#include "tailor/store/script.h"

namespace tailor {

// STRLEN answers 0 for a missing key and an error for another type (neither is oversize).
// The common case, nothing oversize, is the MGET it replaces; otherwise each value that fits
// is read alone (GET's error on another type becomes nil, as MGET answers).
const std::string_view kVisitorReadScript = R"lua(
local max, out, over = tonumber(ARGV[1]), {}, false
-- erased (tailorctl profile erase): its tombstone sits beside KEYS[1], tailor:{<vid>}:profile
if redis.call('EXISTS', string.sub(KEYS[1], 1, -8) .. 'erased') == 1 then
  return {false, false, false}
end
for i = 1, #KEYS do
  local n = redis.pcall('STRLEN', KEYS[i])
  if type(n) == 'number' and n > max then
    out[i], over = n, true
  else
    out[i] = false
  end
end
if not over then
  return redis.call('MGET', unpack(KEYS))
end
for i = 1, #KEYS do
  if not out[i] then
    local v = redis.pcall('GET', KEYS[i])
    if type(v) == 'string' then out[i] = v end
  end
end
return out
)lua";

std::string_view visitor_read_sha1() noexcept {
    static const std::string hex = redis_script_sha1(kVisitorReadScript);
    return hex;
}

VisitorRead::VisitorRead(std::string_view vid, size_t max_bytes) : max_(std::to_string(max_bytes)) {
    for (size_t i = 0; i < keys_.size(); i++) {
        keys_[i] = visitor_key(vid, kVisitorReadKinds[i]);
    }
    std::string_view sha = visitor_read_sha1();
    argv_[0] = "EVALSHA";
    argvlen_[0] = 7;
    argv_[1] = sha.data();
    argvlen_[1] = sha.size();
    argv_[2] = "3";
    argvlen_[2] = 1;
    for (size_t i = 0; i < keys_.size(); i++) {
        argv_[3 + i] = keys_[i].data();
        argvlen_[3 + i] = keys_[i].size();
    }
    argv_[6] = max_.data();
    argvlen_[6] = max_.size();
}

void VisitorRead::use_eval() noexcept {
    use_eval_source(argv_.data(), argvlen_.data(), argv_.size(), kVisitorReadScript);
}

}  // namespace tailor
