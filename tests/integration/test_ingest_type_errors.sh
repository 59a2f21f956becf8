#!/bin/sh
# Type errors are reported, not just counted in a window's quality (issue
# 13, item 5): the ingest answer says how many values of each feature were
# not of its kind and shows the first three of each with record, CSV column
# and value; the records themselves are accepted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 10, "sample": 10}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
# ten "?" in sepal_width: five in records the window keeps (its sample of
# 10 fills first), five at the end, which it almost surely does not keep:
# counted all the same
awk -F, 'BEGIN{OFS=","} (NR>1 && NR<=6) || NR>=297 {$2="?"} {print}' \
    "$ex/production_clean.csv" >"$T/q.csv"
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/q.csv"
expect_code 202 "a CSV with ten '?'"
expect_body_json accepted=300 rejected=0 type_errors.sepal_width=10 'len(type_errors)=1' \
    'len(type_error_examples)=3' 'type_error_examples[0].record=1' \
    'type_error_examples[0].column=2' 'type_error_examples[0].feature=sepal_width' \
    'type_error_examples[0].value=?' 'type_error_examples[2].record=3'
printf '{"sepal_length": {"a": 1}, "sepal_width": 3.1}\n{"sepal_length": 5.0}\n' >"$T/n.ndjson"
http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/n.ndjson"
expect_code 202 "NDJSON with a nested value"
expect_body_json accepted=2 type_errors.sepal_length=1 'type_error_examples[0].record=1' \
    'type(type_error_examples[0].value)=null'
if json_is "$T/body" 'type_error_examples[0].column'; then fail "NDJSON has no column number"; else ok; fi
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_clean.csv"
expect_code 202 "clean data"
if json_is "$T/body" type_errors; then fail "type_errors on clean data"; else ok; fi
stop_daemon
finish
