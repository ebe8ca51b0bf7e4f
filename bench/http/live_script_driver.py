# Sends batches of the live script to a redis-server (events_script_callgrind):
#   argv script_source port events_per_batch batches visitors callgrind_pid [shape]
# shape "new" (default): one known visitor for all batches, or `visitors` new ones per batch;
# shape "returning": `visitors` visitors whose live map already holds a full viewed list
# (seeded before counting), each viewing a product not at the top, a second later per batch
# (every other batch one from the list, else a new one, which pushes the oldest out).
# The argument layout follows the script's format (ARGV[1]): 3 (main until 2026-12-04), 4, 5
# or 6 (sent here without nginx's edits: the script's own edit of each map is what it measures).
import os, re, subprocess, sys, struct

from resp import Connection


def lua_of(path):
    """kLiveScript's text: the source's raw literal, or (since the byte-level part moved out)
    its first literal, live_script_bytes.h's beside it, then its second."""
    lits = re.findall(r'R"lua\((.*?)\)lua"', open(path).read(), re.S)
    side = os.path.join(os.path.dirname(os.path.abspath(path)), "live_script_bytes.h")
    if len(lits) == 1:
        return lits[0]
    if not os.path.exists(side):
        sys.exit("%s: its live_script_bytes.h is not beside it" % path)
    return lits[0] + re.search(r'R"lua\((.*?)\)lua"', open(side).read(), re.S).group(1) + lits[1]


script = lua_of(sys.argv[1])
port = int(sys.argv[2]); n = int(sys.argv[3]); batches = int(sys.argv[4]); visitors = int(sys.argv[5])
shape = sys.argv[7] if len(sys.argv) > 7 else "new"
redis = Connection(port)


def pack(x):
    """MessagePack, as the module's encoder writes an event (maps in the order given)."""
    if isinstance(x, dict):
        return bytes([0x80 | len(x)]) + b"".join(pack(k) + pack(v) for k, v in x.items())
    if isinstance(x, str):
        b = x.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(x, float):
        return b"\xcb" + struct.pack(">d", x)
    if x < 128:
        return bytes([x])
    return (b"\xce" + struct.pack(">I", x)) if x < 1 << 32 else b"\xcf" + struct.pack(">Q", x)


sha = redis.call("SCRIPT", "LOAD", script).decode()
fmt = re.search(r"ARGV\[1\] ~= '(\d)'", script).group(1)
T0 = 1733212345
seq = 0


def event(vid, sku, t, category="Shirts", price=1999):
    global seq
    seq += 1
    blob = pack({"v": 1, "id": "0193a1b2-c3d4-7e5f-8a9b-%012d" % seq, "type": "Product Viewed",
                 "vid": vid, "ts": t * 1000 + 123, "path": "/products/%s" % sku.lower(),
                 "ref": "direct", "device": "desktop", "src": "w0-4242", "seq": seq,
                 "props": {"product_id": sku, "price": price / 100.0, "category": category}})
    return {"vid": vid, "blob": blob, "t": t, "seq": seq, "sku": sku, "category": category,
            "price": price}


def command(events, vids):
    keys = ["tailor:events"]
    index = {}
    for v in vids:
        index[v] = len(keys) + 1
        keys += ["tailor:{%s}:live" % v, "tailor:{%s}:ev" % v]
    keys.append("tailor:events:seq:w0-4242")
    args = [fmt, "s", 100000, 7776000, 20, 50, 1800]
    if fmt == "3":
        for e in events:
            args += [index[e["vid"]], 0, e["blob"], "Product Viewed", e["t"], "w0-4242", e["seq"],
                     e["sku"], e["category"], e["price"], 1]
    else:
        seqs = " ".join("%d %d" % (i + 1, e["seq"]) for i, e in enumerate(events))
        args += [1, "w0-4242", events[0]["seq"], events[-1]["seq"], seqs]
        if fmt >= "6":
            args.append(0)  # no edits
        before = None
        for e in events:
            facts = [index[e["vid"]], e["t"], "Product Viewed"]
            extra = [e["sku"], e["category"], e["price"]]
            if fmt >= "5" and (facts, extra) == before:
                args += ["=", e["blob"]]  # a run: the facts of the event before it
            else:
                args += facts + [e["blob"]] + extra
            before = (facts, extra)
    return ["EVALSHA", sha, len(keys)] + keys + args


def send(events):
    vids = list(dict.fromkeys(e["vid"] for e in events))
    r = redis.call(*command(events, vids))
    assert isinstance(r, bytes) and b"-" not in r, r[:200]


vid = lambda i: "vis%019d" % i
if shape == "returning":
    lists = {}
    for k in range(visitors):
        lists[vid(k)] = ["SKU-%d" % j for j in range(19, -1, -1)]  # newest first
        send([event(vid(k), "SKU-%d" % j, T0 - 100 + j) for j in range(20)])
    fresh = 1000

    def batch(b):
        global fresh
        out = []
        for i in range(n):
            v = vid(i % visitors)
            if b % 2 == 0:
                sku = lists[v][10]
                lists[v].remove(sku)
            else:
                sku = "SKU-%d" % fresh
                fresh += 1
                lists[v].pop()
            lists[v].insert(0, sku)
            out.append(event(v, sku, T0 + b))
        return out
else:
    def batch(b):
        first = b * visitors if visitors > 1 else 0
        return [event(vid(first + i % visitors), "SKU-1", T0) for i in range(n)]

if shape != "returning" and visitors == 1:
    # one known visitor: seen a second before (its map written twice, as a second later would)
    send([event(vid(0), "SKU-1", T0 - 1)])
send(batch(0))
subprocess.run(["callgrind_control", "-z", sys.argv[6]], capture_output=True)
for b in range(batches):
    send(batch(b + 1))
subprocess.run(["callgrind_control", "-d", "x", sys.argv[6]], capture_output=True)
