#!/bin/sh
# The HTTP API of the real daemon on an ephemeral loopback port: every
# ingest format, every error status, evaluate, status, metrics (checked by
# promtool when installed), reload success and failure, clean SIGTERM, and
# bad input that must never take the daemon down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
printf 's3cret-token\n' >"$T/token"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state",
 "listen": "127.0.0.1:0", "max_body_bytes": 200000,
 "auth": {"token_file": "$T/token"},
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 5000}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
A="Authorization: Bearer s3cret-token"

# --- formats -------------------------------------------------------------
sed 1d "$ex/production_clean.csv" | awk -F, '{printf "{\"sepal_length\": %s, \"sepal_width\": %s, \"petal_length\": %s, \"petal_width\": %s, \"species\": \"%s\"}\n", $1, $2, $3, $4, $5}' >"$T/clean.ndjson"
http POST /v1/ingest -H "$A" -H 'Content-Type: application/x-ndjson' --data-binary @"$T/clean.ndjson"
expect_code 202 ndjson; expect_body_json accepted=300 rejected=0
http POST /v1/ingest -H "$A" -H 'Content-Type: application/jsonl' --data-binary @"$T/clean.ndjson"
expect_code 202 jsonl; expect_body_json accepted=300
http POST /v1/ingest -H "$A" -H 'Content-Type: application/json' \
    -d '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "species": "setosa"}'
expect_code 202 "json object"; expect_body_json accepted=1
http POST /v1/ingest -H "$A" -H 'Content-Type: application/json; charset=utf-8' \
    -d '[{"sepal_length": 5.1, "species": "setosa"}, {"sepal_length": 4.9}, 7, {"petal_width": "x"}]'
expect_code 202 "json array"; expect_body_json accepted=3 rejected=1
expect_body_json 'errors[record=3].error~^expected a JSON object'
http POST /v1/ingest -H "$A" -H 'Content-Type: text/csv' --data-binary @"$ex/production_clean.csv"
expect_code 202 csv; expect_body_json accepted=300
printf 'sepal_length,species\n5.0,setosa\n4.0\n"unterminated,x\n' >"$T/bad.csv"
http POST /v1/ingest -H "$A" -H 'Content-Type: text/csv' --data-binary @"$T/bad.csv"
expect_code 202 "csv with bad records"
expect_body_json accepted=1 rejected=2
expect_body_json 'errors[record=2].error=expected 2 fields, found 1'
expect_body_json 'errors[record=3].error~^unterminated quoted field'

# --- error statuses --------------------------------------------------------
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/clean.ndjson"
expect_code 401 "no token"
http POST /v1/ingest -H "Authorization: Bearer wrong" -H 'Content-Type: application/x-ndjson' -d '{}'
expect_code 401 "wrong token"
http POST /v1/evaluate
expect_code 401 "evaluate without token"
http POST /v1/ingest -H "$A" -H 'Content-Type: text/plain' -d 'x'
expect_code 415 "text/plain"
http POST /v1/ingest -H "$A" -d 'x'
expect_code 415 "no content type (curl's form type)"
http POST /v1/ingest -H "$A" -H 'Content-Type: application/x-ndjson' --data-binary 'not json at all'
expect_code 400 "nothing parseable"; expect_body_json accepted=0
http POST /v1/ingest -H "$A" -H 'Content-Type: application/x-ndjson' --data-binary ''
expect_code 400 "empty body"
head -c 300000 /dev/zero | tr '\0' 'x' >"$T/big"
http POST /v1/ingest -H "$A" -H 'Content-Type: application/x-ndjson' --data-binary @"$T/big"
expect_code 413 "body over max_body_bytes"
healthy "413"
http GET /v1/ingest
expect_code 405 "GET ingest"
http GET /nope
expect_code 404 "unknown path"
http GET /healthz
expect_code 200 healthz; expect_body '^ok$'
http GET /readyz
expect_code 200 readyz

# --- evaluate: no drift on clean data, drift on drifted data ----------------
http POST /v1/evaluate -H "$A"
expect_code 200 "evaluate clean"
expect_body_json dataset.drift=false
expect_body_json window.id=1 window.records=905 window.sampled=905
http POST /v1/evaluate -H "$A"
expect_code 409 "evaluate an empty window"
http POST /v1/ingest -H "$A" -H 'Content-Type: text/csv' --data-binary @"$ex/production_drift.csv"
expect_code 202 "drifted csv"
http POST /v1/evaluate -H "$A"
expect_code 200 "evaluate drifted"
expect_body_json dataset.drift=true dataset.drifted_features=5
grep -q 'alert firing: Data drift on iris' "$T/daemon.log" && ok || fail "no firing alert in the log"

# --- status and metrics -----------------------------------------------------
http GET /v1/status
expect_code 200 status
expect_body_json model=iris
expect_body_json 'baseline.path~base\.json$' baseline.features=5 baseline.rows=150
expect_body_json window.id=3 window.records=0
expect_body_json last_evaluation.dataset.drift=true
expect_body_json alerts.queued=0 alerts.sent=1 alerts.failed=0 alerts.retried=0 alerts.dropped=0 alerts.events=1 alerts.firing=true
expect_body_json alerts.sinks[0].name=log alerts.sinks[0].sent=1
expect_body_json inputs[0].type=http inputs[0].records=1205 inputs[0].rejected=4
http GET /metrics
expect_code 200 metrics
expect_body '^driftd_records_received_total\{model="iris",input="http"\} 1205$'
expect_body '^driftd_records_rejected_total\{model="iris",input="http",reason="not_object"\} 1$'
expect_body '^driftd_windows_evaluated_total\{model="iris"\} 2$'
expect_body '^driftd_dataset_drift\{model="iris"\} 1$'
expect_body '^driftd_feature_drift\{model="iris",feature="petal_length"\} 1$'
expect_body '^driftd_feature_p_value\{model="iris",feature="petal_length",test="ks"\} '
if command -v promtool >/dev/null 2>&1; then
    if promtool check metrics <"$T/body" >"$T/promtool" 2>&1; then ok; else
        fail "promtool check metrics"; cat "$T/promtool" >&2; fi
else
    fail "promtool not installed (scripts/install-deps test installs it)"
fi

# --- reload -----------------------------------------------------------------
sed 's/"model": "iris"/"model": "iris-v2"/' "$T/c.json" >"$T/c2.json" && cp "$T/c2.json" "$T/c.json"
http POST /v1/reload -H "$A"
expect_code 200 "reload"
http GET /v1/status
expect_body_json model=iris-v2
cp "$T/c.json" "$T/good.json"
printf '{"model": "x", "baseline": "%s", "window": {"records": "many"}, "bogus": 1}\n' "$T/base.json" >"$T/c.json"
http POST /v1/reload -H "$A"
expect_code 400 "reload of a broken config"
expect_body_json 'errors~window\.records: expected an integer'
expect_body_json 'errors~bogus: unknown key'
http GET /v1/status
expect_body_json model=iris-v2
kill -HUP "$DAEMON_PID"; sleep 0.3
grep -q 'reload failed: keeping the running configuration' "$T/daemon.log" && ok || fail "SIGHUP with a broken config"
healthy "failed reload"
cp "$T/good.json" "$T/c.json"
sed 's/"iris-v2"/"iris-v3"/' "$T/good.json" >"$T/c.json"
kill -HUP "$DAEMON_PID"; sleep 0.3
http GET /v1/status
expect_body_json model=iris-v3

# --- bad input never takes the daemon down -----------------------------------
head -c 100000 /dev/urandom >"$T/garbage"
http POST /v1/ingest -H "$A" -H 'Content-Type: application/x-ndjson' --data-binary @"$T/garbage"
healthy "binary garbage ndjson"
http POST /v1/ingest -H "$A" -H 'Content-Type: text/csv' --data-binary @"$T/garbage"
healthy "binary garbage csv"
http POST /v1/ingest -H "$A" -H 'Content-Type: application/json' --data-binary @"$T/garbage"
healthy "binary garbage json"
awk 'BEGIN { printf "{\"species\": \""; for (i = 0; i < 150000; i++) printf "a"; print "\"}" }' >"$T/hugeline"
http POST /v1/ingest -H "$A" -H 'Content-Type: application/x-ndjson' --data-binary @"$T/hugeline"
expect_code 202 "one huge line under the body limit"
healthy "huge line"
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "["; print "" }' >"$T/deep"
http POST /v1/ingest -H "$A" -H 'Content-Type: application/json' --data-binary @"$T/deep"
healthy "deep nesting"
# half-closed and abandoned connections, raw garbage on the socket
host=${ADDR%:*}; port=${ADDR##*:}
if command -v timeout >/dev/null; then
    printf 'POST /v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{"sepal' |
        timeout 2 sh -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
    (exec 3<>"/dev/tcp/$host/$port"; printf 'GARBAGE\r\n\r\n' >&3; exec 3>&-) 2>/dev/null
fi
curl -s -m 1 -H "$A" -H 'Content-Type: application/x-ndjson' --data-binary @"$T/clean.ndjson" \
    --limit-rate 1k "$URL/v1/ingest" >/dev/null 2>&1
healthy "abandoned slow upload"
printf 'PUT /v1/status HTTP/1.0\r\n\r\n' | curl -s -o /dev/null -w '%{http_code}' -X PUT "$URL/v1/status" >"$T/code"
expect_code 405 "PUT status"

# --- clean stop ---------------------------------------------------------------
stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] && ok || fail "SIGTERM exit status $DAEMON_RC"
grep -q 'stopped' "$T/daemon.log" && ok || fail "no clean stop in the log"
json_is "$T/state/state.json" window_id=3 && ok || fail "state not saved at stop"

if grep -q 's3cret-token' "$T/daemon.log" "$T/state/state.json"; then fail "the token leaked"; else ok; fi
if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi

finish
