#!/bin/sh
# A reload that brings a baseline with a feature more: records that already
# carried that key are now read for it, by the http input's kept reader and
# by a tail input's reader alike (neither keeps ignoring the column).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
cut -d, -f1-4 "$ex/train.csv" >"$T/train4.csv"
"$DRIFTD" baseline -i "$T/train4.csv" -o "$T/base4.json" 2>/dev/null
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base5.json" 2>/dev/null
cp "$T/base4.json" "$T/base.json"
sed 1d "$ex/production_clean.csv" | head -n 150 | awk -F, '{printf "{\"sepal_length\": %s, \"sepal_width\": %s, \"petal_length\": %s, \"petal_width\": %s, \"species\": \"%s\"}\n", $1, $2, $3, $4, $5}' >"$T/d.ndjson"
: >"$T/log.ndjson"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}, {"type": "tail", "path": "$T/log.ndjson", "start": "beginning"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 10, "sample": 1000}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
# counted N: both inputs (and no other) counted N records
counted() { status_is 'len(inputs)=2' "inputs[type=http].records=$1" "inputs[type=tail].records=$1"; }
missing() { curl -s "$URL/metrics" | sed -n "s/^driftd_feature_missing_ratio{.*feature=\"$1\"} //p"; }

# feed WHEN TOTAL: the 150 records to both inputs, wait until each input
# counted TOTAL, then evaluate the window.
feed() {
    http POST /v1/ingest -H 'Content-Type: application/x-ndjson' --data-binary @"$T/d.ndjson"
    expect_code 202 "ingest $1"
    cat "$T/d.ndjson" >>"$T/log.ndjson"
    wait_until 10 counted "$2" && ok || fail "$1: both inputs did not count $2 records"
    http POST /v1/evaluate
    expect_code 200 "evaluate $1"
}

feed "before the reload" 150
if json_is "$T/body" 'features[name=species]'; then fail "species evaluated before the reload"; else ok; fi

cp "$T/base5.json" "$T/base.json"
http POST /v1/reload
expect_code 200 "reload with five features"
feed "after the reload" 300
expect_body_json 'features[name=species]'

m=$(missing species)
[ "$m" = 0 ] && ok || fail "species missing ratio after the reload: '$m' (want 0: both inputs read it)"
m=$(missing petal_width)
[ "$m" = 0 ] && ok || fail "petal_width missing ratio: '$m'"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC"
finish
