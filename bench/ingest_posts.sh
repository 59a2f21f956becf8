#!/bin/sh
# Wall time of 300 POSTs of one body to a daemon that keeps up to 100,000
# records a window (so most are offered to the reservoir and dropped), for
# comparing two binaries alternately on the same body:
#   sh bench/ingest_posts.sh DRIFTD BODY CONTENT-TYPE
# e.g. the 4,000-record Iris bodies the review used:
#   head -n 4001 of an Iris-shaped CSV (or its NDJSON) as BODY
#   for i in 1 2 3; do sh bench/ingest_posts.sh old/driftd b.csv text/csv;
#                      sh bench/ingest_posts.sh new/driftd b.csv text/csv; done
set -eu
D=$1 BODY=$2 CT=$3
root=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/driftd-bench.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$W"' EXIT
"$D" baseline -i "$root/examples/iris/train.csv" -o "$W/b.json" 2>/dev/null
cat >"$W/c.json" <<J
{"model": "bench", "baseline": "$W/b.json", "state_dir": "$W/s", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 100000000, "seconds": 3600, "min_records": 10, "sample": 100000}}
J
"$D" run --config "$W/c.json" 2>/dev/null &
pid=$!
i=0; while [ ! -s "$W/s/listen" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
U="http://$(cat "$W/s/listen")/v1/ingest"
s=$(date +%s.%N)
for k in $(seq 300); do
    curl -s -o /dev/null -H "Content-Type: $CT" --data-binary @"$BODY" "$U"
done
e=$(date +%s.%N)
echo "$e - $s" | bc
