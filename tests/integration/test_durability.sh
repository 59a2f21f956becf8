#!/bin/sh
# Durable delivery across kill -9 (docs/alerts.md, "Delivery: spool,
# retries, dead letters"): notifications are spooled before the first attempt and
# replayed at start; delivery is at-least-once, so duplicates are counted
# and printed, not forbidden.
#  1. The webhook receiver is down (connection refused) and GitHub answers
#     503 while drift fires; driftd is killed with SIGKILL while both are
#     pending; the receiver comes up, GitHub recovers, driftd restarts: the
#     alert and the dispatch arrive, the spool empties, the cooldown holds.
#  2. A slow receiver logs the alert but driftd dies before the answer: the
#     restart sends it again (the duplicate at-least-once allows), counted.
#  3. SIGKILL right after a dispatch was accepted: the cooldown must survive
#     (docs/alerts.md, "Retraining through GitHub Actions").
#  4. A dispatch replayed from the spool with no state.json left (a crash
#     before the first state save) is accepted with 204 and its run is
#     still found in the runs list and followed to completed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
here=$(cd "$(dirname "$0")" && pwd)
ex="$SRCDIR/examples/iris"
need_python "the mock receiver"
GH_PID=
RCV_PID=
SLOW_PID=
trap 'for p in $DAEMON_PID $GH_PID $RCV_PID $SLOW_PID; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

at_least() { [ "$($1)" -ge "$2" ]; }
firing() { "$PY" "$here/mock_receiver.py" count "$1" firing; }
n_dispatch() { jsonl_count "$T/gh.log" kind=dispatch "status=$1"; }
n_spool() { find "$1/spool" -maxdepth 1 -name '*.json' | wc -l; }
spool_empty() { [ "$(n_spool "$1")" -eq 0 ]; }
n_dead() { find "$1/dead-letter" -name '*.json' | wc -l; }
drift_window() {
    http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_drift.csv"
    expect_code 202 "ingest drifted data ($1)"
    http POST /v1/evaluate
    expect_code 200 "evaluate ($1)"
    expect_body_json dataset.drift=true
}
# config NAME STATE_DIR RECEIVER_PORT
config() {
    cat >"$T/$1" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$2",
 "listen": "127.0.0.1:0",
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 5000},
 "alerts": {"sinks": [{"type": "log"}, {"type": "webhook", "url": "http://127.0.0.1:$3/hook"}]},
 "retrain": {"github": {"api_url": "$GH_URL", "repository": "owner/repo",
                        "workflow": "retrain.yml", "ref": "main",
                        "token_file": "$T/gh-token"},
             "consecutive": 1, "cooldown_seconds": 86400, "dry_run": false,
             "follow_seconds": 1, "adopt": {"mode": "off"}}}
J
}

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null || fail "baseline"
TOKEN="ghp_dUrAbLe$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')Tok"
printf '%s\n' "$TOKEN" >"$T/gh-token"
awk 'BEGIN { printf "["; for (i = 0; i < 200; i++) printf "%s{\"status\": 503}", i ? ", " : ""; print "]" }' >"$T/503.json"
"$PY" "$here/mock_github.py" --port-file "$T/gh.port" --log "$T/gh.log" \
    --token-file "$T/gh-token" --ref main --script "$T/503.json" &
GH_PID=$!
"$PY" "$here/mock_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.log" --start-down &
RCV_PID=$!
wait_until 10 test -s "$T/gh.port" || { fail "mock GitHub did not start"; finish; exit 1; }
wait_until 10 test -s "$T/rcv.port" || { fail "mock receiver did not start"; finish; exit 1; }
GH_URL="http://127.0.0.1:$(cat "$T/gh.port")"
RCV_PORT=$(cat "$T/rcv.port")

# --- 1. receiver down, GitHub 503, kill -9 while pending -------------------
config c1.json "$T/state" "$RCV_PORT"
start_daemon "$T/c1.json" || { finish; exit 1; }
drift_window "receiver down"
wait_until 10 grep -q 'outbox webhook-1: attempt 1 failed' "$T/daemon.log" ||
    fail "no failed webhook attempt while the receiver is down"
wait_until 10 grep -q 'outbox github: attempt 1 failed (HTTP 503' "$T/daemon.log" ||
    fail "no failed dispatch while GitHub answers 503"
sleep 1.2 # past a state tick: this part is about the spool, part 3 about the tick
[ "$(n_spool "$T/state")" -eq 2 ] && ok || { fail "spool holds $(n_spool "$T/state") files, want 2"; ls -l "$T/state/spool" >&2; }
ls "$T/state/spool/" >"$T/spool.before"
cp -r "$T/state/spool" "$T/spool-copy" # for the token grep at the end
grep -q -- '-webhook-1\.json$' "$T/spool.before" && grep -q -- '-github\.json$' "$T/spool.before" && ok ||
    fail "spool files: $(cat "$T/spool.before")"
corr=$(jsonl "$T/gh.log" kind=dispatch | head -1 | json_in correlation_id)
stop_daemon KILL
[ "$DAEMON_RC" -eq 137 ] && ok || fail "kill -9 exit status $DAEMON_RC"
[ "$(ls "$T/state/spool/")" = "$(cat "$T/spool.before")" ] && ok || fail "the spool changed across kill -9"
[ "$(firing "$T/rcv.log")" -eq 0 ] && ok || fail "the receiver got an alert while down"

kill -USR2 "$RCV_PID"
wait_until 5 grep -qx up "$T/rcv.port.state" || fail "receiver did not come up"
curl -s -o /dev/null -X POST -d '[]' "$GH_URL/_mock/script" # GitHub recovers: 204
start_daemon "$T/c1.json" || { finish; exit 1; }
wait_until 15 at_least "firing $T/rcv.log" 1 || fail "the alert did not arrive after the restart"
wait_until 15 at_least "n_dispatch 204" 1 || fail "the dispatch did not arrive after the restart"
sleep 2 # room for duplicates to show up
alerts=$(firing "$T/rcv.log")
dispatches=$(n_dispatch 204)
echo "durability: receiver down + kill -9: $alerts firing alert(s) arrived ($((alerts - 1)) duplicate(s)); $dispatches dispatch(es) accepted by GitHub ($((dispatches - 1)) duplicate(s))"
grep -q 'outbox: replaying 2 spooled notifications' "$T/daemon.log" && ok || fail "no replay logged"
"$PY" - "$T/rcv.log" >"$T/check" 2>&1 <<'P' && ok || { fail "the alert that arrived"; cat "$T/check" >&2; }
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
b = [x["body"] for x in r if isinstance(x["body"], dict) and x["body"].get("status") == "firing"][0]
errs = [w for w, c in [
    ("model", b.get("model") == "iris"), ("window 1", b["window"]["id"] == 1),
    ("dataset drift", b["dataset"]["drift"] is True), ("source", b.get("source") == "driftd"),
    ("retrain dispatched", b["retrain"]["dispatched"] is True),
    ("path", r[0]["path"] == "/hook"),
    ("content type", r[0]["headers"].get("Content-Type") == "application/json")] if not c]
print("bad: " + ", ".join(errs) if errs else "ok")
sys.exit(1 if errs else 0)
P
[ "$(jsonl_count "$T/gh.log" kind=dispatch status=204 "correlation_id=$corr")" -ge 1 ] && ok ||
    fail "the accepted dispatch is not the spooled one ($corr)"
[ "$(jsonl_count "$T/gh.log" kind=dispatch valid=false)" -eq 0 ] && ok || fail "invalid dispatch requests"
wait_until 5 spool_empty "$T/state" || fail "spool not empty after delivery: $(ls "$T/state/spool")"
[ "$(n_dead "$T/state")" -eq 0 ] && ok || fail "something went to dead-letter/"
wait_until 10 grep -q 'github: run [0-9]* completed: success' "$T/daemon.log" || fail "run not followed after replay"
# the run's retrain_finished notice is queued as that line is logged: let it
# leave (under valgrind it can still be in flight at the next request)
wait_until 10 status_is 'alerts.sinks[name=webhook-1].queued=0'
http GET /v1/status
cp "$T/body" "$T/status1"
# sent counts the retrain_finished notice too; nothing failed or waits
expect_body_json 'alerts.sinks[name=webhook-1].sent>=1' 'alerts.sinks[name=webhook-1].retried=0' \
    'alerts.sinks[name=webhook-1].failed=0' 'alerts.sinks[name=webhook-1].dropped=0' 'alerts.sinks[name=webhook-1].queued=0'
expect_body_json retrain.last_result.status=ok retrain.last_result.http_status=204
before=$(n_dispatch 204)
drift_window "inside the cooldown after kill -9"
sleep 1.5
[ "$(n_dispatch 204)" -eq "$before" ] && ok || fail "dispatched inside the cooldown after a kill -9"
stop_daemon TERM

# --- 2. slow receiver: the alert arrives, then driftd dies ------------------
"$PY" "$here/mock_receiver.py" --port-file "$T/slow.port" --log "$T/slow.log" --delay 3 &
SLOW_PID=$!
wait_until 10 test -s "$T/slow.port" || fail "slow receiver did not start"
config c2.json "$T/state2" "$(cat "$T/slow.port")"
start_daemon "$T/c2.json" || { finish; exit 1; }
drift_window "slow receiver"
wait_until 5 at_least "firing $T/slow.log" 1 || fail "the slow receiver got nothing"
stop_daemon KILL # the receiver has the alert; driftd has not heard so
[ "$(n_spool "$T/state2")" -ge 1 ] && ok || fail "the in-flight alert is not in the spool"
start_daemon "$T/c2.json" || { finish; exit 1; }
wait_until 15 spool_empty "$T/state2" || fail "spool not empty: $(ls "$T/state2/spool")"
slow=$(firing "$T/slow.log")
echo "durability: kill -9 while the receiver was answering: $slow firing alert(s) arrived ($((slow - 1)) duplicate(s))"
[ "$slow" -ge 1 ] && ok || fail "no alert arrived"
stop_daemon TERM

# --- 3. kill -9 right after an accepted dispatch: the cooldown holds ---------
config c3.json "$T/state3" "$RCV_PORT"
start_daemon "$T/c3.json" || { finish; exit 1; }
before=$(n_dispatch 204)
drift_window "dispatch, then kill -9"
wait_until 5 at_least "n_dispatch 204" $((before + 1)) || fail "no dispatch"
stop_daemon KILL
start_daemon "$T/c3.json" || { finish; exit 1; }
drift_window "after kill -9"
sleep 1.5
# a replay of the same spooled dispatch (same correlation id) is the
# at-least-once duplicate; a second correlation id is a new episode
# dispatched inside the cooldown
jsonl "$T/gh.log" kind=dispatch status=204 -- correlation_id | tail -n +$((before + 1)) >"$T/corr3"
n3=$(wc -l <"$T/corr3")
e3=$(sort -u "$T/corr3" | wc -l)
http GET /v1/status
w3=$(json "$T/body" window.id)
echo "durability: kill -9 within a second of a dispatch: $n3 dispatch(es) accepted, $e3 episode(s) ($(tr '\n' ' ' <"$T/corr3")); current window id $w3 (3 if the numbering survived)"
[ "$e3" -eq 1 ] && ok ||
    fail "the cooldown was lost by a kill -9 within a second of a dispatch: $e3 episodes dispatched (agent/daemon.c maybe_retrain: cooldown_until waits for the 1 s state tick)"
stop_daemon TERM

# --- 4. a replayed dispatch is followed without the state file ---------------
# GitHub answers 503; driftd is killed; state.json is removed, which is the
# disk after a crash before the first state save: only the spool knows the
# dispatch. After the restart GitHub answers 204 without a run id, so the
# run must be found in the runs list by the correlation id of the spooled
# body, created after the dispatch was accepted (not "since 1970").
curl -s -o /dev/null -X POST --data-binary @"$T/503.json" "$GH_URL/_mock/script"
config c4.json "$T/state4" "$RCV_PORT"
start_daemon "$T/c4.json" || { finish; exit 1; }
before=$(n_dispatch 503)
drift_window "replay without state"
wait_until 5 at_least "n_dispatch 503" $((before + 1)) || fail "no 503 dispatch"
corr4=$(jsonl "$T/gh.log" kind=dispatch | tail -1 | json_in correlation_id)
stop_daemon KILL
rm -f "$T/state4/state.json"
curl -s -o /dev/null -X POST -d '[]' "$GH_URL/_mock/script"
runs_before=$(jsonl_count "$T/gh.log" kind=runs)
start_daemon "$T/c4.json" || { finish; exit 1; }
wait_until 15 grep -q "github: workflow dispatched (HTTP 204, correlation id $corr4)" "$T/daemon.log" ||
    fail "the replayed dispatch was not accepted (or logged another correlation id than $corr4)"
wait_until 10 status_is 'retrain.run.id>=0' retrain.run.status=completed retrain.run.conclusion=success 'len(retrain.run)=3' ||
    { fail "the run of the replayed dispatch was not followed to completed"; json "$T/body" retrain >&2; }
jsonl "$T/gh.log" kind=runs | tail -n +$((runs_before + 1)) >"$T/runs4"
[ -s "$T/runs4" ] && ok || fail "the runs list was not asked for"
[ "$(jsonl_count "$T/runs4" 'query.created[0]~^>=19[0-9][0-9]-')" -eq 0 ] && ok ||
    fail "runs list asked for runs created since $(jsonl "$T/runs4" 'query.created[0]~^>=19' -- 'query.created[0]' | head -1)"

stop_daemon TERM

# Notification ids: the alert replayed in part 1 carries the id it was
# spooled with; every delivery of part 2's alert (the kill -9 duplicate too)
# has one id; and no two different notifications share an id.
"$PY" - "$T/rcv.log" "$T/slow.log" "$T/spool-copy" >"$T/ids" 2>&1 <<'P' && ok || { fail "notification ids"; cat "$T/ids" >&2; }
import glob, json, sys
errs = []
rcv, slow = ([json.loads(l)["body"] for l in open(p)] for p in sys.argv[1:3])
spooled = [json.loads(json.load(open(f))["body"]).get("id")
           for f in glob.glob(sys.argv[3] + "/**/*webhook-1*.json", recursive=True)]
first = [b for b in rcv if b.get("status") == "firing"][0]
if spooled != [first.get("id")] or None in spooled:
    errs.append("part 1: spooled with id %s, arrived with %s" % (spooled, first.get("id")))
ids = [b.get("id") for b in slow if b.get("status") == "firing"]
if len(set(ids)) != 1 or None in ids:
    errs.append("part 2: the deliveries of one alert carry ids %s" % ids)
seen = {}
for b in rcv + slow:
    seen.setdefault(b.get("id"), set()).add(json.dumps(b, sort_keys=True))
errs += ["id %s names %d different notifications" % (i, len(v)) for i, v in seen.items() if len(v) > 1]
print("\n".join(errs) if errs else "ok")
print("durability: %d deliveries, %d distinct ids" % (len(rcv + slow), len(seen)))
sys.exit(1 if errs else 0)
P
grep '^durability' "$T/ids"

leaks=$(grep -rl -- "$TOKEN" "$T/daemon.log" "$T/state" "$T/state2" "$T/state3" "$T/state4" "$T/status1" "$T/spool-copy" 2>/dev/null)
if [ -n "$leaks" ]; then fail "the token leaked into: $leaks"; else ok; fi
if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi

finish
