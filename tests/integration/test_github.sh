#!/bin/sh
# Retraining through GitHub's workflow_dispatch, against a local mock of the
# REST API (mock_github.py) that checks path, method, every header, the body
# shape, string inputs and at most 25 inputs, and logs every request:
#  1. consecutive=2: the first drifted window does not dispatch, the second
#     does; a scripted 500 is retried, a 403 secondary rate limit with
#     retry-after: 2 is waited out (gap >= 2 s), then 200 with the run id;
#     the run is followed to completed/success; exactly one dispatch per
#     episode; none inside the cooldown, also after a restart.
#  2. dry_run logs the request and sends nothing.
#  3. 422 "Unexpected inputs provided" is not retried: status, dead letter,
#     a retrain_failed alert to the webhook sink.
#  4. 429 with x-ratelimit-remaining: 0 waits for x-ratelimit-reset; a 204
#     is followed through the runs list (display_title has the correlation id).
#  5. The token appears nowhere: daemon log, status, metrics, state dirs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
here=$(cd "$(dirname "$0")" && pwd)
ex="$SRCDIR/examples/iris"
need_python "the mock GitHub API"
GH_PID=
RCV_PID=
trap 'for p in $DAEMON_PID $GH_PID $RCV_PID; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

# Dispatch requests the mock received (all, or those with HTTP status $1).
n_dispatch() {
    if [ $# -eq 0 ]; then jsonl_count "$T/gh.log" kind=dispatch
    else jsonl_count "$T/gh.log" kind=dispatch "status=$1"; fi
}
n_requests() { jsonl_count "$T/gh.log" 'kind!=control'; }
at_least() { [ "$($1)" -ge "$2" ]; }
# Keep every status and metrics answer for the token grep at the end.
status() { http GET /v1/status; cat "$T/body" >>"$T/seen"; }
metrics() { http GET /metrics; cat "$T/body" >>"$T/seen"; }
status_is() { status; json_is "$T/body" "$@"; }
drift_window() {
    http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_drift.csv"
    expect_code 202 "ingest drifted data ($1)"
    http POST /v1/evaluate
    expect_code 200 "evaluate ($1)"
    expect_body_json dataset.drift=true
    cp "$T/body" "$T/report"
}
# config NAME STATE_DIR DRY_RUN CONSECUTIVE [EXTRA_INPUTS]
config() {
    _inputs=
    [ -n "${5:-}" ] && _inputs=", \"inputs\": {\"model\": \"\${model}\", \"drifted_features\": \"\${drifted_features}\", \"drift_share\": \"\${drift_share}\", \"window_end\": \"\${window_end}\", \"correlation_id\": \"\${correlation_id}\", $5}"
    cat >"$T/$1" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$2",
 "listen": "127.0.0.1:0",
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 5000},
 "alerts": {"sinks": [{"type": "log"}, {"type": "webhook", "url": "http://127.0.0.1:$RCV_PORT/hook"}]},
 "retrain": {"github": {"api_url": "$GH_URL", "repository": "owner/repo",
                        "workflow": "retrain.yml", "ref": "main",
                        "token_file": "$T/gh-token"$_inputs},
             "consecutive": $4, "cooldown_seconds": 86400, "dry_run": $3,
             "follow_seconds": 1, "adopt": {"mode": "off"}}}
J
}

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null || fail "baseline"
# A token no other string in the test contains; any length must work.
TOKEN="ghp_mOcKtOkEn$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')XyZ"
printf '%s\n' "$TOKEN" >"$T/gh-token"
: >"$T/seen"

"$PY" "$here/mock_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.log" &
RCV_PID=$!
"$PY" "$here/mock_github.py" --port-file "$T/gh.port" --log "$T/gh.log" \
    --token-file "$T/gh-token" --ref main \
    --declared-inputs model,drifted_features,drift_share,window_end,correlation_id \
    --respond 500 \
    --respond '403;retry-after=2;message=You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' \
    --respond '200;run_details=1' &
GH_PID=$!
wait_until 10 test -s "$T/gh.port" || { fail "mock GitHub did not start"; finish; exit 1; }
wait_until 10 test -s "$T/rcv.port" || { fail "mock receiver did not start"; finish; exit 1; }
GH_URL="http://127.0.0.1:$(cat "$T/gh.port")"
RCV_PORT=$(cat "$T/rcv.port")

# --- 0. the mock's own checks bite (or passing them would prove nothing) ----
D="$GH_URL/repos/owner/repo/actions/workflows/retrain.yml/dispatches"
good_h() { curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.github+json' \
    -H "Authorization: Bearer $TOKEN" -H 'X-GitHub-Api-Version: 2022-11-28' -A driftd/0.1.0 "$@"; }
many=$(awk 'BEGIN { for (i = 0; i < 26; i++) printf "%s\"i%d\": \"v\"", i ? ", " : "", i }')
[ "$(good_h -H 'Content-Type: application/json' -d '{"ref": "main", "inputs": {"model": 1}}' "$D")" = 422 ] &&
    ok || fail "mock accepts a number input"
[ "$(good_h -H 'Content-Type: application/json' -d "{\"ref\": \"main\", \"inputs\": {$many}}" "$D")" = 422 ] &&
    ok || fail "mock accepts 26 inputs"
[ "$(good_h -H 'Content-Type: application/json' -d '{"inputs": {}}' "$D")" = 422 ] &&
    ok || fail "mock accepts a body without ref"
[ "$(good_h -d '{"ref": "main"}' "$D")" = 422 ] && ok || fail "mock accepts a form content type"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' -H 'Content-Type: application/json' \
    -d '{"ref": "main"}' "$D")" = 401 ] && ok || fail "mock accepts a wrong token"
[ "$(good_h -X GET "$D")" = 404 ] && ok || fail "mock accepts GET on dispatches"
[ "$(jsonl_count "$T/gh.log" valid=false)" -eq 6 ] && ok || fail "mock did not log 6 invalid requests"
if grep -q "$TOKEN" "$T/gh.log"; then fail "the mock logged the token"; else ok; fi
: >"$T/gh.log"
# driftd itself refuses a configuration with more than 25 inputs
config c26.json "$T/state-26" false 1 "$(awk 'BEGIN { for (i = 0; i < 21; i++) printf "%s\"x%d\": \"${model}\"", i ? ", " : "", i }')"
expect_rc 2 "$DRIFTD" validate --config "$T/c26.json"
expect_err 'retrain.github.inputs.*26 inputs; GitHub accepts at most 25'
cat "$T/out" "$T/err" >>"$T/seen"

# --- 1. consecutive=2, retries, rate limit, run followed, cooldown ----------
config c1.json "$T/state" false 2
start_daemon "$T/c1.json" || { finish; exit 1; }
drift_window "first drifted window"
sleep 1.5
[ "$(n_requests)" -eq 0 ] && ok || fail "the first drifted window dispatched (consecutive=2)"
status
expect_body_json retrain.consecutive_drift=1 retrain.consecutive=2
expect_body_json 'type(retrain.last_result)=null'

drift_window "second drifted window"
expected_features=$("$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(",".join(f["name"] for f in r["features"] if f["drift"]))' "$T/report")
# while the retries go on, the dispatch waits in the spool: keep a copy for
# the token grep (the spool holds the body only; the token is added per request)
has_spool() { ls "$T/state/spool/"*-github.json >/dev/null 2>&1; }
wait_until 5 has_spool && ok || fail "the pending dispatch is not in the spool"
mkdir -p "$T/spool-copy" && cp "$T/state/spool/"*-github.json "$T/spool-copy/" 2>/dev/null
wait_until 20 at_least "n_dispatch 200" 1 || fail "no accepted dispatch within 20 s"
wait_until 10 status_is retrain.run.id=7001 retrain.run.status=completed ||
    fail "the run was not followed to completed"
status
expect_body_json retrain.run.id=7001 retrain.run.status=completed retrain.run.conclusion=success 'len(retrain.run)=3'
expect_body_json retrain.last_result.status=ok retrain.last_result.http_status=200
expect_body_json retrain.last_run_url=https://github.com/owner/repo/actions/runs/7001
expect_body_json 'retrain.last_dispatch_at~^[0-9T:-]+Z$' 'retrain.cooldown_until~^[0-9T:-]+Z$'
metrics
expect_body '^driftd_retrain_dispatches_total\{model="iris",result="ok"\} 1$'
"$PY" "$here/mock_github.py" report "$T/gh.log" >"$T/gh.tsv"
awk -F'\t' '$1 == "dispatch"' "$T/gh.tsv" >"$T/d.tsv"
[ "$(awk -F'\t' '{ print $2 }' "$T/d.tsv" | tr '\n' ' ')" = "500 403 200 " ] && ok ||
    fail "dispatch answers were $(awk -F'\t' '{ print $2 }' "$T/d.tsv" | tr '\n' ' '), want 500 403 200"
[ "$(awk -F'\t' '$3 == 1 && $5 == 1' "$T/d.tsv" | wc -l)" -eq 3 ] && ok ||
    { fail "invalid dispatch requests"; cat "$T/d.tsv" >&2; }
[ "$(awk -F'\t' '{ print $6 }' "$T/d.tsv" | sort -u | wc -l)" -eq 1 ] && ok ||
    fail "the retries carry different correlation ids"
corr=$(awk -F'\t' 'NR == 1 { print $6 }' "$T/d.tsv")
echo "$corr" | grep -Eq '^driftd-2-[0-9a-f]+$' && ok || fail "correlation id $corr"
gaps=$(awk -F'\t' 'NR > 1 { printf "%.3f ", $4 - t } { t = $4 }' "$T/d.tsv")
echo "dispatch gaps (s): $gaps"
echo "$gaps" | awk '{ exit !($1 >= 0.95) }' && ok || fail "retry after the 500 came too soon ($gaps)"
# (50 ms of slack: libevent dates a timer from the time cached when the loop
# woke, which can be a moment before the answer was read; we measured 2.999)
echo "$gaps" | awk '{ exit !($2 >= 1.95) }' && ok || fail "retry-after: 2 not waited out ($gaps)"
# the body of the accepted dispatch, field by field
jsonl "$T/gh.log" kind=dispatch | tail -1 >"$T/last"
"$PY" - "$T/last" "$expected_features" >"$T/check" 2>&1 <<'P' && ok || { fail "dispatch body"; cat "$T/check" >&2; }
import json, re, sys
r = json.loads(open(sys.argv[1]).read())
b, h = r["body"], {k.lower(): v for k, v in r["headers"].items()}
errs = []
def want(cond, what):
    if not cond:
        errs.append(what)
want(r["method"] == "POST", "method %s" % r["method"])
want(r["path"] == "/repos/owner/repo/actions/workflows/retrain.yml/dispatches", r["path"])
want(h.get("accept") == "application/vnd.github+json", "accept")
want(h.get("x-github-api-version") == "2022-11-28", "api version")
want(h.get("content-type") == "application/json", "content type")
want(h.get("user-agent") == "driftd/0.1.0", "user agent %s" % h.get("user-agent"))
want(h.get("authorization") == "<expected token>", "authorization")
want(set(b) == {"ref", "inputs"} and b["ref"] == "main", "body keys %s" % sorted(b))
i = b["inputs"]
want(sorted(i) == sorted(["model", "drifted_features", "drift_share", "window_end",
                          "correlation_id"]), "input names %s" % sorted(i))
want(all(isinstance(v, str) for v in i.values()), "non-string input")
want(i.get("model") == "iris", "model %r" % i.get("model"))
want(i.get("drifted_features") == sys.argv[2], "drifted_features %r, want %r"
     % (i.get("drifted_features"), sys.argv[2]))
want(re.fullmatch(r"[01](\.\d+)?", i.get("drift_share", "")), "drift_share %r" % i.get("drift_share"))
want(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", i.get("window_end", "")), "window_end")
print("\n".join(errs))
sys.exit(1 if errs else 0)
P
# the run was followed by id, about every follow_seconds, with valid requests
awk -F'\t' '$1 == "run"' "$T/gh.tsv" >"$T/runs.tsv"
[ "$(wc -l <"$T/runs.tsv")" -ge 3 ] && ok || fail "fewer than 3 polls of the run"
[ "$(awk -F'\t' '$3 != 1' "$T/runs.tsv" | wc -l)" -eq 0 ] && ok || fail "invalid poll requests"
[ "$(jsonl_count "$T/gh.log" kind=run path=/repos/owner/repo/actions/runs/7001)" -ge 1 ] && ok ||
    fail "run not polled at actions/runs/7001"
awk -F'\t' 'NR > 1 && $4 - t < 0.8 { bad = 1 } { t = $4 } END { exit bad }' "$T/runs.tsv" && ok ||
    fail "polls closer than follow_seconds"
grep -q "github: run 7001 completed: success" "$T/daemon.log" && ok || fail "no 'run completed' log line"

drift_window "third drifted window, inside the cooldown"
sleep 1.5
[ "$(n_dispatch)" -eq 3 ] && ok || fail "a dispatch inside the cooldown"
grep -q 'retrain: dataset drift for 3 windows, but the cooldown lasts until' "$T/daemon.log" && ok ||
    fail "no cooldown log line"

# the cooldown survives a restart
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] && ok || fail "SIGTERM exit status $DAEMON_RC"
start_daemon "$T/c1.json" || { finish; exit 1; }
status
expect_body_json retrain.run.id=7001 retrain.run.status=completed retrain.run.conclusion=success 'len(retrain.run)=3'
expect_body_json 'retrain.cooldown_until~^[0-9T:-]+Z$'
drift_window "after restart 1"
drift_window "after restart 2"
sleep 1.5
[ "$(n_dispatch)" -eq 3 ] && ok || fail "a dispatch inside the cooldown after a restart"
status
expect_body_json retrain.consecutive_drift=5 retrain.consecutive=2
ls "$T/state/spool/"*.json >/dev/null 2>&1 && fail "spool not empty after success" || ok
stop_daemon TERM

# --- 2. dry_run: logged, not sent ------------------------------------------
before=$(n_requests)
config c2.json "$T/state-dry" true 1
start_daemon "$T/c2.json" || { finish; exit 1; }
drift_window "dry run"
sleep 1.5
[ "$(n_requests)" -eq "$before" ] && ok || fail "dry_run sent a request to GitHub"
grep -q "github: dry run: POST $GH_URL/repos/owner/repo/actions/workflows/retrain.yml/dispatches .*Authorization: Bearer <token>.*\"correlation_id\": \"driftd-1-" \
    "$T/daemon.log" && ok || fail "dry run not logged with the request"
status
expect_body_json retrain.dry_run=true
expect_body_json retrain.last_result.status=dry_run
metrics
expect_body '^driftd_retrain_dispatches_total\{model="iris",result="dry_run"\} 1$'
stop_daemon TERM

# --- 3. 422: permanent, shown in status, dead letter, retrain_failed alert --
before=$(n_dispatch)
config c3.json "$T/state-422" false 1 '"bogus": "${severity}"'
start_daemon "$T/c3.json" || { finish; exit 1; }
drift_window "422"
wait_until 10 status_is retrain.last_result.status=failed || fail "no failed result in status"
sleep 2.5 # the first retry would have come within 2 s
[ "$(n_dispatch)" -eq $((before + 1)) ] && ok || fail "the 422 was retried ($(n_dispatch) - $before requests)"
[ "$(jsonl "$T/gh.log" kind=dispatch | tail -1 | json_in status)" = 422 ] && ok || fail "mock did not answer 422"

status
expect_body_json retrain.last_result.status=failed retrain.last_result.http_status=422 \
    'retrain.last_result.message=Unexpected inputs provided: ["bogus"]'
metrics
expect_body '^driftd_retrain_dispatches_total\{model="iris",result="failed"\} 1$'
ls "$T/state-422/dead-letter/"*.json >/dev/null 2>&1 && ok || fail "nothing in dead-letter/"
ls "$T/state-422/spool/"*.json >/dev/null 2>&1 && fail "the 422 stayed in the spool" || ok
grep -q 'github: workflow dispatch failed (HTTP 422): Unexpected inputs provided' "$T/daemon.log" && ok ||
    fail "no failure log line"
has_failed_alert() { [ "$(jsonl_count "$T/rcv.log" body.status=retrain_failed)" -ge 1 ]; }
wait_until 5 has_failed_alert || fail "no retrain_failed alert at the webhook"
[ "$(jsonl_count "$T/rcv.log" body.status=retrain_failed 'body.retrain.message~Unexpected inputs provided')" -ge 1 ] && ok ||
    fail "the retrain_failed alert lacks GitHub's message"
stop_daemon TERM

# --- 4. primary rate limit (429, remaining 0, reset), 204, runs list --------
curl -s -o /dev/null -X POST -d '[{"status": 429, "reset_in": 3, "body": {"message": "API rate limit exceeded"}}, {"status": 204}]' \
    "$GH_URL/_mock/script"
before=$(n_dispatch)
config c4.json "$T/state-204" false 1
start_daemon "$T/c4.json" || { finish; exit 1; }
drift_window "204"
wait_until 15 at_least "n_dispatch 204" 1 || fail "no 204 within 15 s"
wait_until 10 status_is 'retrain.run.id>=0' retrain.run.status=completed ||
    fail "the run (found through the runs list) was not followed to completed"
"$PY" "$here/mock_github.py" report "$T/gh.log" | awk -F'\t' '$1 == "dispatch"' | tail -2 >"$T/d4.tsv"
[ "$(awk -F'\t' '{ print $2 }' "$T/d4.tsv" | tr '\n' ' ')" = "429 204 " ] && ok || fail "answers $(cat "$T/d4.tsv")"
gap=$(awk -F'\t' 'NR == 2 { printf "%.3f", $4 - t } { t = $4 }' "$T/d4.tsv")
echo "429 -> retry gap: $gap s"
awk -v g="$gap" 'BEGIN { exit !(g >= 2.0) }' && ok || fail "x-ratelimit-reset not waited for ($gap s)"
corr4=$(awk -F'\t' 'NR == 2 { print $6 }' "$T/d4.tsv")
run4=$(jsonl "$T/gh.log" kind=dispatch | tail -1 | json_in run_id)
[ "$(jsonl_count "$T/gh.log" kind=runs 'query.event=["workflow_dispatch"]')" -ge 1 ] && ok ||
    fail "the runs list was not asked for with event=workflow_dispatch"
[ "$(jsonl_count "$T/gh.log" kind=runs valid=false)" -eq 0 ] && ok || fail "invalid runs-list request"
status
expect_body_json "retrain.run.id=$run4" retrain.run.status=completed retrain.run.conclusion=success 'len(retrain.run)=3'
expect_body_json "retrain.last_result.correlation_id=$corr4"
expect_body_json retrain.last_result.status=ok retrain.last_result.http_status=204

stop_daemon TERM

# --- 4b. retry-after on the first attempt, where the back-off alone stays
# within [1, 2] s: a gap >= 3 s is retry-after's doing, not the jitter's
curl -s -o /dev/null -X POST -d '[{"status": 403, "headers": {"retry-after": "3"}, "body": {"message": "You have exceeded a secondary rate limit."}}, {"status": 204}]' \
    "$GH_URL/_mock/script"
before=$(n_dispatch)
config c5.json "$T/state-ra" false 1
start_daemon "$T/c5.json" || { finish; exit 1; }
drift_window "retry-after first"
wait_until 10 at_least n_dispatch $((before + 2)) || fail "no retry after the 403"
"$PY" "$here/mock_github.py" report "$T/gh.log" | awk -F'\t' '$1 == "dispatch"' | tail -2 >"$T/d5.tsv"
[ "$(awk -F'\t' '{ print $2 }' "$T/d5.tsv" | tr '\n' ' ')" = "403 204 " ] && ok || fail "answers $(cat "$T/d5.tsv")"
gap=$(awk -F'\t' 'NR == 2 { printf "%.3f", $4 - t } { t = $4 }' "$T/d5.tsv")
echo "403 retry-after: 3 -> retry gap: $gap s"
awk -v g="$gap" 'BEGIN { exit !(g >= 2.95) }' && ok || fail "retry-after: 3 not waited out ($gap s)"
stop_daemon TERM

# --- 5. the token appears nowhere ------------------------------------------
"$DRIFTD" validate --config "$T/c1.json" >>"$T/seen" 2>&1
printf '{"model": "x", "baseline": "%s", "retrain": {"github": {"repository": "bad", "token_file": "%s"}}}\n' \
    "$T/base.json" "$T/gh-token" >"$T/bad.json"
"$DRIFTD" validate --config "$T/bad.json" >>"$T/seen" 2>&1
grep -q 'correlation_id' "$T/spool-copy/"*.json && ok || fail "no spooled dispatch to grep"
leaks=$(grep -rl -- "$TOKEN" "$T/daemon.log" "$T/seen" "$T/rcv.log" "$T/gh.log" "$T/spool-copy" \
    "$T/state" "$T/state-dry" "$T/state-422" "$T/state-204" "$T/state-ra" 2>/dev/null)
if [ -n "$leaks" ]; then fail "the token leaked into: $leaks"; else ok; fi
[ -s "$T/seen" ] && ok || fail "nothing collected to grep"
# (a partial match would leak too: the token without its last characters)
short=$(printf '%s' "$TOKEN" | cut -c1-20)
if grep -rq -- "$short" "$T/daemon.log" "$T/seen" "$T/spool-copy" "$T/state"*; then fail "part of the token leaked"; else ok; fi
if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi

finish
