#!/bin/sh
# Memory under load: POST 5 million NDJSON records to a running `driftd run`
# (window.records 100000, window.sample 10000, min_records 1000) and sample
# the daemon's VmRSS after the first window and then about every 500,000
# records. Windows keep a bounded reservoir, so RSS must stay flat: the
# script prints a table and the ratio last/first, and fails when RSS grew
# by more than 10% (MAX_GROWTH).
#
# usage: bench/ingest_memory.sh      (from anywhere; build first)
# env:   DRIFTD=path/to/driftd       (default build/agent/driftd)
#        RECORDS=5000000 BATCH=10000 (records per POST, about 1 MiB)
#        PARALLEL=2 (curl processes at once)  MAX_GROWTH=1.10
#        HEAP_STATS=1: also ask glibc (malloc_stats through gdb) how much
#        of the heap is in use and how big its arenas are, to tell memory
#        driftd holds from free space the allocator keeps
#
# Batches are generated once per run by awk with fixed seeds (four distinct
# files, cycled) and re-used: the cost measured is driftd's, not the
# generator's. Everything lives in a temp directory removed at exit; the
# daemon listens on an ephemeral loopback port. Exit status: 0 flat, 1 RSS
# grew, 2 setup or ingest errors.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DRIFTD=${DRIFTD:-build/agent/driftd}
RECORDS=${RECORDS:-5000000}
BATCH=${BATCH:-10000}
PARALLEL=${PARALLEL:-2}
MAX_GROWTH=${MAX_GROWTH:-1.10}
FIRST=100000 # window.records: the first sample is taken after one window
STEP=500000

if [ ! -x "$DRIFTD" ]; then
	echo "ingest_memory.sh: $DRIFTD not found or not executable; build it first" >&2
	exit 2
fi
command -v curl >/dev/null || { echo "ingest_memory.sh: needs curl" >&2; exit 2; }
case "$DRIFTD" in /*) ;; *) DRIFTD="$root/$DRIFTD" ;; esac

w=$(mktemp -d "${TMPDIR:-/tmp}/driftd-bench.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	rm -rf "$w"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

"$DRIFTD" baseline -i examples/iris/train.csv -o "$w/base.json" 2>/dev/null
cat >"$w/config.json" <<EOF
{"model": "iris", "baseline": "$w/base.json", "state_dir": "$w/state",
 "listen": "127.0.0.1:0", "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 1000, "sample": 10000}}
EOF

# Iris-like records: three species around their real means, 1% missing
# values, an `id` column the baseline does not know (ignored by driftd).
for k in 0 1 2 3; do
	awk -v seed=$((42 + k)) -v n="$BATCH" -v first=$((k * BATCH)) 'BEGIN {
		srand(seed)
		split("setosa versicolor virginica", sp, " ")
		split("5.0 5.9 6.6", sl, " "); split("3.4 2.8 3.0", sw, " ")
		split("1.5 4.3 5.6", pl, " "); split("0.25 1.3 2.0", pw, " ")
		for (i = 0; i < n; i++) {
			s = 1 + int(rand() * 3)
			v1 = sprintf("%.1f", sl[s] + (rand() - 0.5) * 1.2)
			v2 = rand() < 0.01 ? "null" : sprintf("%.1f", sw[s] + (rand() - 0.5) * 0.9)
			v3 = sprintf("%.1f", pl[s] + (rand() - 0.5) * 1.0)
			v4 = sprintf("%.1f", pw[s] + (rand() - 0.5) * 0.6)
			printf "{\"id\": %d, \"sepal_length\": %s, \"sepal_width\": %s, \"petal_length\": %s, \"petal_width\": %s, \"species\": \"%s\"}\n",
				first + i, v1, v2, v3, v4, sp[s]
		}
	}' >"$w/batch$k.ndjson"
done
batch_bytes=$(wc -c <"$w/batch0.ndjson")

"$DRIFTD" run --config "$w/config.json" 2>"$w/driftd.err" &
pid=$!
addr=
i=0
while [ $i -lt 200 ]; do
	addr=$(grep -E '^127\.0\.0\.1:[0-9]+$' "$w/state/listen" 2>/dev/null || true)
	if [ -n "$addr" ] && curl -sf -m 2 "http://$addr/healthz" >/dev/null; then break; fi
	addr=
	sleep 0.05
	i=$((i + 1))
done
if [ -z "$addr" ]; then
	echo "ingest_memory.sh: driftd did not come up:" >&2
	cat "$w/driftd.err" >&2
	exit 2
fi

# post COUNT: COUNT batches, spread over PARALLEL curl processes, each
# re-using one connection for its share; every answer must be 202.
posted=0
rounds=0
post() {
	p=0
	curls=
	while [ $p -lt "$PARALLEL" ]; do
		n=$(($1 / PARALLEL + (p < $1 % PARALLEL ? 1 : 0)))
		if [ $n -gt 0 ]; then
			urls=
			j=0
			while [ $j -lt $n ]; do urls="$urls -o /dev/null http://$addr/v1/ingest"; j=$((j + 1)); done
			# shellcheck disable=SC2086 # one word per option and URL
			curl -s -w '%{http_code}\n' -H 'Content-Type: application/x-ndjson' \
				--data-binary @"$w/batch$(((rounds + p) % 4)).ndjson" $urls >"$w/codes.$p" &
			curls="$curls $!"
		fi
		p=$((p + 1))
	done
	for c in $curls; do wait "$c" || true; done # not driftd
	if cat "$w"/codes.* | grep -qv '^202$'; then
		echo "ingest_memory.sh: ingest failed: HTTP $(cat "$w"/codes.* | grep -v '^202$' | sort | uniq -c | tr '\n' ' ')" >&2
		tail -5 "$w/driftd.err" >&2
		exit 2
	fi
	rm -f "$w"/codes.*
	posted=$((posted + $1 * BATCH))
	rounds=$((rounds + 1))
}

metric() {
	curl -sf "http://$addr/metrics" | awk -v m="$1" 'index($1, m) == 1 { s += $2 } END { print s + 0 }'
}
calc() { awk "BEGIN { print ($*) }"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }
anon() { awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status"; }
# heap: "in-use-kB arena-kB" from glibc's malloc_stats(), which the daemon
# prints on its stderr when gdb calls it.
heap() {
	gdb -p "$pid" -batch -ex 'call (void) malloc_stats()' >/dev/null 2>&1 || { echo "- -"; return; }
	awk '/^Total/ { t = 1; next } t && /^system bytes/ { s = $4 } t && /^in use bytes/ { u = $5; t = 0 }
		END { printf "%d %d\n", u / 1024, s / 1024 }' "$w/driftd.err"
}
heap_hdr=
if [ "${HEAP_STATS:-0}" = 1 ]; then
	command -v gdb >/dev/null || { echo "ingest_memory.sh: HEAP_STATS=1 needs gdb" >&2; exit 2; }
	heap_hdr=$(printf ' %12s %12s' "heap in use" "heap arena")
fi

printf '%s: %d records in POSTs of %d records (%d bytes), %d curl at once\n' \
	"$("$DRIFTD" version 2>/dev/null | head -1)" "$RECORDS" "$BATCH" "$batch_bytes" "$PARALLEL"
printf 'RSS before any record: %s kB\n\n' "$(rss)"
printf '%10s %8s %12s %12s %12s %8s%s\n' records windows "VmRSS kB" "RssAnon kB" "VmHWM kB" "s" "$heap_hdr"
t0=$(date +%s.%N)
next=$FIRST
first_rss=
last_rss=
while [ "$posted" -lt "$RECORDS" ]; do
	want=$(((next - posted + BATCH - 1) / BATCH))
	post "$want"
	r=$(rss)
	[ -n "$first_rss" ] || first_rss=$r
	last_rss=$r
	printf '%10d %8d %12d %12d %12d %8.1f' "$posted" "$(metric driftd_windows_evaluated_total)" \
		"$r" "$(anon)" "$(hwm)" "$(calc "$(date +%s.%N) - $t0")"
	if [ -n "$heap_hdr" ]; then
		# shellcheck disable=SC2046 # two numbers
		printf ' %12s %12s' $(heap)
	fi
	echo
	next=$(((posted / STEP + 1) * STEP))
	[ "$next" -le "$RECORDS" ] || next=$RECORDS
done
elapsed=$(calc "$(date +%s.%N) - $t0")

received=$(metric 'driftd_records_received_total{model="iris",input="http"}')
rejected=$(metric 'driftd_records_rejected_total{model="iris",input="http"')
kill -TERM "$pid"
wait "$pid" || { echo "ingest_memory.sh: driftd exit $?" >&2; exit 2; }
pid=
if [ "$received" -ne "$posted" ] || [ "$rejected" -ne 0 ]; then
	echo "ingest_memory.sh: driftd counted $received records ($rejected rejected), $posted posted" >&2
	exit 2
fi

ratio=$(awk -v a="$last_rss" -v b="$first_rss" 'BEGIN { printf "%.3f", a / b }')
printf '\n%d records in %.1f s (%.0f records/s); RSS last/first: %s kB / %s kB = %s (limit %s)\n' \
	"$posted" "$elapsed" "$(calc "$posted / $elapsed")" "$last_rss" "$first_rss" "$ratio" "$MAX_GROWTH"
if [ "$(calc "$ratio > $MAX_GROWTH")" -eq 1 ]; then
	echo "FAIL: RSS grew by more than allowed" >&2
	exit 1
fi
echo "OK: RSS flat"
