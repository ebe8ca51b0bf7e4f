# Sourced by proxy_callgrind and static_callgrind: one nginx (master_process off) under
# callgrind serves the same page from a plain server and a Tailor server; these measure the
# instructions it runs per request on each.
#
# The caller sets: prefix (callgrind files in $prefix/cg), nginx_pid, seconds, conns, and
# wrk_headers (an array of wrk -H arguments).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ir PID LABEL: dumps callgrind's counts under LABEL and prints the instructions since the
# last zeroing.
ir() {
    callgrind_control -d "$2" "$1" >/dev/null 2>&1
    sleep 0.5
    local f
    f=$(ls -t "$prefix"/cg/*."$1".* 2>/dev/null | head -1)
    awk '/^summary:/ {print $2}' "$f"
}

# run LABEL URL: "LABEL requests nginx-Ir/req" for one wrk run against URL.
run() {
    callgrind_control -z "$nginx_pid" >/dev/null 2>&1
    local out reqs n
    out=$(wrk -t1 -c"$conns" -d"${seconds}s" "${wrk_headers[@]}" "$2")
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    n=$(ir "$nginx_pid" "$1")
    awk -v l="$1" -v q="$reqs" -v n="$n" 'BEGIN { printf "%-7s %7d %12.0f\n", l, q, n / q }'
}

# compare_pair PLAIN_URL TAILOR_URL: both runs, then what Tailor adds.
compare_pair() {
    printf '%-7s %7s %12s\n' run reqs nginx-Ir/req
    local a b
    a=$(run plain "$1"); echo "$a"
    b=$(run tailor "$2"); echo "$b"
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y)
        printf "Tailor adds %+.0f Ir/req (%+.1f%%)\n", y[3] - x[3], 100 * (y[3] - x[3]) / x[3] }'
}
