#!/bin/sh
# Benchmark: `driftd check --all-metrics --json` against the pandas + scipy
# reference (scripts/reference_report.py) on the same 100,000-row files, and
# check that both reports agree (scripts/compare_reports.py).
#
# usage: bench/check.sh            (from anywhere; run `make` first)
# env:   DRIFTD=path/to/driftd     (default build/agent/driftd)
#        PYTHON=/usr/bin/python3   RUNS=3 (best of RUNS, wall clock)
#
# Data is generated once into bench/data/ (bench/gen_data.py, fixed seed);
# reports and timings go to bench/out/. The baseline is built once and not
# timed. Exit status: 0 when both reports agree, 1 when they differ, 2 on
# setup errors.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DRIFTD=${DRIFTD:-build/agent/driftd}
PYTHON=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-3}
data=bench/data
out=bench/out

if [ ! -x "$DRIFTD" ]; then
	echo "check.sh: $DRIFTD not found or not executable; build it first (make)" >&2
	exit 2
fi
if [ ! -f "$data/ref.csv" ] || [ ! -f "$data/cur.csv" ]; then
	"$PYTHON" bench/gen_data.py
fi
mkdir -p "$out"

# Baseline: every reference row is kept (no sampling), so both sides test
# the very same reference sample.
"$DRIFTD" baseline --input "$data/ref.csv" --max-sample 100000 \
	--output "$out/baseline.json"

driftd_cmd="$DRIFTD check --baseline $out/baseline.json --input $data/cur.csv --all-metrics --json"
python_cmd="$PYTHON scripts/reference_report.py --reference $data/ref.csv --current $data/cur.csv --all-metrics"

# run_check CMD OUTFILE: run once; exit 0 (no drift) and 1 (dataset drift)
# are both success for `driftd check`.
run_check() {
	rc=0
	sh -c "$1" >"$2" || rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "check.sh: command failed (exit $rc): $1" >&2
		exit 2
	fi
}

now() { date +%s.%N; }

# best_of NAME CMD OUTFILE: one checked warm-up run, then the best
# wall-clock time of RUNS runs, in seconds. The last run's report stays in
# OUTFILE.
best_of() {
	run_check "$2" "$3"
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine --runs "$RUNS" --ignore-failure --style none \
			--export-json "$out/hyperfine-$1.json" "$2 >$3" >/dev/null
		"$PYTHON" -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["min"])' \
			"$out/hyperfine-$1.json"
		return
	fi
	best=inf
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		t0=$(now)
		run_check "$2" "$3"
		t1=$(now)
		best=$(echo "$t0 $t1 $best" | awk '{d = $2 - $1; b = $3; if (b == "inf" || d < b + 0) b = d; printf "%.4f", b}')
		i=$((i + 1))
	done
	echo "$best"
}

rows=$(($(wc -l <"$data/cur.csv") - 1))
cols=$(head -n 1 "$data/cur.csv" | awk -F, '{print NF}')
echo "data: $data/ref.csv, $data/cur.csv ($rows rows x $cols columns each)"
echo "timing: best of $RUNS, wall clock$(command -v hyperfine >/dev/null 2>&1 && echo ' (hyperfine)')"

t_driftd=$(best_of driftd "$driftd_cmd" "$out/driftd.json")
echo "driftd check --all-metrics --json:        ${t_driftd} s"
t_python=$(best_of python "$python_cmd" "$out/reference.json")
echo "reference_report.py (pandas+scipy):       ${t_python} s"
awk -v a="$t_python" -v b="$t_driftd" 'BEGIN { if (b > 0) printf "speed-up (python / driftd):               %.1fx\n", a / b }'

# The reference computes the drift statistics only, not driftd's per-feature
# data-quality block ("quality": missing/type-error/unseen/out-of-range rates).
echo "comparing $out/driftd.json with $out/reference.json (ignoring \"quality\")"
"$PYTHON" scripts/compare_reports.py --ignore quality "$out/driftd.json" "$out/reference.json"
