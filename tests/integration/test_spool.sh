#!/bin/sh
# The spool when its file system fails (each spool on a small tmpfs of its
# own, inside a private mount namespace so nothing outlives the test):
#  1. full file system: the alert is still delivered, from memory, counted
#     as not durable, not dropped; once space is back the spool recovers;
#  2. file system remounted read-only after the start: still delivered, the
#     failing directory named;
#  3. replayed entries that cannot be removed (read-only spool at start):
#     each delivered once, not again and again;
#  4. dead letters land in state_dir/dead-letter/ (the interface), and the
#     ones an older driftd left in state_dir/spool/dead-letter/ move there;
#  5. the state file cannot be written (state_dir full): alerts still
#     go out, and as in 1 and 2 /readyz is 503 and /v1/status names what
#     cannot be written until it can again.
# File names surviving a clock that goes back: tests/unit/test_outbox.c.
if [ -z "${DRIFTD_SPOOL_NS:-}" ]; then
    # mount(2) needs root or a user namespace of our own
    if [ "$(id -u)" -eq 0 ]; then ns=--mount; else ns="--user --map-root-user --mount"; fi
    DRIFTD_SPOOL_NS=1 exec unshare $ns --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
here=$(cd "$(dirname "$0")" && pwd)
ex="$SRCDIR/examples/iris"
need_python "the mock receiver"
RCV_PID=
BAD_PID=
MOUNTS=
trap 'for p in $DAEMON_PID $RCV_PID $BAD_PID; do kill "$p" 2>/dev/null; done
      for m in $MOUNTS; do umount -l "$m" 2>/dev/null; done; rm -rf "$T"' EXIT

at_least() { [ "$($1)" -ge "$2" ]; }
replayed() { "$PY" "$here/mock_receiver.py" count "$T/rcv.log" replayed; }
firing() { "$PY" "$here/mock_receiver.py" count "$T/rcv.log" firing; }
n_json() { find "$1" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l; }
# spool_fs STATE_DIR: STATE_DIR/spool is a 64 KiB tmpfs
spool_fs() {
    mkdir -p "$1/spool"
    mount -t tmpfs -o size=64k,mode=0700 tmpfs "$1/spool" || { fail "cannot mount a tmpfs on $1/spool"; finish; exit 1; }
    MOUNTS="$1/spool $MOUNTS"
}
drift_window() {
    http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_drift.csv"
    expect_code 202 "ingest drifted data ($1)"
    http POST /v1/evaluate
    expect_code 200 "evaluate ($1)"
}
# config NAME STATE_DIR RECEIVER_PORT
config() {
    cat >"$T/$1" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$2",
 "listen": "127.0.0.1:0",
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 5000},
 "alerts": {"sinks": [{"type": "log"}, {"type": "webhook", "url": "http://127.0.0.1:$3/hook"}]}}
J
}
# not_ready WHAT: /readyz answers 503 naming WHAT, /v1/status says so too
not_ready() {
    http GET /readyz
    [ "$(cat "$T/code")" = 503 ] && grep -q "$1" "$T/body" || return 1
    http GET /v1/status
    json_is "$T/body" ready=false "not_ready~$1"
}
ready() { http GET /readyz; [ "$(cat "$T/code")" = 200 ]; }
# delivered_anyway WHAT LOG_REGEX NOT_READY: a drifting window's alert
# reaches the receiver although the spool cannot be written, the log says
# why (LOG_REGEX), webhook-1 counts it sent, readiness names NOT_READY
delivered_anyway() {
    before=$(firing)
    drift_window "$1"
    wait_until 10 at_least firing $((before + 1)) && ok ||
        { fail "the alert was not delivered ($1)"; grep -i spool "$T/daemon.log" >&2; }
    grep -q "$2" "$T/daemon.log" && ok || fail "no log line /$2/ ($1)"
    wait_until 5 sink_status 1 && ok || { fail "webhook-1 counters"; json "$T/body" alerts.sinks >&2; }
    not_ready "$3" && ok || { fail "/readyz and /v1/status do not name it ($1)"; cat "$T/body" >&2; }
}
sink_status() {
    status_is "alerts.sinks[name=webhook-1].sent=$1" 'alerts.sinks[name=webhook-1].retried=0' \
        'alerts.sinks[name=webhook-1].failed=0' 'alerts.sinks[name=webhook-1].dropped=0'
}

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null || fail "baseline"
"$PY" "$here/mock_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.log" &
RCV_PID=$!
"$PY" "$here/mock_receiver.py" --port-file "$T/bad.port" --log "$T/bad.log" --default 400 &
BAD_PID=$!
wait_until 10 test -s "$T/rcv.port" || { fail "mock receiver did not start"; finish; exit 1; }
wait_until 10 test -s "$T/bad.port" || { fail "mock receiver did not start"; finish; exit 1; }
RCV_PORT=$(cat "$T/rcv.port")

# --- 1. full file system ------------------------------------------------------
spool_fs "$T/s1"
config c1.json "$T/s1" "$RCV_PORT"
start_daemon "$T/c1.json" || { finish; exit 1; }
dd if=/dev/zero of="$T/s1/spool/fill" bs=1k 2>/dev/null # until ENOSPC
delivered_anyway "full spool" "cannot spool to $T/s1/spool: No space left on device; .*not durable" \
    "$T/s1/spool: No space left on device"
status_is alerts.not_durable=1 && ok || fail "not_durable not counted in /v1/status"

rm -f "$T/s1/spool/fill"
wait_until 8 grep -q "spool $T/s1/spool is writable again" "$T/daemon.log" && ok ||
    fail "the spool did not recover once space was back"
wait_until 5 ready && ok || fail "/readyz still 503 once the spool is writable again"
stop_daemon TERM

# --- 2. read-only after the start ---------------------------------------------
spool_fs "$T/s2"
config c2.json "$T/s2" "$RCV_PORT"
start_daemon "$T/c2.json" || { finish; exit 1; }
mount -o remount,ro "$T/s2/spool" || fail "remount read-only"
delivered_anyway "read-only spool" "cannot spool to $T/s2/spool: Read-only file system" \
    "$T/s2/spool: Read-only file system"
stop_daemon TERM

# --- 3. replayed entries that cannot be removed --------------------------------
spool_fs "$T/s3"
mkdir -p "$T/s3/spool/dead-letter" # where an older driftd kept dead letters
now=$(date +%s)
for i in 1 2; do
    printf '{"target": "webhook-1", "created": %s, "body": "{\\"status\\": \\"replayed\\", \\"n\\": %s}"}\n' \
        "$now" "$i" >"$T/s3/spool/0000000000000000000$i-webhook-1.json"
done
mount -o remount,ro "$T/s3/spool" || fail "remount read-only"
config c3.json "$T/s3" "$RCV_PORT"
start_daemon "$T/c3.json" || { finish; exit 1; }
wait_until 10 at_least replayed 2 || fail "the replayed entries did not arrive"
sleep 3 # room for repeats
n3=$(replayed)
[ "$n3" -eq 2 ] && ok || fail "2 replayed entries that cannot be removed were posted $n3 times"
grep -q "cannot remove $T/s3/spool/00000000000000000001-webhook-1.json: Read-only file system" "$T/daemon.log" && ok ||
    fail "the entry that cannot be removed is not named in the log"
stop_daemon TERM

# --- 4. dead letters in state_dir/dead-letter/ ---------------------------------
mkdir -p "$T/s4/spool/dead-letter"
printf '{"target": "webhook-1", "created": 1, "body": "{}"}\n' >"$T/s4/spool/dead-letter/00000000000000000007-webhook-1.json"
config c4.json "$T/s4" "$(cat "$T/bad.port")"
start_daemon "$T/c4.json" || { finish; exit 1; }
drift_window "receiver answers 400"
wait_until 10 grep -q 'outbox webhook-1: giving up after 1 attempt (HTTP 400' "$T/daemon.log" ||
    fail "the 400 was not given up"
[ "$(n_json "$T/s4/dead-letter")" -eq 2 ] && ok ||
    fail "state_dir/dead-letter/ holds $(n_json "$T/s4/dead-letter") entries, want 2 (the new and the moved one): $(ls -R "$T/s4")"
[ "$(n_json "$T/s4/spool/dead-letter")" -eq 0 ] && ok ||
    fail "dead letters still in state_dir/spool/dead-letter/: $(ls "$T/s4/spool/dead-letter")"
stop_daemon TERM

# --- 5. the state file cannot be written ------------------------------------
mkdir -p "$T/s5"
mount -t tmpfs -o size=256k,mode=0700 tmpfs "$T/s5" || fail "cannot mount a tmpfs on $T/s5"
MOUNTS="$T/s5 $MOUNTS"
spool_fs "$T/s5"
config c5.json "$T/s5" "$RCV_PORT"
start_daemon "$T/c5.json" || { finish; exit 1; }
wait_until 5 ready && ok || fail "/readyz not 200 at start"
dd if=/dev/zero of="$T/s5/fill" bs=1k 2>/dev/null # until ENOSPC (the lock file
# held open makes a read-only remount impossible)
before=$(firing)
drift_window "full state_dir"
wait_until 10 at_least firing $((before + 1)) && ok || fail "no alert while state_dir is full"
wait_until 5 not_ready "$T/s5/state.json" && ok ||
    { fail "/readyz and /v1/status do not name the state file"; cat "$T/body" >&2; }
rm -f "$T/s5/fill"
drift_window "writable again"
wait_until 5 ready && ok || { fail "/readyz still 503 once state_dir is writable"; cat "$T/body" >&2; }
stop_daemon TERM

if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi
finish
