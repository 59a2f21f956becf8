#!/bin/sh
# A clean stop does not lose the open window (issue 13, item 8): on SIGTERM
# its records (sample, counts, the reservoir's state) are kept in state_dir
# and the next start resumes them, so the window evaluated after the
# restart holds the records of both runs. A kept window whose features no
# longer match the baseline is dropped with a warning, never misread; a
# kill -9 keeps nothing (no save), and the files of a stop are removed once read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
sed 1d "$ex/production_clean.csv" | head -n 200 >"$T/rows"
{ head -1 "$ex/production_clean.csv"; head -n 120 "$T/rows"; } >"$T/a.csv"
{ head -1 "$ex/production_clean.csv"; tail -n 80 "$T/rows"; } >"$T/b.csv"
{ head -1 "$ex/production_clean.csv"; cat "$T/rows"; } >"$T/all.csv"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 10, "sample": 1000}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/a.csv"
expect_code 202 "first 120 records"
status_is window.records=120 && ok || fail "120 records before the stop"
id=$(curl -s "$URL/v1/status" | json_in window.id)
stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC"
grep -q "window $id (120 records) kept in" "$T/daemon.log" && ok || fail "no 'kept' line"
[ -s "$T/state/window.json" ] && [ -s "$T/state/window.ndjson" ] && ok || fail "no kept window files"

start_daemon "$T/c.json" || { finish; exit 1; }
grep -q "window $id resumed from the last stop: 120 records" "$T/daemon.log" && ok ||
    fail "no 'resumed' line: $(grep window "$T/daemon.log")"
status_is "window.id=$id" window.records=120 window.sampled=120 && ok ||
    fail "window after the restart: $(curl -s "$URL/v1/status" | json_in window)"
[ ! -e "$T/state/window.json" ] && ok || fail "the kept window's files stay after the start"
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/b.csv"
http POST /v1/evaluate
expect_code 200 "evaluate after the restart"
cp "$T/body" "$T/resumed.json"
stop_daemon
# the same 200 records in one run give the same report
"$DRIFTD" check -b "$T/base.json" -i "$T/all.csv" --json >"$T/one.json" 2>/dev/null
expect_json "$T/resumed.json" window.records=200 "window.id=$id" \
    "features[name=sepal_length].statistic=$(json "$T/one.json" 'features[name=sepal_length].statistic')" \
    "features[name=species].statistic=$(json "$T/one.json" 'features[name=species].statistic')" \
    "dataset.drifted_features=$(json "$T/one.json" dataset.drifted_features)"

# a kept window of other features is dropped, and says why
start_daemon "$T/c.json" || { finish; exit 1; }
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/a.csv"
stop_daemon
cut -d, -f1-4 "$ex/train.csv" >"$T/train4.csv"
"$DRIFTD" baseline -i "$T/train4.csv" -o "$T/base.json" 2>/dev/null
start_daemon "$T/c.json" || { finish; exit 1; }
grep -q "the window kept at the last stop is dropped: window.sample or the baseline's features changed" \
    "$T/daemon.log" && ok || fail "no 'dropped' line: $(grep -i window "$T/daemon.log" | tail -3)"
status_is window.records=0 && ok || fail "a dropped window still counts records"
stop_daemon
finish
