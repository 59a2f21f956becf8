#!/bin/sh
# state_dir belongs to one daemon (a second one refuses to start, naming
# the directory and the holder's pid); state files are 0600 whatever the
# umask; after kill -9 under load, window ids and the Prometheus counters
# resume at or above what was answered and shown before the kill.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
WRITER=
SECOND=
trap 'for p in $WRITER $SECOND $DAEMON_PID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
sed 1d "$ex/production_clean.csv" | head -n 99 |
    awk -F, '{printf "{\"sepal_length\": %s, \"sepal_width\": %s, \"petal_length\": %s, \"petal_width\": %s, \"species\": \"%s\"}\n", $1, $2, $3, $4, $5}' >"$T/batch.ndjson"
echo '{"sepal_length": ' >>"$T/batch.ndjson" # one rejected record per batch
# Small windows: many close (and are numbered) between two state ticks.
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "window": {"records": 300, "seconds": 3600, "min_records": 1, "sample": 100}}
J

# --- 1. one daemon per state_dir -------------------------------------------
umask 000 # the daemon inherits it; its state files must still be 0600
start_daemon "$T/c.json" || { finish; exit 1; }
umask 022
first=$DAEMON_PID
"$DRIFTD" run --config "$T/c.json" >"$T/second.log" 2>&1 &
SECOND=$!
i=0
while kill -0 "$SECOND" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if kill -0 "$SECOND" 2>/dev/null; then
    fail "a second daemon on the same state_dir is still running after 5 s"
    kill -9 "$SECOND"
fi
wait "$SECOND"
rc=$?
SECOND=
[ "$rc" -ne 0 ] && ok || fail "the second daemon exited 0"
if grep -q "$T/state" "$T/second.log" && grep -q "pid $first" "$T/second.log"; then ok; else
    fail "the second daemon's error names neither $T/state nor pid $first: $(cat "$T/second.log")"
fi
grep -q 'ready' "$T/second.log" && fail "the second daemon got ready" || ok
[ "$(cat "$T/state/listen")" = "$ADDR" ] && ok || fail "the second daemon rewrote the listen file"
http GET /healthz
expect_code 200 "the first daemon after the second one's attempt"

# --- 2. state files are 0600 under umask 000 --------------------------------
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/batch.ndjson"
expect_code 202 "a batch"
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC after SIGTERM"
for f in state.json lock; do
    m=$(stat -c %a "$T/state/$f" 2>/dev/null)
    [ "$m" = 600 ] && ok || fail "$f has mode ${m:-(missing)} under umask 000, want 600"
done

# --- 3. kill -9 under load: nothing answered or shown goes back ---------------
# metric NAME LABELS: its value in $T/metrics (-1 when missing).
metric() {
    awk -v k="$1{$2}" '$1 == k { v = $2 } END { print v == "" ? -1 : v }' "$T/metrics"
}
# snapshot: counters from /metrics and the window id from /v1/status.
snapshot() {
    curl -sf -m 5 "$URL/metrics" >"$T/metrics" || : >"$T/metrics"
    rec=$(metric driftd_records_received_total 'model="iris",input="http"')
    rej=$(metric driftd_records_rejected_total 'model="iris",input="http",reason="invalid_json"')
    smp=$(metric driftd_records_sampled_total 'model="iris"')
    win=$(metric driftd_windows_evaluated_total 'model="iris"')
    http GET /v1/status
    wid=$(json "$T/body" window.id)
}
# at_least WHAT NOW BEFORE
at_least() {
    if [ "${2:--1}" -ge "$3" ] 2>/dev/null; then ok; else
        fail "round $round: $1 is ${2:-?} after kill -9 and restart, was $3 before"; fi
}
: >"$T/accepted"
for round in 1 2; do
    start_daemon "$T/c.json" || { finish; exit 1; }
    # The writer posts until the daemon is gone and notes each 202's count.
    (
        while curl -sf -m 5 -H 'Content-Type: application/x-ndjson' \
            --data-binary @"$T/batch.ndjson" "$URL/v1/ingest" >"$T/w.out"; do
            json "$T/w.out" accepted >>"$T/accepted"

        done
    ) &
    WRITER=$!
    sleep 1.2
    snapshot
    stop_daemon KILL
    wait "$WRITER"
    WRITER=
    b_rec=$rec b_rej=$rej b_smp=$smp b_win=$win b_wid=$wid
    [ "$b_win" -gt 0 ] && [ "$b_rej" -gt 0 ] && ok || fail "round $round: no load before the kill"
    answered=$(awk '{ s += $1 } END { print s + 0 }' "$T/accepted")
    start_daemon "$T/c.json" || { finish; exit 1; }
    snapshot
    at_least "records received" "$rec" "$answered"
    at_least "records received" "$rec" "$b_rec"
    at_least "records rejected" "$rej" "$b_rej"
    at_least "records sampled" "$smp" "$b_smp"
    at_least "windows evaluated" "$win" "$b_win"
    at_least "the window id (past the one open at the kill)" "$wid" $((b_wid + 1))
    echo "state: round $round: $answered records answered 202; before/after kill -9: received $b_rec/$rec, windows $b_win/$win, window id $b_wid/$wid"
    stop_daemon TERM
done
if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi
finish
