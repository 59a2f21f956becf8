#!/bin/sh
# HTTP ingest throughput of 25-feature NDJSON records (bench/gen_data.py's
# current data), driven by wrk on loopback:
#  a. sampled path: validate "sampled", window.seconds 60, window.sample
#     10000, ~1 MiB batches (target >= 1,000,000 records/s);
#  b. every record kept (window.records = window.sample = 10000), full
#     validation, against a bare cJSON parse loop over the same records
#     timed in this run (target: within 1.5x);
#  c. single-record posts (target >= 20,000 requests/s).
# usage: bench/ingest.sh [seconds per case, default 10]
secs=${1:-10}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
# NDJSON of the current data; one ~1 MiB batch of whole lines; one record
"$PYTHON" bench/cur_ndjson.py "$T/all.ndjson" 20000
awk -v max=1048576 '{ size += length($0) + 1; if (size > max) exit; print }' "$T/all.ndjson" >"$T/batch.ndjson"
head -n 1 "$T/all.ndjson" >"$T/one.ndjson"
lua() { # file -> wrk script posting it
    cat <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-ndjson"
local f = io.open("$1", "rb")
wrk.body = f:read("*a")
f:close()
LUA
}
lua "$T/batch.ndjson" >"$T/batch.lua"
lua "$T/one.ndjson" >"$T/one.lua"
per_batch=$(wc -l <"$T/batch.ndjson")

run() { # name window-json validate wrk-script connections
    rm -rf "$T/state"
    cat >"$T/c.json" <<J
{"model": "bench", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http", "validate": "$3"}], "window": $2}
J
    "$B/agent/driftd" run --config "$T/c.json" 2>"$T/$1.log" &
    dpid=$!
    while [ ! -s "$T/state/listen" ]; do sleep 0.05; done
    wrk -t1 -c"$5" -d"${secs}s" -s "$4" "http://$(cat "$T/state/listen")/v1/ingest" >"$T/$1.wrk" 2>&1
    kill -TERM $dpid; wait $dpid 2>/dev/null || true; dpid=
    sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$T/$1.wrk"
}
a=$(run sampled '{"records": 100000000, "seconds": 60, "min_records": 1, "sample": 10000}' sampled "$T/batch.lua" 2)
b=$(run kept '{"records": 10000, "seconds": 3600, "min_records": 1, "sample": 10000}' full "$T/batch.lua" 2)
floor=$("$B/bench_cjson_loop" "$T/all.ndjson" 10)
c=$(run single '{"records": 10000, "seconds": 3600, "min_records": 1, "sample": 10000}' full "$T/one.lua" 16)
awk -v a="$a" -v b="$b" -v c="$c" -v n="$per_batch" -v f="$floor" 'BEGIN {
    printf "records per batch: %d (~1 MiB)\n", n
    printf "a. sampled path:       %.0f records/s (target >= 1000000)\n", a * n
    printf "b. every record kept:  %.0f records/s; bare cJSON loop %.0f records/s; ratio %.2fx (target <= 1.5x)\n", b * n, f, f / (b * n)
    printf "c. single-record posts: %.0f requests/s (target >= 20000)\n", c
}'
