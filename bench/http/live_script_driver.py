# Sends batches of the live script to a redis-server (events_script_callgrind):
# argv script_source port events_per_batch batches visitors callgrind_pid
import re, socket, subprocess, sys, time, os
src = open(sys.argv[1]).read()
script = re.search(r'R"lua\((.*?)\)lua"', src, re.S).group(1)
port = int(sys.argv[2]); n = int(sys.argv[3]); batches = int(sys.argv[4]); visitors = int(sys.argv[5])
s = socket.create_connection(("127.0.0.1", port))
def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    buf = b""
    while True:
        buf += s.recv(1 << 20)
        if buf.endswith(b"\r\n") and buf[:1] == b"$" and len(buf) >= buf.index(b"\r\n") + 2 + int(buf[1:buf.index(b"\r")]) + 2:
            return buf
        if buf.endswith(b"\r\n") and buf[:1] not in b"$" and (buf[:1] != b"*" or buf.count(b"\r\n") >= 1 + int(buf[1:buf.index(b"\r")])):
            return buf
sha = cmd("SCRIPT", "LOAD", script).split(b"\r\n")[1].decode()
fmt = re.search(r"ARGV\[1\] ~= '(\d)'", script).group(1)
blob = b"\x83\xa4type\xaeProduct Viewed\xa3ref\xa6direct\xa6device\xa7desktop" + b"x" * 250
seq = 0
def batch(first_vid):
    global seq
    keys = ["tailor:events"]
    vids = ["vis%019d" % (first_vid + i) for i in range(visitors)]
    for v in vids:
        keys += ["tailor:{%s}:live" % v, "tailor:{%s}:ev" % v]
    if fmt == "3":
        keys.append("tailor:events:seq:w")
    args = [fmt, "s", 100000, 7776000, 20, 50, 1800]
    for i in range(n):
        seq += 1
        ki = 2 + 2 * (i % visitors)
        args += [ki, 0, blob, "Product Viewed", 1733212345, "w", seq, "SKU-1", "", 1999, 1]
    return ["EVALSHA", sha, len(keys)] + keys + args
r = cmd(*batch(0))
assert r[:1] in b"*$", r
subprocess.run(["callgrind_control", "-z", sys.argv[6]], capture_output=True)
for b in range(batches):
    r = cmd(*batch((b + 1) * visitors if visitors > 1 else 0))
    assert r[:1] in b"*$", r[:200]
subprocess.run(["callgrind_control", "-d", "x", sys.argv[6]], capture_output=True)
