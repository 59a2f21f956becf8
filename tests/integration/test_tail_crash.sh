#!/bin/sh
# kill -9 does not lose the lines of the open window (issue 13, item 8): a
# tail input saves, beside the position it read to, where the oldest window
# not yet evaluated begins in the file (with the counters before it). A
# start after a crash reads again from there, so the open window's lines
# come back, none is counted twice, and the windows already evaluated are
# not read again. A clean stop keeps the window in state_dir instead, and
# the next start goes on from the position read to.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
log="$T/pred.csv"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "tail", "path": "$log", "format": "csv", "start": "beginning"}],
 "window": {"records": 10, "seconds": 3600, "min_records": 1, "sample": 1000}}
J
head -1 "$ex/production_clean.csv" >"$log"
# lines FIRST COUNT: data lines FIRST.. of the example (one write: one chunk)
lines() { sed 1d "$ex/production_clean.csv" | sed -n "$1,$(($1 + $2 - 1))p"; }
evaluated() { curl -s "$URL/v1/status" | json_in windows_evaluated 2>/dev/null; }
# is_state N OPEN COUNTED: N windows evaluated since this start (after a
# kill -9 the counter resumes at its reserved mark, so it is counted from
# the start), OPEN records in the open window, COUNTED records in all.
is_state() {
    status_is "windows_evaluated=$((base + $1))" "window.records=$2" "inputs[0].records=$3"
}
# started: the daemon is up; base is its windows_evaluated at the start
started() { base=$(evaluated); [ -n "$base" ]; }
base=0

start_daemon "$T/c.json" && started || { finish; exit 1; }
# 25 lines in one chunk: two windows close in the middle of it, 5 lines stay open
lines 1 25 >>"$log"
wait_until 10 is_state 2 5 25 && ok || fail "before the crash: $(curl -s "$URL/v1/status" | json_in windows_evaluated window.records inputs)"
stop_daemon KILL
grep -q "reading again" "$T/daemon.log" && fail "a first start read again"

start_daemon "$T/c.json" && started || { finish; exit 1; }
wait_until 10 is_state 0 5 25 && ok ||
    fail "after kill -9: want 2 windows, 5 open records, 25 counted: $(curl -s "$URL/v1/status" | json_in windows_evaluated window.records inputs)"
grep -q "pred: reading again from offset .* the window open at the last stop was not kept (5 records read since)" \
    "$T/daemon.log" 2>/dev/null || grep -q "reading again from offset .*(5 records read since)" "$T/daemon.log" && ok ||
    fail "no 'reading again' line: $(grep -i tail "$T/daemon.log" | tail -3)"
# 5 more lines complete window 3 with the 5 read before the crash
lines 26 5 >>"$log"
wait_until 10 is_state 1 0 30 && ok ||
    fail "window 3 after 5 more lines: $(curl -s "$URL/v1/status" | json_in windows_evaluated window.records inputs)"
status_is last_evaluation.window.records=10 && ok || fail "window 3 holds $(curl -s "$URL/v1/status" | json_in last_evaluation.window)"

# a crash with nothing open reads nothing again
stop_daemon KILL
start_daemon "$T/c.json" && started || { finish; exit 1; }
wait_until 10 is_state 0 0 30 && ok || fail "kill -9 with an empty window: $(curl -s "$URL/v1/status" | json_in windows_evaluated window.records inputs)"
[ "$(grep -c 'reading again' "$T/daemon.log")" -eq 1 ] && ok || fail "read again with nothing open"

# a clean stop keeps the open window and goes on from where it read to
lines 31 7 >>"$log"
wait_until 10 is_state 0 7 37 && ok || fail "7 open: $(curl -s "$URL/v1/status" | json_in windows_evaluated window.records inputs)"
stop_daemon
start_daemon "$T/c.json" && started || { finish; exit 1; }
wait_until 10 is_state 0 7 37 && ok || fail "after a clean stop: $(curl -s "$URL/v1/status" | json_in windows_evaluated window.records inputs)"
[ "$(grep -c 'reading again' "$T/daemon.log")" -eq 1 ] && ok || fail "a clean stop read again"
# ... and a crash after that resumed window reads its lines again from the file
stop_daemon KILL
start_daemon "$T/c.json" && started || { finish; exit 1; }
wait_until 10 is_state 0 7 37 && ok || fail "kill -9 after a resumed window: $(curl -s "$URL/v1/status" | json_in windows_evaluated window.records inputs)"
lines 38 3 >>"$log"
wait_until 10 is_state 1 0 40 && ok || fail "window 4: $(curl -s "$URL/v1/status" | json_in windows_evaluated window.records inputs)"
stop_daemon
finish
