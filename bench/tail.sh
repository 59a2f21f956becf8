#!/bin/sh
# Tail ingest against the line-scanning limit (issue 6, 3): lines/s of
# driftd following a file of 25-feature NDJSON records (bench/gen_data.py's
# current data, repeated) with validate "sampled" (window.seconds 60,
# window.sample 10000), against `wc -l` on the same file, in the same run,
# both from the page cache. Targets: >= 2,000,000 lines/s, within 3x of wc -l.
# Also measured: the same tail with full validation (every line parsed).
#
# driftd's rate is the slope of its record counter (GET /v1/status every
# 20 ms) between 10 % and 90 % of the file, so start-up (baseline load) and
# polling latency are not in it; "whole" is start to last line, start-up
# included.
# usage: bench/tail.sh [lines, default 4000000]
lines=${1:-4000000}
. "$(dirname "$0")/lib.sh"
"$PYTHON" bench/cur_ndjson.py "$T/log.ndjson" "$lines"
bytes=$(stat -c %s "$T/log.ndjson")
cat "$T/log.ndjson" >/dev/null # into the page cache

now() { date +%s.%N; }
best_wc=
for i in 1 2 3; do
    t0=$(now)
    n=$(wc -l <"$T/log.ndjson")
    t1=$(now)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best_wc" ] || [ "$(echo "$s < $best_wc" | bc -l)" = 1 ]; then best_wc=$s; fi
done
[ "$n" -eq "$lines" ] || { echo "wc -l counted $n lines, want $lines" >&2; exit 1; }

run() { # validate -> "rate whole" (lines/s)
    rm -rf "$T/state"
    cat >"$T/c.json" <<J
{"model": "bench", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "tail", "path": "$T/log.ndjson", "start": "beginning", "validate": "$1"}],
 "window": {"records": 1000000000, "seconds": 60, "min_records": 1, "sample": 10000}}
J
    t0=$(now)
    "$B/agent/driftd" run --config "$T/c.json" 2>"$T/tail-$1.log" &
    dpid=$!
    while [ ! -s "$T/state/listen" ]; do sleep 0.01; done
    "$PYTHON" - "$(cat "$T/state/listen")" "$lines" "$t0" <<'PY'
import http.client, json, sys, time
addr, want, t0 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
host, port = addr.rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port))
pts = []
while True:
    c.request("GET", "/v1/status")
    st = json.loads(c.getresponse().read())
    n = sum(i["records"] + i["rejected"] for i in st["inputs"])
    pts.append((time.time(), n))
    if n >= want:
        break
    time.sleep(0.02)
def when(x):  # time the counter passed x, interpolated between polls
    for (ta, na), (tb, nb) in zip(pts, pts[1:]):
        if na <= x <= nb and nb > na:
            return ta + (tb - ta) * (x - na) / (nb - na)
    return None
a, b = when(0.1 * want), when(0.9 * want)
rate = 0.8 * want / (b - a) if a is not None and b is not None and b > a else float("nan")
print(f"{rate:.0f} {want / (pts[-1][0] - t0):.0f}")
PY
    kill -TERM $dpid
    wait $dpid 2>/dev/null || true
    dpid=
}
sampled=$(run sampled)
full=$(run full)
wc_rate=$(echo "$lines / $best_wc" | bc -l)
s_rate=${sampled% *}
if [ "$s_rate" = nan ]; then
    echo "tail.sh: $lines lines were read between two polls of the counter; no rate to" \
        "measure: give more lines (the default is 4,000,000)" >&2
    exit 2
fi
printf 'file: %d lines, %d bytes (%.0f bytes/line), load %s\n' "$lines" "$bytes" \
    "$(echo "$bytes / $lines" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %14s %14s\n' case "lines/s" "whole run"
printf '%-34s %14.0f %14s\n' "wc -l (best of 3: ${best_wc%????} s)" "$wc_rate" -
printf '%-34s %14.0f %14.0f\n' "driftd tail, validate sampled" "$s_rate" "${sampled#* }"
printf '%-34s %14.0f %14.0f\n' "driftd tail, validate full" "${full% *}" "${full#* }"
printf 'wc -l / driftd sampled: %.2fx (target <= 3x); sampled: %s lines/s (target >= 2,000,000)\n' \
    "$(echo "$wc_rate / $s_rate" | bc -l)" "$s_rate"
