#!/bin/sh
# Windows by time with min_records (closing, extending, closing once enough
# records arrived) and the stdin input, on the real daemon.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
sed 1d "$ex/production_clean.csv" | awk -F, '{printf "{\"sepal_length\": %s, \"sepal_width\": %s, \"petal_length\": %s, \"petal_width\": %s, \"species\": \"%s\"}\n", $1, $2, $3, $4, $5}' >"$T/clean.ndjson"

# --- time windows over HTTP: 1 s windows, at least 20 records -------------
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "window": {"records": 100000, "seconds": 1, "min_records": 20, "sample": 1000}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
head -n 30 "$T/clean.ndjson" >"$T/30.ndjson"
head -n 5 "$T/clean.ndjson" >"$T/5.ndjson"
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/30.ndjson"
expect_code 202 "30 records"
sleep 1.6
wait_until 10 status_is windows_evaluated=1 && ok || fail "window 1 not evaluated"
expect_body_json last_evaluation.window.id=1 last_evaluation.window.records=30 last_evaluation.window.sampled=30
# too few records: the window is extended, visible in status
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/5.ndjson"
sleep 1.6
http GET /v1/status
expect_body_json windows_evaluated=1
expect_body_json window.id=2 window.records=5 window.sampled=5 'type(window.start)=string' window.extended=true
grep -q 'window 2 extended: 5 records, fewer than window.min_records (20)' "$T/daemon.log" && ok || fail "no extension in the log"
# enough records now: it closes at once
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/30.ndjson"
wait_until 10 status_is windows_evaluated=2 && ok || fail "window 2 not evaluated"
# it closed when the 20th record arrived; the other 15 opened window 3
expect_body_json window.id=3 window.records=15
expect_body_json last_evaluation.dataset.drift=false
stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC"

# --- stdin input: records piped in, counted and evaluated ---------------------
cat >"$T/s.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/sstate", "listen": "127.0.0.1:0",
 "inputs": [{"type": "stdin", "format": "ndjson"}],
 "window": {"records": 300, "seconds": 3600, "min_records": 10, "sample": 300}}
J
mkfifo "$T/fifo"
"$DRIFTD" run --config "$T/s.json" <"$T/fifo" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
exec 3>"$T/fifo"
i=0; while [ ! -s "$T/sstate/listen" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
URL="http://$(cat "$T/sstate/listen")"
cat "$T/clean.ndjson" >&3
printf '{"sepal_length": oops}\n{"sepal_length": 5.1}' >&3
wait_until 10 status_is 'inputs[type=stdin].records=300' 'inputs[type=stdin].rejected=1' && ok || fail "stdin: 300 records"
wait_until 10 status_is windows_evaluated=1 && ok || fail "stdin window not evaluated"
exec 3>&-   # end of input: the last line without newline still counts

# the daemon reads the end of input when it next runs its loop: wait for it
wait_until 10 grep -q 'stdin: end of input (301 records, 1 rejected)' "$T/daemon.log" && ok ||
    fail "no end-of-input line"
# its only input ended: the last window (1 record, under min_records) is
# evaluated and marked so, the state saved, and the daemon exits 0 by itself
i=0; while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
if kill -0 "$DAEMON_PID" 2>/dev/null; then fail "the daemon did not stop at the end of stdin"; stop_daemon; else
    wait "$DAEMON_PID"; DAEMON_RC=$?; ok; fi
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC"
grep -q 'every input has ended: evaluating the last window (1 record) and stopping' "$T/daemon.log" &&
    ok || fail "no end-of-inputs line"
expect_json "$T/sstate/state.json" windows_evaluated=2 last_evaluation.window.records=1 \
    last_evaluation.window.below_min_records=true 'inputs[name=stdin].records=301' \
    'inputs[name=stdin].rejected=1'
finish
