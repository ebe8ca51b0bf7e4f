# The many-visitors shape of the benchmarks (bench/http/run's visitors rows,
# bench/http/events_callgrind VISITORS > 1): N visitors, each with the profile in
# PROFILE_BIN (MessagePack, as `tailorctl profile encode` writes it) under its own id in the
# redis-server at PORT, and a wrk script that takes them in turn, each request a product of
# 47, so each event is another visitor's, as on a shop.
#
#   python3 bench/http/visitors.py TAILORCTL KEYS_FILE PROFILE_BIN PORT N OUT.lua USER_AGENT
#
# Visitor i is "benchvisitor%010d" % i; the last one's cookie is the last entry of the
# script's table (the benchmarks check its page is personalized).
import subprocess
import sys

from resp import Connection

tailorctl, keys, profile_bin, port, n, out, ua = sys.argv[1:8]
port, n = int(port), int(n)
profile = open(profile_bin, "rb").read()
vids = ["benchvisitor%010d" % i for i in range(n)]

redis = Connection(port)
for at in range(0, n, 500):
    redis.pipeline([("SET", "tailor:{%s}:profile" % v, profile) for v in vids[at:at + 500]])

cookies = [subprocess.run([tailorctl, "sign", "--key-file", keys, v], check=True,
                          capture_output=True, text=True).stdout.strip() for v in vids]
with open(out, "w") as f:
    f.write("local cookies = {\n")
    f.writelines('"tailor_vid=%s",\n' % c for c in cookies)
    f.write("}\n")
    f.write('wrk.headers["User-Agent"] = "%s"\n' % ua)
    f.write("""local n = 0
function setup(thread) n = n + 1; thread:set("first", n * 7919) end
local i, product
function init() i = first % #cookies; product = first % 47 end
function request()
    i = i % #cookies + 1
    product = product % 47 + 1
    wrk.headers["Cookie"] = cookies[i]
    return wrk.format(nil, "/product.html?sku=SKU-" .. product .. "&price=19.99")
end
""")
