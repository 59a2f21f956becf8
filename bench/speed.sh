#!/bin/sh
# The latency of `driftd check` (issue 15's acceptance): on bench/data's
# 100,000 x 25 files (20 numerical, 5 categorical, shifted current; a
# baseline built with --max-sample 100000, so both sides test the same
# reference), hyperfine times
#   driftd check --json --all-metrics      (target < 0.25 s)
#   driftd check --json                    (target < 0.08 s)
#   scripts/reference_report.py --all-metrics  (pandas + scipy, the same
#       metrics: ks, wasserstein, wasserstein_normed, energy_distance,
#       cramer_von_mises, anderson, psi, kl_div, jensen_shannon, hellinger
#       on numerical features; psi, kl_div, jensen_shannon, hellinger,
#       chisquare, z, tvd on categorical ones)
# in one run of this script, prints the ratio (target >= 40x), and checks
# that both reports agree (scripts/compare_reports.py).
#
# check keeps the baseline's samples in baseline.json.cache beside it
# (agent/bcache.c). The two timings above are of a check that finds it, as
# every check after the first does; the script also times, with --json,
#   --no-cache              the samples parsed from the JSON every time
#   first (cache written)   the cache removed before each run: parsed and
#                           the cache written
# The baseline is two seconds old before the cache is made, so that the
# cache is known by its file status (a younger one is hashed each time).
#
# usage: bench/speed.sh   env: DRIFTD=build/agent/driftd PYTHON=/usr/bin/python3
#                              RUNS=10 (driftd) PRUNS=3 (Python)
# Results: bench/out/speed-*.json (hyperfine) and the lines printed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DRIFTD=${DRIFTD:-build/agent/driftd}
PYTHON=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-10}
PRUNS=${PRUNS:-3}
data=bench/data
out=bench/out
mkdir -p "$out"
[ -f "$data/ref.csv" ] && [ -f "$data/cur.csv" ] || "$PYTHON" bench/gen_data.py
"$DRIFTD" baseline --input "$data/ref.csv" --max-sample 100000 --output "$out/baseline.json" 2>/dev/null
rm -f "$out/baseline.json.cache"
sleep 2
"$DRIFTD" check --baseline "$out/baseline.json" --input "$data/cur.csv" --json >/dev/null || [ $? -eq 1 ]

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1); load $(cut -d' ' -f1-3 /proc/loadavg)"
all="$DRIFTD check --baseline $out/baseline.json --input $data/cur.csv --json --all-metrics"
auto="$DRIFTD check --baseline $out/baseline.json --input $data/cur.csv --json"
ref="$PYTHON scripts/reference_report.py --reference $data/ref.csv --current $data/cur.csv --all-metrics"
# exit status 1 is "dataset drift", a result: -i keeps hyperfine going
hyperfine -N -i --warmup 2 --runs "$RUNS" --style basic --export-json "$out/speed-driftd.json" \
	-n "check --json --all-metrics" "$all" -n "check --json" "$auto"
hyperfine -N -i --warmup 2 --runs "$RUNS" --style basic --export-json "$out/speed-nocache.json" \
	-n "check --json --no-cache" "$auto --no-cache" \
	--prepare "rm -f $out/baseline.json.cache" -n "check --json, first (cache written)" "$auto"
"$DRIFTD" check --baseline "$out/baseline.json" --input "$data/cur.csv" --json >/dev/null || [ $? -eq 1 ]
hyperfine -N -i --runs "$PRUNS" --style basic --export-json "$out/speed-reference.json" \
	-n "reference_report.py --all-metrics" "$ref"
"$PYTHON" - "$out/speed-driftd.json" "$out/speed-reference.json" "$out/speed-nocache.json" <<'EOF'
import json, sys
d = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
p = json.load(open(sys.argv[2]))["results"][0]
for r in json.load(open(sys.argv[3]))["results"]:
    print("%-27s mean %.3f s, min %.3f s" % (r["command"] + ":", r["mean"], r["min"]))
a, j = d["check --json --all-metrics"], d["check --json"]
print("check --json --all-metrics: mean %.3f s, min %.3f s (target < 0.25 s)" % (a["mean"], a["min"]))
print("check --json:               mean %.3f s, min %.3f s (target < 0.08 s)" % (j["mean"], j["min"]))
print("reference_report.py:        mean %.2f s, min %.2f s" % (p["mean"], p["min"]))
print("ratio, means: %.1fx; minimums: %.1fx (target >= 40x)" % (p["mean"] / a["mean"], p["min"] / a["min"]))
EOF
$all >"$out/speed-driftd-report.json" || [ $? -eq 1 ]
$ref >"$out/speed-reference-report.json" || [ $? -eq 1 ]
"$PYTHON" scripts/compare_reports.py --ignore quality --ignore baseline --ignore generated_at \
	--ignore input "$out/speed-driftd-report.json" \
	"$out/speed-reference-report.json"
