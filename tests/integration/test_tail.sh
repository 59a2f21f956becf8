#!/bin/sh
# Tail input: every complete line written is counted exactly once through
# plain appends, a partial last line completed later, rotation by rename
# (new file at once, and new file after a pause), copytruncate (new data
# shorter and longer than the old file, rewritten within one poll, and
# while driftd is stopped), a file that does not exist at
# start, kill -9 in the middle of bursts followed by a restart on the same
# state_dir, and a clean restart. A second input with `start: end` skips
# the lines that were there before the first start. The test keeps its own
# count of lines written and compares it with /metrics.
. "$(dirname "$0")/lib.sh"

log="$T/log/pred.ndjson" # does not exist when driftd starts
pre="$T/pre.ndjson"      # exists, read with start: end
mkdir -p "$T/log"
daemon=
writer=
trap 'for p in $writer $daemon; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

expect_rc 0 "$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" -o "$T/base.json"
# Small windows on purpose: a window closes (and state is saved) in the
# middle of a chunk read from the file, many times, kill -9 included.
cat >"$T/config.json" <<EOF
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state",
 "listen": "127.0.0.1:0",
 "inputs": [{"type": "tail", "path": "$log", "format": "ndjson", "start": "beginning"},
            {"type": "tail", "path": "$pre", "format": "ndjson", "start": "end"}],
 "window": {"records": 250, "seconds": 3600, "min_records": 1, "sample": 1000}}
EOF

# gen FIRST COUNT: COUNT iris-like NDJSON lines, values varying with the number.
gen() {
    awk -v s="$1" -v n="$2" 'BEGIN {
        split("setosa versicolor virginica", sp, " ")
        for (i = s; i < s + n; i++) {
            k = i % 3
            printf "{\"sepal_length\": %.1f, \"sepal_width\": %.1f, \"petal_length\": %.1f, \"petal_width\": %.1f, \"species\": \"%s\"}\n",
                4.5 + (i % 30) / 10, 2.5 + (i % 15) / 10, 1 + k * 2 + (i % 10) / 10,
                0.2 + k * 0.8 + (i % 5) / 10, sp[k + 1]
        }
    }'
}

written=0 # complete lines written to $log (and its rotations)
# append COUNT: COUNT more lines at the end of $log (awk writes them in
# buffers of a few KiB: driftd may see a line cut in two, as in real life).
append() {
    gen "$written" "$1" >>"$log"
    written=$((written + $1))
}

# wait_for SECONDS CMD...: poll CMD every 50 ms; false on timeout, or at
# once when driftd has died (a crash must not turn into minutes of waiting).
wait_for() {
    end=$(($(date +%s) + $1)); shift
    while :; do
        "$@" && return 0
        if [ -n "$daemon" ] && ! kill -0 "$daemon" 2>/dev/null; then
            fail "driftd died"; tail -20 "$T/driftd.err" >&2
            finish; exit 1
        fi
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

start_daemon() {
    rm -f "$T/state/listen"
    "$DRIFTD" run --config "$T/config.json" 2>>"$T/driftd.err" &
    daemon=$!
    addr=
    # An HTTP answer means setup is over: the tail inputs have opened their
    # files (or are waiting for them) and start: end has been applied.
    if wait_for 20 up; then ok; else
        fail "driftd did not come up"; tail -20 "$T/driftd.err" >&2
        finish; exit 1
    fi
}
up() {
    addr=$(grep -E '^127\.0\.0\.1:[0-9]+$' "$T/state/listen" 2>/dev/null) &&
        curl -sf -m 2 "http://$addr/healthz" >/dev/null
}

# received PATH: driftd_records_received_total of the tail input on PATH.
received() {
    curl -sf -m 5 "http://$addr/metrics" >"$T/metrics" || { echo -1; return; }
    awk -v l="{model=\"iris\",input=\"tail:$1\"}" '
        index($1, "driftd_records_received_total" l) == 1 && length($1) == length("driftd_records_received_total" l) { v = $2 }
        END { print v == "" ? -1 : v }' "$T/metrics"
}
is_count() { [ "$(received "$1")" = "$2" ]; }
reached() { [ "$(received "$1")" -ge "$2" ]; }

# expect_count WHAT PATH N: the count reaches N (and then stays there).
expect_count() {
    if wait_for 20 is_count "$2" "$3" && sleep 0.5 && is_count "$2" "$3"; then ok; else
        fail "$1: received $(received "$2"), want $3 lines"
        tail -15 "$T/driftd.err" | sed 's/^/  driftd: /' >&2
    fi
}

gen 100000 50 >"$pre"
start_daemon
expect_count "nothing yet" "$log" 0
grep -q "waiting for the file" "$T/driftd.err" && ok || fail "no 'waiting for the file' in the log"

# start: end: the 50 lines already there are skipped, new ones counted.
gen 100050 7 >>"$pre"
expect_count "start: end" "$pre" 7

# The file appears; plain appends.
append 200
expect_count "file created after start" "$log" "$written"
append 1
append 30
expect_count "appends" "$log" "$written"

# A partial last line is not a record until its newline arrives.
gen "$written" 1 >"$T/line"
head -c 40 "$T/line" >>"$log"
sleep 0.7
expect_count "half a line" "$log" "$written"
tail -c +41 "$T/line" >>"$log"
written=$((written + 1))
append 20
expect_count "partial line completed" "$log" "$written"

# Rotation by rename, the new file created at once...
append 100
mv "$log" "$log.1"
append 100
expect_count "rename rotation" "$log" "$written"
# ...and a while after the rename, with the old file written to last.
append 30
mv "$log" "$log.1"
sleep 0.5
append 40
expect_count "rename rotation, late new file" "$log" "$written"

# copytruncate, whatever was written having been read (lines written
# between cp and truncate would be lost: the classic race, not tested).
# New data shorter than the old file: the size shows the truncation.
cp "$log" "$log.2" && truncate -s 0 "$log"
append 10
expect_count "copytruncate" "$log" "$written"
# New data longer than the old file, once driftd has seen the truncation.
append 200
expect_count "before the second copytruncate" "$log" "$written"
before=$(grep -c "truncated" "$T/driftd.err")
cp "$log" "$log.2" && truncate -s 0 "$log"
wait_for 10 sh -c "[ \$(grep -c truncated '$T/driftd.err') -gt $before ]" ||
    fail "copytruncate not noticed"
append 400
expect_count "copytruncate, more data" "$log" "$written"

# kill -9 in the middle of bursts, restart on the same state_dir. The
# writer goes on while driftd is down.
for round in 1 2; do
    base=$written
    (
        i=0
        while [ "$i" -lt 100 ]; do
            gen $((base + i * 25)) 25 >>"$log"
            i=$((i + 1))
            sleep 0.02
        done
    ) &
    writer=$!
    # Mid-burst: some of it counted, not all.
    wait_for 20 reached "$log" $((base + 300 + (round - 1) * 900)) ||
        fail "round $round: burst not being read"
    kill -9 "$daemon"
    wait "$daemon" 2>/dev/null
    daemon=
    sleep 0.3
    start_daemon
    wait "$writer"
    writer=
    written=$((base + 2500))
    expect_count "kill -9 round $round" "$log" "$written"
done
# A partial line at kill time, completed after the restart.
gen "$written" 1 >"$T/line"
head -c 33 "$T/line" >>"$log"
sleep 1.5 # a state save with the half line pending
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
daemon=
tail -c +34 "$T/line" >>"$log"
written=$((written + 1))
start_daemon
append 5
expect_count "partial line across kill -9" "$log" "$written"

# kill -9, then the file is written to and rotated while driftd is down:
# the rest of the renamed file is read before the new one.
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
daemon=
append 60
mv "$log" "$log.1"
append 25
start_daemon
expect_count "rotation while down after kill -9" "$log" "$written"
expect_count "start: end after restarts" "$pre" 7
gen 100057 3 >>"$pre"
expect_count "start: end, appended after restarts" "$pre" 10

# copytruncate with the new data longer than the old file, truncated and
# rewritten within one poll: the size never looks smaller, only the bytes
# before the position tell.
gen 300000 2000 >"$T/new"
before=$(grep -c "truncated" "$T/driftd.err")
cat "$T/new" >"$log"
written=$((written + 2000))
expect_count "copytruncate and longer rewrite within one poll" "$log" "$written"
[ "$(grep -c "truncated" "$T/driftd.err")" -gt "$before" ] && ok ||
    fail "the truncation within one poll was not logged"
# copytruncate while driftd is stopped, the new file longer than the saved
# position: read from its start, not resumed in the middle of a line.
kill -TERM "$daemon"
wait "$daemon"
daemon=
gen 400000 4000 >"$T/new"
cat "$T/new" >"$log"
written=$((written + 4000))
start_daemon
expect_count "copytruncate while stopped" "$log" "$written"

# A clean stop and start: nothing is read twice.
kill -TERM "$daemon"
wait "$daemon"
rc=$?
daemon=
[ "$rc" -eq 0 ] && ok || fail "driftd exit $rc after SIGTERM, want 0"
append 15
start_daemon
expect_count "clean restart" "$log" "$written"
expect_count "clean restart, start: end input" "$pre" 10
# /v1/status says the same, and nothing was rejected.
curl -sf "http://$addr/v1/status" >"$T/status"
if json_is "$T/status" "inputs[path=$log].records=$written" "inputs[path=$log].rejected=0"; then
    ok
else
    fail "/v1/status: want records $written, rejected 0: $(json "$T/status" "inputs[path=$log]" 2>&1)"
fi

kill -TERM "$daemon"
wait "$daemon"
rc=$?
daemon=
[ "$rc" -eq 0 ] && ok || fail "driftd exit $rc after the last SIGTERM, want 0"
printf 'tail: %d lines written and counted\n' "$written"
if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/driftd.err"; then
    fail "sanitizer report in driftd's log"; grep -E -A20 'Sanitizer|runtime error' "$T/driftd.err" | head -40 >&2
else ok; fi

finish
