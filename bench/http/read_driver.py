# Sends visitor reads to a redis-server for read_callgrind, in one of three shapes:
#   argv port callgrind_pid shape reads
# shape "module": what the module sends (core/tailor/store/visitor_read.h: the tombstone's
# EXISTS, then a GETRANGE 0 <max> per value); "mget": one MGET of the four keys (no bound
# on what comes back); "script": the module's four commands inside one EVALSHA.
# The values are the sizes bench/http/run's known visitor has (profile 2,430 bytes, live
# 990, caps 120); reads go 20 to a pipeline, as a worker under load sends them.
import subprocess, sys

from resp import Connection

port, pid, shape, reads = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
redis = Connection(port)
pipeline = redis.pipeline


vid = "q3Zf0x8W2mYbT1kL9cVn_A"
keys = ["tailor:{%s}:%s" % (vid, k) for k in ("erased", "profile", "live", "caps")]
pipeline([("SET", keys[1], b"p" * 2430), ("SET", keys[2], b"l" * 990), ("SET", keys[3], b"c" * 120)])
MAX = 256 * 1024  # tailor_max_profile's default; GETRANGE 0 MAX sends at most MAX + 1 bytes
sha = pipeline([("SCRIPT", "LOAD",
                 "return {redis.call('EXISTS', KEYS[1]), redis.call('GETRANGE', KEYS[2], 0, ARGV[1]),"
                 " redis.call('GETRANGE', KEYS[3], 0, ARGV[1]),"
                 " redis.call('GETRANGE', KEYS[4], 0, ARGV[1])}")])[0]
read = {"module": [("EXISTS", keys[0])] + [("GETRANGE", k, 0, MAX) for k in keys[1:]],
        "mget": [("MGET",) + tuple(keys)],
        "script": [("EVALSHA", sha, 4) + tuple(keys) + (MAX,)]}[shape]
PER = 20
for _ in range(5):
    pipeline(read * PER)
subprocess.run(["callgrind_control", "-z", pid], capture_output=True)
for _ in range(reads // PER):
    pipeline(read * PER)
subprocess.run(["callgrind_control", "-d", "x", pid], capture_output=True)
