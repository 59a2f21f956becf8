#!/bin/sh
# contrib/: the Prometheus rules and the Grafana dashboard. promtool checks
# the rules and runs their unit tests (which must bite: a broken rule fails
# them), parses every PromQL expression of the dashboard, and every metric a
# rule, a rule test or a panel names must be one this driftd exports. The
# names come from a running daemon's /metrics, read after it evaluated a
# drifted window (before the first evaluation the driftd_feature_* and
# driftd_dataset_* metrics print no # HELP at all), dispatched a retraining
# to the GitHub mock and followed the run to a failed conclusion, so that
# what only a finished run shows is there too. Exits 77 (skipped) only
# where promtool is missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
if ! command -v promtool >/dev/null 2>&1; then
    echo "SKIP: promtool not found (Debian package prometheus, in scripts/install-deps test)"
    exit 77
fi
need_python "contrib/check.py"
C="$SRCDIR/contrib"
RULES="$C/prometheus/driftd-rules.yml"
TESTS="$C/prometheus/driftd-rules.test.yml"
DASH="$C/grafana/driftd-dashboard.json"
check() { "$PY" "$C/check.py" "$@"; }

expect_rc 0 check selftest

# --- the rules ---------------------------------------------------------------
expect_rc 0 promtool check rules --lint=all --lint-fatal "$RULES"
expect_out 'SUCCESS: [1-9][0-9]* rules found'
expect_rc 0 promtool test rules "$TESTS"
expect_out SUCCESS
# The unit tests bite: with DataDriftDetected turned upside down, or the
# rejected share's threshold raised, they fail.
mkdir "$T/broken"
cp "$TESTS" "$T/broken/"
sed 's/driftd_dataset_drift == 1/driftd_dataset_drift == 0/' "$RULES" >"$T/broken/driftd-rules.yml"
expect_rc 1 promtool test rules "$T/broken/driftd-rules.test.yml"
expect_err 'alertname: DataDriftDetected'
sed 's/ratio_rate5m > 0.05/ratio_rate5m > 0.5/' "$RULES" >"$T/broken/driftd-rules.yml"
expect_rc 1 promtool test rules "$T/broken/driftd-rules.test.yml"
expect_err 'alertname: DriftdIngestRejecting'
# What promtool does not check: the six alerts, severity, summary and
# description, a firing and a quiet test of each; the dashboard's import
# inputs, variables, grid and contents.
expect_rc 0 check lint "$RULES" "$TESTS" "$DASH"

# --- every expression of the dashboard parses --------------------------------
expect_rc 0 check dashboard-rules "$DASH" "$T/dash-rules.yml"
n=$(sed -n 's/^\([0-9]*\) expressions .*/\1/p' "$T/out")
expect_rc 0 promtool check rules "$T/dash-rules.yml"
if [ "${n:-0}" -gt 20 ] && grep -q "SUCCESS: $n rules found" "$T/out"; then ok; else
    fail "promtool did not check the dashboard's $n expressions"; cat "$T/out" >&2; fi
# ... and one that does not parse fails
sed 's/"expr": "driftd_dataset_drift_share{/"expr": "driftd_dataset_drift_share{{/' "$DASH" >"$T/bad-dash.json"
check dashboard-rules "$T/bad-dash.json" "$T/bad-rules.yml" >/dev/null 2>&1
expect_rc 1 promtool check rules "$T/bad-rules.yml"

# --- every metric they name is one driftd exports ------------------------------
GH_PID=
trap 'for p in $DAEMON_PID $GH_PID; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
printf 'ghp_contrib_test_token\n' >"$T/gh-token"
"$PY" "$(dirname "$0")/mock_github.py" --port-file "$T/gh.port" --log "$T/gh.log" \
    --token-file "$T/gh-token" --respond '200;run_details=1' --conclusion failure &
GH_PID=$!
wait_until 10 test -s "$T/gh.port" || { fail "mock GitHub did not start"; finish; exit 1; }
"$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" -o "$T/base.json" 2>/dev/null
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "window": {"records": 100000, "seconds": 3600, "min_records": 50},
 "alerts": {"sinks": [{"type": "log"}]},
 "retrain": {"github": {"api_url": "http://127.0.0.1:$(cat "$T/gh.port")", "repository": "owner/repo",
                        "workflow": "retrain.yml", "token_file": "$T/gh-token"},
             "consecutive": 1, "dry_run": false, "follow_seconds": 1}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$SRCDIR/examples/iris/production_drift.csv"
expect_code 202 "drifted csv"
http POST /v1/evaluate
expect_code 200 "evaluate the drifted window"
expect_body_json dataset.drift=true
if wait_until 20 status_is retrain.run.status=completed; then ok; else
    fail "the retraining run was not followed to its end"; fi
expect_body_json retrain.run.conclusion=failure
expect_body_json retrain.last_result.status=ok
# the evaluation answers before /metrics need show it: wait for the gauge
drifted_metrics() { http GET /metrics && grep -q '^driftd_dataset_drift{model="iris"} 1$' "$T/body"; }
wait_until 10 drifted_metrics && ok || fail "/metrics does not show the drifted window"
cp "$T/body" "$T/metrics"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "driftd exited $DAEMON_RC"

expect_rc 0 check names "$T/metrics" "$RULES" "$TESTS" "$DASH"
# A name driftd does not export fails, in a panel and in a rule, and says where.
sed 's/driftd_window_records{/driftd_window_record{/' "$DASH" >"$T/typo-dash.json"
expect_rc 1 check names "$T/metrics" "$RULES" "$TESTS" "$T/typo-dash.json"
expect_err "panel 'Open window' query A: driftd_window_record: driftd does not export it"
sed 's/driftd_dataset_drift_share and/driftd_dataset_drift_ratio and/' "$RULES" >"$T/typo-rules.yml"
expect_rc 1 check names "$T/metrics" "$T/typo-rules.yml" "$TESTS" "$DASH"
expect_err 'DataDriftDetected: driftd_dataset_drift_ratio: driftd does not export it'
finish
