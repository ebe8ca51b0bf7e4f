# A measurement for a design not built: what redis-server would spend per event if nginx
# edited a returning visitor's live map itself (it reads the map on every request) and the
# script only checked that the stored map is the one nginx edited before writing it back
# (compare-and-set), against today's live script, which edits the map in Lua
# (docs/benchmarks.md, "Many visitors").
#
#   python3 bench/http/live_cas_prototype.py PORT BATCHES VISITORS MODE [CALLGRIND_PID]
#
# MODE says how the script knows the map is unchanged:
#   equal  nginx sends the map it read; the script compares it with the stored one (MGET)
#   sha1   nginx sends the SHA-1 of the map it read; the script hashes the stored one
#   rev    nginx sends the map's first 12 bytes, which would hold a revision every writer
#          bumps; the script reads only those (GETRANGE) and the tombstone (EXISTS)
# Each batch: VISITORS events, one per visitor, each with a 231-byte blob (XADDed) and the
# edited map (990 bytes, SET with the TTL). With CALLGRIND_PID (a redis-server under
# callgrind) the counts are zeroed before the batches and dumped after them:
#
#   valgrind --tool=callgrind --callgrind-out-file=/tmp/cas.%p redis-server --port 6390 \
#       --save '' --appendonly no &
#   python3 bench/http/live_cas_prototype.py 6390 30 20 rev $!
#   # Ir per event: the dump's "summary" / (30 * 20)
import hashlib
import os
import random
import sys

from resp import Connection

port, batches, visitors, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if mode not in ("equal", "sha1", "rev"):
    sys.exit("MODE: equal, sha1 or rev")
pid = int(sys.argv[5]) if len(sys.argv) > 5 else 0
redis = Connection(port)


# KEYS: the stream, then per visitor its live key and its tombstone. ARGV: the TTL, then per
# event: live key index, time, type, vid, blob, the check, the edited map.
SCRIPT = r"""
local stream, ttl, mode = KEYS[1], ARGV[1], MODE
local results = {}
for b = 2, #ARGV - 1, 7 do
  local ki, kind, vid, blob, check, new =
    tonumber(ARGV[b]), ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]
  local same, erased
  if mode == 'rev' then
    same = redis.call('GETRANGE', KEYS[ki], 0, 11) == check
    erased = redis.call('EXISTS', KEYS[ki + 1]) == 1
  else
    local got = redis.call('MGET', KEYS[ki], KEYS[ki + 1])
    erased = got[2] ~= false
    if mode == 'sha1' then
      same = got[1] and redis.sha1hex(got[1]) == check
    else
      same = got[1] == check
    end
  end
  if same and not erased then
    redis.call('XADD', stream, '*', 'type', kind, 'vid', vid, 'e', blob)
    redis.call('SET', KEYS[ki], new, 'EX', ttl)
    results[#results + 1] = '1'
  else
    results[#results + 1] = '0'
  end
end
return table.concat(results)
""".replace("MODE", repr(mode))

sha = redis.call("SCRIPT", "LOAD", SCRIPT)
rnd = random.Random(1)
maps = {}
for v in range(visitors):
    maps[v] = bytes(rnd.randrange(256) for _ in range(990))
    redis.call("SET", "tailor:{v%021d}:live" % v, maps[v])
blob = bytes(rnd.randrange(256) for _ in range(231))

if pid:
    os.system("callgrind_control -z %d >/dev/null 2>&1" % pid)
for b in range(batches):
    keys, argv = ["tailor:events"], ["7776000"]
    for v in range(visitors):
        keys += ["tailor:{v%021d}:live" % v, "tailor:{v%021d}:erased" % v]
        old = maps[v]
        # a new revision in the first 12 bytes, and an edit further in
        new = (old[:8] + bytes([rnd.randrange(256)]) * 4 + old[12:100] +
               bytes([rnd.randrange(256)]) * 4 + old[104:])
        check = {"equal": old, "sha1": hashlib.sha1(old).hexdigest().encode(), "rev": old[:12]}[mode]
        argv += [2 * v + 2, 1733212345 + b, "Product Viewed", "v%021d" % v, blob, check, new]
        maps[v] = new
    reply = redis.call("EVALSHA", sha, len(keys), *keys, *argv)
    if reply != b"1" * visitors:
        sys.exit("batch %d: %r" % (b, reply[:80]))
if pid:
    os.system("callgrind_control -d %d >/dev/null 2>&1" % pid)
