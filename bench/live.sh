#!/bin/sh
# The live page (GET /) and its JSON at the size of the HTML report's test:
# 25 features (tests/integration/html_data.py, hostile names included),
# 200 windows of 200 records in the history (the page's charts show the
# last 200). Prints the page's size, the time to render and serve it
# (curl's time_total, median of 20 on loopback), the sizes of
# /v1/report/latest.html and of /v1/history?limit=200, and whether
# `tidy -e -q` passes the page. The page is refetched every 5 s by its
# script, so its size is what one open tab costs per refresh.
#
# usage: bench/live.sh        (from anywhere; build first: make)
# env:   BUILD=build  PYTHON=/usr/bin/python3
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
B=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
D=$B/agent/driftd
[ -x "$D" ] || { echo "live.sh: $D not found; build first (make)" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/driftd-live-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; rm -rf "$T"' EXIT
"$PYTHON" tests/integration/html_data.py "$T" 1000
"$D" baseline -i "$T/ref.csv" -o "$T/base.json" 2>/dev/null
cat >"$T/c.json" <<J
{"model": "bench", "baseline": "$T/base.json", "state_dir": "$T/st", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}], "window": {"records": 200, "seconds": 3600, "min_records": 1, "sample": 200}}
J
"$D" run --config "$T/c.json" >"$T/log" 2>&1 &
pid=$!
i=0
while [ ! -s "$T/st/listen" ]; do i=$((i + 1)); [ $i -le 100 ] || { cat "$T/log" >&2; exit 2; }; sleep 0.05; done
U=http://$(cat "$T/st/listen")
i=0
while [ $i -lt 40 ]; do # 1,000 rows a body: 5 windows each
    curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @"$T/cur.csv" "$U/v1/ingest"
    i=$((i + 1))
done
while ! curl -s "$U/v1/status" | "$PYTHON" -c 'import json,sys; sys.exit(json.load(sys.stdin)["windows_evaluated"] < 200)'; do sleep 0.1; done
i=0
: >"$T/times"
while [ $i -lt 20 ]; do
    curl -s -o "$T/page.html" -w '%{time_total}\n' "$U/" >>"$T/times"
    i=$((i + 1))
done
size=$(wc -c <"$T/page.html")
med=$(sort -n "$T/times" | sed -n 10p)
rep=$(curl -s "$U/v1/report/latest.html" | wc -c)
hist=$(curl -s "$U/v1/history?limit=200" | wc -c)
gz=$(gzip -c "$T/page.html" | wc -c)
if tidy -e -q "$T/page.html" >/dev/null 2>&1; then tidy=clean; else tidy=FAILS; fi
echo "GET / (25 features, 200 windows): $size bytes ($gz gzipped), median ${med}s to render and serve; tidy -e -q: $tidy"
echo "GET /v1/report/latest.html: $rep bytes; GET /v1/history?limit=200: $hist bytes"
