#!/bin/sh
# inputs[].validate: sampled: an NDJSON body is counted in full but only the
# records the window's reservoir keeps are parsed; the 202 answer says how
# many were checked, and the window still evaluates on a uniform sample.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http", "validate": "sampled"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 50}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
sed 1d "$ex/production_drift.csv" | awk -F, '{printf "{\"sepal_length\": %s, \"sepal_width\": %s, \"petal_length\": %s, \"petal_width\": %s, \"species\": \"%s\"}\n", $1, $2, $3, $4, $5}' >"$T/d.ndjson"
for i in 1 2 3 4 5 6 7 8 9 10; do cat "$T/d.ndjson"; done >"$T/big.ndjson"   # 3000 records
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/big.ndjson"
expect_code 202 "sampled ingest"
expect_body_json accepted=3000 rejected=0
checked=$(json "$T/body" checked)
# the first 50 fill the reservoir; Algorithm L keeps about 50*ln(3000/50) ~ 205 more
if [ "${checked:-0}" -ge 50 ] && [ "${checked:-0}" -lt 1000 ]; then ok; else fail "checked $checked of 3000"; fi
http POST /v1/evaluate
expect_code 200 evaluate
expect_body_json window.id=1 window.records=3000 window.sampled=50
expect_body_json dataset.drift=true
http GET /v1/status
expect_body_json 'inputs[type=http].records=3000'
stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC"

# The same for a tail input, with a line split over two writes: every line
# is counted once, only the kept ones are parsed.
cat >"$T/t.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/tstate", "listen": "127.0.0.1:0",
 "inputs": [{"type": "tail", "path": "$T/log.ndjson", "start": "beginning", "validate": "sampled"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 50}}
J
cp "$T/big.ndjson" "$T/log.ndjson"
start_daemon "$T/t.json" || { finish; exit 1; }
tail_records() { status_is "inputs[type=tail].records=$1" 'inputs[type=tail].rejected=0'; }
wait_until 10 tail_records 3000 && ok || fail "tail did not count 3000 records"
printf '{"sepal_length": 5.1, "sepal_wi' >>"$T/log.ndjson"
sleep 0.5
printf 'dth": 3.5, "petal_length": 1.4, "petal_width": 0.2, "species": "setosa"}\n' >>"$T/log.ndjson"
head -n 1999 "$T/big.ndjson" >>"$T/log.ndjson"
wait_until 10 tail_records 5000 && ok || { fail "tail did not count 5000 records"; cat "$T/body" >&2; }
checked=$(json "$T/body" 'inputs[type=tail].checked')
if [ "${checked:-0}" -ge 50 ] && [ "${checked:-0}" -lt 1000 ]; then ok; else fail "tail checked $checked of 5000"; fi
http POST /v1/evaluate
expect_code 200 "evaluate tail window"
expect_body_json window.id=1 window.records=5000 window.sampled=50

stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC"
finish
