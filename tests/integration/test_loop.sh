#!/bin/sh
# The closed loop end to end (docs/loop.md), against the project's mock of
# GitHub's REST API (runs that move queued -> in_progress -> completed, an
# artifact listing, a 302 to a second loopback server standing in for the
# storage host, which fails the test if it sees an Authorization header)
# and real zip files made here:
#  1. on_success: clean traffic, drifted traffic, alert, dispatch, the run
#     completes, the baseline built from the drifted distribution is
#     fetched, staged and adopted at the next window boundary; the same
#     drifted traffic then evaluates clean; the alert resolved with
#     resolved_by naming the run; the timeline; a restart keeps the adopted
#     baseline; rollback returns to the old one.
#  2. manual: staged, then POST /v1/baseline/adopt.   3. off: nothing fetched.
#  4. on_version: adopted once records carry the new model_version; records
#     of the new version are kept out of the old baseline's window.
#  5. Each failure (failed run, no artifact, expired, bad zip, over-size,
#     digest mismatch, not a baseline, features changed) keeps the active
#     baseline, says failed with the reason, alerts adoption_failed with the
#     run URL, and keeps the episode open.
#  6. POST /v1/baseline from outside (?adopt=true), and its errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
here=$(cd "$(dirname "$0")" && pwd)
ex="$SRCDIR/examples/iris"
need_python "the mock GitHub API"
GH_PID=
RCV_PID=
trap 'for p in $DAEMON_PID $GH_PID $RCV_PID; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null || fail "baseline"
# the retrained model's baseline: the drifted distribution, labelled as the workflow does
"$DRIFTD" baseline -i "$ex/production_drift.csv" -o "$T/new.json" \
    --label model_version=run-7 --label git_sha=abc123 2>/dev/null || fail "new baseline"
cut -d, -f1-4 "$ex/production_drift.csv" >"$T/four.csv"
"$DRIFTD" baseline -i "$T/four.csv" -o "$T/four.json" 2>/dev/null || fail "4-feature baseline"
OLD=$(sha256sum "$T/base.json" | cut -c1-64)
NEW=$(sha256sum "$T/new.json" | cut -c1-64)
OLD12=$(echo "$OLD" | cut -c1-12)
NEW12=$(echo "$NEW" | cut -c1-12)

# zip NAME MEMBER-FILE [ARCNAME]: a zip as the workflow uploads it
zip_of() { artifact_zip "$T/$1" "$2" "${3:-}"; }
zip_of good.zip "$T/new.json"
zip_of four.zip "$T/four.json"
zip_of notbaseline.zip "$ex/train.csv"
printf 'TOKEN-loop-test\n' >"$T/gh-token"

"$PY" "$here/mock_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.log" &
RCV_PID=$!
"$PY" "$here/mock_github.py" --port-file "$T/gh.port" --storage-port-file "$T/st.port" \
    --log "$T/gh.log" --token-file "$T/gh-token" --ref main --artifact-zip "$T/good.zip" &
GH_PID=$!
wait_until 10 test -s "$T/gh.port" || { fail "mock GitHub did not start"; finish; exit 1; }
wait_until 10 test -s "$T/rcv.port" || { fail "mock receiver did not start"; finish; exit 1; }
GH_URL="http://127.0.0.1:$(cat "$T/gh.port")"
RCV_PORT=$(cat "$T/rcv.port")
mock() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$2" "$GH_URL$1"; }

# config NAME MODE [EXTRA_ADOPT] [INPUT_EXTRA]
config() {
    cat >"$T/$1.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/$1",
 "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"${4:-}}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 5000},
 "alerts": {"sinks": [{"type": "log"}, {"type": "webhook", "url": "http://127.0.0.1:$RCV_PORT/$1"}]},
 "retrain": {"github": {"api_url": "$GH_URL", "repository": "owner/repo",
                        "workflow": "retrain.yml", "ref": "main", "token_file": "$T/gh-token"},
             "consecutive": 1, "cooldown_seconds": 86400, "follow_seconds": 1,
             "adopt": {"mode": "$2"${3:-}}}}
J
}
post() { # post FILE [QUERY]: ingest a CSV file
    http POST "/v1/ingest${2:-}" -H 'Content-Type: text/csv' --data-binary @"$1"
    expect_code 202 "ingest $(basename "$1")"
}
evaluate() { # evaluate WANT_DRIFT WHAT
    http POST /v1/evaluate
    expect_code 200 "evaluate ($2)"
    expect_body_json "dataset.drift=$1"
}
adoption_is() { status_is "retrain.run.adoption.status=$1"; }
# webhook bodies the receiver got on PATH with this status (firing, resolved, adoption_failed)
hooks() { jsonl_count "$T/rcv.log" "path=/$1" "body.status=$2"; }
has_hook() { [ "$(hooks "$1" "$2")" -ge 1 ]; }
events() { curl -s "$URL/v1/events" | "$PY" -c 'import json,sys; print(" ".join(e["event"] for e in reversed(json.load(sys.stdin)["events"])))'; }

# --- 1. on_success: the whole loop --------------------------------------------
config succ on_success
start_daemon "$T/succ.json" || { finish; exit 1; }
post "$ex/production_clean.csv"
evaluate false "clean traffic"
post "$ex/production_drift.csv"
evaluate true "drifted traffic"
wait_until 15 adoption_is staged && ok || fail "the run's baseline was not staged: $(curl -s "$URL/v1/status" | json_in retrain.run 2>&1)"
[ "$(hooks succ firing)" -ge 1 ] && ok || fail "no firing webhook"
status_is "baseline.sha256=$OLD" "baseline.staged[0].sha256=$NEW" "baseline.staged[0].source=run" \
    "baseline.staged[0].model_version=run-7" && ok || fail "staged: $(curl -s "$URL/v1/status" | json_in baseline)"
[ -f "$T/succ/baselines/$NEW.json" ] && ok || fail "not kept in state_dir/baselines"
cmp -s "$T/succ/baselines/$NEW.json" "$T/new.json" && ok || fail "the kept baseline differs from the built one"
# the next window boundary: that window against the old baseline, then the swap
post "$ex/production_drift.csv"
evaluate true "the boundary window, still against the old baseline"
wait_until 10 status_is "baseline.sha256=$NEW" && ok || fail "not adopted at the boundary: $(curl -s "$URL/v1/status" | json_in baseline.id retrain.run)"
status_is baseline.source.kind=run retrain.run.adoption.status=adopted "baseline.previous=$OLD" \
    baseline.model_version=run-7 && ok || fail "status after adoption: $(curl -s "$URL/v1/status" | json_in baseline retrain.run)"
# the same drifted traffic is clean against the baseline built from it
post "$ex/production_drift.csv"
evaluate false "the same drifted traffic against the new baseline"
wait_until 10 has_hook succ resolved &&
    ok || fail "no resolved webhook"
"$PY" - "$T/rcv.log" "$NEW12" >"$T/resolved.json" <<'P' || fail "resolved body"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = r.get("body") or {}
    if r.get("path") == "/succ" and b.get("status") == "resolved":
        print(json.dumps(b)); break
P
expect_json "$T/resolved.json" "resolved_by.baseline=$NEW12"
run_url=$(json "$T/resolved.json" resolved_by.run_url)
case "$run_url" in http*/actions/runs/*) ok ;; *) fail "resolved_by.run_url: $run_url" ;; esac
corr=$(json "$T/resolved.json" resolved_by.correlation_id)
case "$corr" in driftd-*) ok ;; *) fail "resolved_by.correlation_id: $corr" ;; esac
[ "$(events)" = "dispatched run_started run_completed baseline_staged baseline_adopted" ] && ok ||
    fail "timeline: $(events)"
http GET /metrics
grep -q "driftd_baseline_info{model=\"iris\",sha256=\"$NEW12\",source=\"run\",model_version=\"run-7\"} 1" "$T/body" &&
    grep -q 'driftd_baseline_adoptions_total{model="iris",result="adopted"} 1' "$T/body" &&
    grep -q 'driftd_retrain_runs_total{model="iris",conclusion="success"} 1' "$T/body" && ok ||
    fail "metrics: $(grep -E 'baseline_info|adoptions|runs_total' "$T/body")"
[ "$(curl -s "$GH_URL/_mock/errors" | json_in errors)" = "[]" ] && ok ||
    fail "the storage host saw an Authorization header: $(curl -s "$GH_URL/_mock/errors")"
# a restart keeps the adopted baseline and says so
stop_daemon
start_daemon "$T/succ.json" || { finish; exit 1; }
wait_until 10 grep -q "ready: .*baseline $T/succ/baselines/$NEW.json (the adopted baseline $NEW12, model_version run-7, from http" \
    "$T/daemon.log" && ok || fail "ready line: $(grep ready "$T/daemon.log" | tail -1)"
status_is "baseline.sha256=$NEW" baseline.source.kind=run && ok || fail "restart lost the adopted baseline"
post "$ex/production_drift.csv"
evaluate false "after the restart"
# rollback returns to the old one
http POST /v1/baseline/rollback
expect_code 200 rollback
status_is "baseline.sha256=$OLD" baseline.source.kind=file "baseline.previous=$NEW" && ok || fail "rollback"
post "$ex/production_drift.csv"
evaluate true "drifted traffic against the old baseline again"
http POST /v1/baseline/rollback
expect_code 200 "rollback of the rollback"
status_is "baseline.sha256=$NEW" && ok || fail "rollback twice"
stop_daemon

# on_success across a restart: a staged baseline still waits for the next boundary
config succ2 on_success
start_daemon "$T/succ2.json" || { finish; exit 1; }
post "$ex/production_drift.csv"
evaluate true "on_success, restart: drift"
wait_until 15 adoption_is staged && ok || fail "on_success, restart: not staged"
stop_daemon
start_daemon "$T/succ2.json" || { finish; exit 1; }
status_is "baseline.sha256=$OLD" "baseline.staged[0].sha256=$NEW" && ok || fail "on_success, restart: lost the staged one"
post "$ex/production_drift.csv"
evaluate true "on_success, restart: the boundary window"
wait_until 10 status_is "baseline.sha256=$NEW" && ok || fail "on_success, restart: not adopted at the boundary"
stop_daemon

# --- 2. manual -----------------------------------------------------------------
config man manual
start_daemon "$T/man.json" || { finish; exit 1; }
post "$ex/production_drift.csv"
evaluate true "manual: drift"
wait_until 15 adoption_is staged && ok || fail "manual: not staged"
post "$ex/production_drift.csv"
evaluate true "manual: a boundary does not adopt"
status_is "baseline.sha256=$OLD" && ok || fail "manual adopted on its own"
http POST /v1/baseline/adopt -d '{"sha256": "0000000000ff"}'
expect_code 404 "adopt of an unknown sha"
http POST /v1/baseline/adopt -d '{}'
expect_code 400 "adopt without sha256"
http POST /v1/baseline/adopt -d "{\"sha256\": \"$NEW12\"}"
expect_code 200 "adopt"
status_is "baseline.sha256=$NEW" retrain.run.adoption.status=adopted && ok || fail "manual adopt"
wait_until 5 has_hook man resolved &&
    ok || fail "manual: no resolved webhook"
stop_daemon

# --- 3. off ------------------------------------------------------------------------
n_art() { jsonl_count "$T/gh.log" kind=artifacts; }
before=$(n_art)
config off off
start_daemon "$T/off.json" || { finish; exit 1; }
post "$ex/production_drift.csv"
evaluate true "off: drift"
wait_until 15 sh -c "curl -s '$URL/v1/events' | grep -q run_completed" && ok || fail "off: run not followed"
sleep 1
[ "$(n_art)" = "$before" ] && ok || fail "off: the artifact was fetched"
status_is "baseline.sha256=$OLD" 'baseline.staged=[]' && ok || fail "off: something staged"
stop_daemon

# --- 4. on_version ------------------------------------------------------------------
# with_version IN OUT VERSION: the CSV with a model_version column
with_version() { awk -v v="$3" 'NR == 1 { print $0 ",model_version"; next } { print $0 "," v }' "$1" >"$2"; }
with_version "$ex/production_clean.csv" "$T/clean-old.csv" run-1
with_version "$ex/production_drift.csv" "$T/drift-old.csv" run-1
with_version "$ex/production_drift.csv" "$T/drift-new.csv" run-7
config ver on_version '' ', "version_field": "model_version"'
start_daemon "$T/ver.json" || { finish; exit 1; }
post "$T/drift-old.csv"
evaluate true "on_version: drift"
wait_until 15 adoption_is staged && ok || fail "on_version: not staged"
status_is retrain.run.adoption.message~run-7 2>/dev/null || curl -s "$URL/v1/status" | json_in retrain.run.adoption.message | grep -q run-7 && ok ||
    fail "on_version: the message does not name the version awaited"
# records of the new version are counted but kept out of the old baseline's window
post "$T/drift-new.csv"
status_is window.records=0 "baseline.sha256=$OLD" && ok || fail "on_version: new-version records went into the old window: $(curl -s "$URL/v1/status" | json_in window)"
http GET /metrics
grep -q 'driftd_records_by_version_total{model="iris",version="run-7"} 300' "$T/body" &&
    grep -q 'driftd_records_by_version_total{model="iris",version="run-1"} 300' "$T/body" && ok ||
    fail "on_version: by-version counts: $(grep by_version "$T/body")"
# a window with 150 old records and 300 new: share 0.67 >= 0.5, adopted at its boundary
sed -n '1,151p' "$T/clean-old.csv" >"$T/clean-old150.csv"
post "$T/clean-old150.csv"
post "$T/drift-new.csv"
status_is window.records=150 && ok || fail "on_version: the old window holds $(curl -s "$URL/v1/status" | json_in window.records)"
evaluate false "on_version: the boundary window (old records, clean)"
wait_until 10 status_is "baseline.sha256=$NEW" && ok || fail "on_version: not adopted at the boundary: $(curl -s "$URL/v1/status" | json_in baseline.id retrain.run)"
# now the new version's drifted traffic is clean, and old-version records are kept out
post "$T/drift-new.csv"
post "$T/drift-old.csv"
status_is window.records=300 && ok || fail "on_version: after the adoption the window holds $(curl -s "$URL/v1/status" | json_in window.records)"
evaluate false "on_version: the new version against its own baseline"
stop_daemon

# --- 5. failures ---------------------------------------------------------------------
good_artifact="{\"zip_path\": \"$T/good.zip\", \"expired\": false, \"missing\": false, \"digest\": \"auto\"}"
# fail_case NAME WHY-PATTERN [MOCK-RUNS-JSON] [MOCK-ARTIFACT-JSON] [EXTRA_ADOPT]
fail_case() {
    mock /_mock/runs "${3:-{\"conclusion\": \"success\"\}}" >/dev/null
    mock /_mock/artifact "$good_artifact" >/dev/null
    [ -n "${4:-}" ] && mock /_mock/artifact "$4" >/dev/null
    config "$1" on_success "${5:-}"
    start_daemon "$T/$1.json" || return
    post "$ex/production_drift.csv"
    evaluate true "$1: drift"
    if wait_until 15 adoption_is failed; then ok; else
        fail "$1: adoption not failed: $(curl -s "$URL/v1/status" | json_in retrain.run)"; stop_daemon; return
    fi
    msg=$(curl -s "$URL/v1/status" | json_in retrain.run.adoption.message)
    echo "$msg" | grep -Eq "$2" && ok || fail "$1: reason '$msg' does not match '$2'"
    status_is "baseline.sha256=$OLD" 'baseline.staged=[]' && ok || fail "$1: the active baseline changed"
    wait_until 5 has_hook $1 adoption_failed &&
        ok || fail "$1: no adoption_failed webhook"
    [ "$(jsonl_count "$T/rcv.log" "path=/$1" body.status=resolved)" = 0 ] && ok || fail "$1: the episode resolved"
    status_is alerts.firing=true && ok || fail "$1: not firing any more"
    curl -s "$URL/v1/events" | grep -q adoption_failed && ok || fail "$1: no adoption_failed event"
    stop_daemon
}
fail_case failedrun 'the run concluded failure' '{"conclusion": "failure"}'
fail_case noart 'no artifact|not found' '' '{"missing": true}'
fail_case expired 'expired' '' '{"expired": true}'
"$PY" -c "import sys; open(sys.argv[1],'wb').write(b'PK\x03\x04 this is no zip at all'*20)" "$T/bad.zip"
fail_case badzip 'zip' '' "{\"zip_path\": \"$T/bad.zip\"}"
head -c 300000 /dev/urandom >"$T/big.bin"
zip_of big.zip "$T/big.bin"
fail_case oversize 'larger|limit|max_bytes|too large' '' "{\"zip_path\": \"$T/big.zip\"}" ', "max_bytes": 65536'
fail_case digest 'does not match the listing' '' '{"digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}'
fail_case notbaseline 'baseline|JSON|json' '' "{\"zip_path\": \"$T/notbaseline.zip\"}"
fail_case features 'allow_feature_changes' '' "{\"zip_path\": \"$T/four.zip\"}"
mock /_mock/artifact "$good_artifact" >/dev/null

# --- 6. POST /v1/baseline from outside ---------------------------------------------
config api manual
start_daemon "$T/api.json" || { finish; exit 1; }
http POST /v1/baseline --data-binary 'not a baseline'
expect_code 422 "a body that is no baseline"
http POST /v1/baseline --data-binary @"$T/four.json"
expect_code 422 "a baseline without a configured feature"
http POST /v1/baseline --data-binary @"$T/new.json"
expect_code 202 "staged from outside"
status_is "baseline.sha256=$OLD" "baseline.staged[0].sha256=$NEW" baseline.staged[0].source=api && ok || fail "api staged"
http POST "/v1/baseline?adopt=true" --data-binary @"$T/new.json"
expect_code 200 "adopt=true"
status_is "baseline.sha256=$NEW" baseline.source.kind=api && ok || fail "api adopted"
http POST /v1/baseline?adopt=maybe --data-binary @"$T/new.json"
expect_code 400 "adopt=maybe"
stop_daemon
finish
