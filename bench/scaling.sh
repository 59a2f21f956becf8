#!/bin/sh
# Scaling of `driftd check --all-metrics` with rows and features, against
# the pandas + scipy reference (scripts/reference_report.py --all-metrics):
# wall time and peak RSS of one run each (GNU time), the reference given
# LIMIT seconds before it is stopped and reported as not finished.
#
# usage: bench/scaling.sh [ROWS...]      (default 1000 10000 100000 1000000)
# env:   DRIFTD=build/agent/driftd  PYTHON=/usr/bin/python3
#        FEATURES="5 25 100 500"   LIMIT=300   MAXCELLS=100000000
#        (cells = rows x features; larger tables are skipped and said so)
#        REFERENCE=0 times driftd only (the reference columns say "-")
#
# The baseline of each table is built once (default --max-sample, 50,000)
# and not timed; a first check, not timed either, writes its cache
# (baseline.json.cache), which the timed check reads, as every check but
# the first does; the nocache columns time a check --no-cache, which
# parses the baseline's samples from the JSON. Data goes to bench/data/scaling/ (bench/gen_wide.py, fixed
# seeds); the table, one line per run, to bench/out/scaling.txt.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DRIFTD=${DRIFTD:-build/agent/driftd}
PYTHON=${PYTHON:-/usr/bin/python3}
FEATURES=${FEATURES:-"5 25 100 500"}
LIMIT=${LIMIT:-300}
MAXCELLS=${MAXCELLS:-100000000}
REFERENCE=${REFERENCE:-1}
ROWS=${*:-"1000 10000 100000 1000000"}
data=bench/data/scaling
out=bench/out
mkdir -p "$data" "$out"
table=$out/scaling.txt
echo "rows features driftd_s driftd_rss_MB nocache_s nocache_rss_MB reference_s reference_rss_MB" >"$table"

# measure CMD...: "seconds peak_MB" of one run, or "- -" when it failed or
# took longer than LIMIT seconds.
measure() {
	t=$(mktemp)
	rc=0
	timeout "$LIMIT" /usr/bin/time -f "%e %M" -o "$t" "$@" >/dev/null 2>"$t.err" || rc=$?
	# check exits 1 for dataset drift: a result, not a failure
	if [ "$rc" -gt 1 ] || [ ! -s "$t" ]; then
		echo "- -"
	else
		tail -n 1 "$t" | awk '{printf "%.3f %.0f\n", $1, $2 / 1024}'
	fi
	rm -f "$t" "$t.err"
}

for r in $ROWS; do
	for f in $FEATURES; do
		if [ $((r * f)) -gt "$MAXCELLS" ]; then
			echo "$r $f skipped skipped skipped skipped skipped skipped" | tee -a "$table"
			continue
		fi
		"$PYTHON" bench/gen_wide.py --rows "$r" --features "$f" --out "$data" >/dev/null
		ref=$data/ref_${r}_$f.csv
		cur=$data/cur_${r}_$f.csv
		base=$data/base_${r}_$f.json
		[ -f "$base" ] || "$DRIFTD" baseline --input "$ref" --output "$base" 2>/dev/null
		rm -f "$base.cache"
		sleep 2 # a baseline two seconds old: its cache is known by its file status
		"$DRIFTD" check --baseline "$base" --input "$cur" --json >/dev/null 2>&1 || true
		d=$(measure "$DRIFTD" check --baseline "$base" --input "$cur" --all-metrics --json)
		n=$(measure "$DRIFTD" check --baseline "$base" --input "$cur" --all-metrics --json --no-cache)
		p="- -"
		[ "$REFERENCE" = 0 ] ||
			p=$(measure "$PYTHON" scripts/reference_report.py --reference "$ref" --current "$cur" --all-metrics)
		echo "$r $f $d $n $p" | tee -a "$table"
	done
done
