#!/bin/sh
# Another model's data is never "no drift" (issue 13, item 1). A body none
# of whose columns is a baseline feature is a 422 that names the expected
# and the found columns, its records counted as rejected (no_feature); in a
# mixed body only the foreign records are refused; columns that are not
# features are counted per input (/v1/status, driftd_unknown_columns_total)
# and named once in the log; a tail input refuses such lines too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
: >"$T/log.ndjson"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}, {"type": "tail", "path": "$T/log.ndjson", "start": "beginning"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 10, "sample": 1000}}
J
start_daemon "$T/c.json" || { finish; exit 1; }

# a wine-like CSV: no column of the iris baseline
printf 'alcohol,malic_acid,ash\n14.2,1.7,2.4\n13.2,1.8,2.1\n13.1,2.3,2.6\n' >"$T/wine.csv"
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/wine.csv"
expect_code 422 "a CSV with none of the baseline's columns"
expect_body_json accepted=0 rejected=3 'expected[0]=sepal_length' 'len(expected)=5' \
    'found[0]=alcohol' 'found[2]=ash' 'len(found)=3' 'errors[0].record=1'
# a semicolon file read with commas (chosen by hand: the header alone
# would have been read with ';'): its one column is the whole header
printf 'sepal_length;sepal_width\n5.1;3.5\n' >"$T/semi.csv"
http POST '/v1/ingest?delimiter=%2C' -H 'Content-Type: text/csv' --data-binary @"$T/semi.csv"
expect_code 422 "a semicolon CSV read with commas"
expect_body_json 'found[0]=sepal_length;sepal_width'

# NDJSON of other keys alone: 422 too; mixed with iris records: 202, the
# foreign ones refused with their reason
printf '{"alcohol": 14.2}\n{"ash": 2.4}\n' >"$T/other.ndjson"
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/other.ndjson"
expect_code 422 "NDJSON with none of the baseline's keys"
expect_body_json rejected=2 'len(expected)=5'
printf '{"sepal_length": 5.1, "alcohol": 1}\n{"alcohol": 14.2}\n{}\n' >"$T/mixed.ndjson"
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/mixed.ndjson"
expect_code 202 "a mixed body"
expect_body_json accepted=2 rejected=1 'errors[0].record=2' \
    'errors[0].error~not a feature|none of its columns'
if json_is "$T/body" expected; then fail "a 202 names expected columns"; else ok; fi

# the counters: 3 + 1 + 2 + 1 foreign records refused on the http input;
# alcohol, malic_acid, ash (CSV), the semicolon header, alcohol and ash
# (the kept NDJSON reader) met as unknown columns
status_is 'inputs[type=http].rejected_by_reason.no_feature=7' 'inputs[type=http].records=2' \
    'inputs[type=http].unknown_columns=6'
curl -s "$URL/metrics" >"$T/metrics"
grep -q '^driftd_records_rejected_total{model="iris",input="http",reason="no_feature"} 7$' \
    "$T/metrics" && ok || fail "no_feature not in /metrics: $(grep no_feature "$T/metrics")"
grep -q '^driftd_unknown_columns_total{model="iris",input="http"} 6$' "$T/metrics" && ok ||
    fail "driftd_unknown_columns_total: $(grep unknown_columns "$T/metrics")"
grep -q 'column "alcohol" is not a feature of the baseline' "$T/daemon.log" && ok ||
    fail "no log line names the unknown column"
[ "$(grep -c 'is not a feature of the baseline' "$T/daemon.log")" -eq 1 ] && ok ||
    fail "the unknown-column line is not rate-limited: $(grep -c 'is not a feature' "$T/daemon.log")"

# without the comma forced, the header's ';' is seen and the record taken
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/semi.csv"
expect_code 202 "a semicolon CSV"
expect_body_json accepted=1

# a tail input refuses such lines as well
printf '{"alcohol": 1}\n{"petal_width": 0.2}\n' >>"$T/log.ndjson"
wait_until 10 status_is 'inputs[type=tail].records=1' 'inputs[type=tail].rejected_by_reason.no_feature=1' &&
    ok || fail "tail: $(curl -s "$URL/v1/status" | json_in 'inputs[type=tail]')"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC"
finish
