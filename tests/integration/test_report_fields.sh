#!/bin/sh
# What reports and metrics carry (issue 13, item 11) and the bind error of
# a port in use (item 6): /metrics has driftd_build_info, the open
# window's record count and, per feature where they mean something, the
# out-of-range and unseen-category rates of the last evaluation; a second
# daemon on a taken port names the process holding it; a report says when
# it was made, from which baseline file (path and sha256, compared with
# sha256sum) and from which input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
need_python "reading JSON"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 1, "sample": 100000}}
J
start_daemon "$T/c.json" || { finish; exit 1; }

# metric NAME{LABELS}: the value of that one series in $T/body, or nothing.
metric() { awk -v k="$1" 'index($0, k " ") == 1 { print $2 }' "$T/body"; }
# expect_metric SERIES WANT: the series is there with that value (as
# numbers: %.17g and the report's shortest form of one double agree).
expect_metric() {
    _v=$(metric "$1")
    if [ -n "$_v" ] && awk -v a="$_v" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'; then ok; else
        fail "$1 = '${_v}', want $2"; fi
}
expect_no_series() {
    if grep -q "^$1[{ ]" "$T/body"; then fail "$1 is there: $(grep "^$1[{ ]" "$T/body" | head -3)"; else ok; fi
}

# --- the build and the open window ------------------------------------------
version=$("$DRIFTD" --version | awk '{print $2}')
http GET /metrics
expect_code 200 metrics
expect_metric "driftd_build_info{model=\"iris\",version=\"$version\"}" 1
expect_metric 'driftd_window_records{model="iris"}' 0
expect_no_series driftd_feature_out_of_range_ratio # nothing evaluated yet
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_drift.csv"
expect_code 202 ingest
http GET /metrics
expect_metric 'driftd_window_records{model="iris"}' 300

# --- per-feature rates of the last evaluation -------------------------------
# 300 records of production_drift.csv and 100 of a species the baseline lacks
{ cat "$ex/production_drift.csv"; for i in $(seq 100); do echo "5.0,3.0,1.5,0.2,unknown_species"; done; } >"$T/cur.csv"
http POST /v1/evaluate
expect_code 200 "evaluate the first window"
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/cur.csv"
expect_code 202 "ingest with unseen categories"
http POST /v1/evaluate
expect_code 200 evaluate
cp "$T/body" "$T/eval.json"
http GET /metrics
expect_metric 'driftd_window_records{model="iris"}' 0
for f in sepal_length sepal_width petal_length petal_width; do
    want=$(json "$T/eval.json" "features[name=$f].quality.out_of_range_rate")
    expect_metric "driftd_feature_out_of_range_ratio{model=\"iris\",feature=\"$f\"}" "$want"
    expect_no_series "driftd_feature_unseen_ratio{model=\"iris\",feature=\"$f\"}"
done
expect_json "$T/eval.json" 'features[name=sepal_length].quality.out_of_range_rate>0'
expect_metric 'driftd_feature_unseen_ratio{model="iris",feature="species"}' 0.25
expect_no_series 'driftd_feature_out_of_range_ratio{model="iris",feature="species"}'

# --- a port in use ----------------------------------------------------------
sed "s|\"listen\": \"127.0.0.1:0\"|\"listen\": \"$ADDR\"|; s|$T/state|$T/state2|" "$T/c.json" >"$T/c2.json"
expect_rc 2 "$DRIFTD" run --config "$T/c2.json"
port=${ADDR##*:}
expect_err "listen $ADDR: cannot bind: port $port is in use: "
# the holder is the first daemon, named by pid and command (under valgrind
# the command is valgrind's, so only the pid is certain)
expect_err "held by pid $DAEMON_PID \\("
[ -n "${VALGRIND_LOGDIR:-}" ] || expect_err "held by pid $DAEMON_PID \\(driftd\\)"
# Run as root, the same daemon as nobody cannot read the holder's
# /proc/PID/fd: it says so (where nobody cannot run the binary at all, this
# part cannot be tried and is left out)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups "$DRIFTD" --version >/dev/null 2>&1; then
    mkdir -p "$T/nobody" && chmod 755 "$T" && chmod 777 "$T/nobody" && chmod 644 "$T/base.json"
    sed "s|$T/state2|$T/nobody/state|" "$T/c2.json" >"$T/nobody/c.json"
    chmod 644 "$T/nobody/c.json"
    expect_rc 2 setpriv --reuid=65534 --regid=65534 --clear-groups "$DRIFTD" run --config "$T/nobody/c.json"
    expect_err "port $port is in use: a socket of uid 0 listens on it, but its process cannot be named"
fi

# --- where a report came from -----------------------------------------------
sha=$(sha256sum "$T/base.json" | awk '{print $1}')
# fresh TIME: an RFC 3339 UTC time within a minute of now
fresh() {
    case $1 in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z) ;; *) return 1 ;; esac
    _d=$(($(date -u +%s) - $(date -u -d "$1" +%s)))
    [ "$_d" -ge -5 ] && [ "$_d" -le 60 ]
}
expect_rc 1 "$DRIFTD" check -b "$T/base.json" -i "$ex/production_drift.csv" --json
cp "$T/out" "$T/check.json"
expect_json "$T/check.json" "baseline.path=$T/base.json" "baseline.sha256=$sha" \
    "input=$ex/production_drift.csv"
if fresh "$(json "$T/check.json" generated_at)"; then ok; else fail "check: generated_at $(json "$T/check.json" generated_at)"; fi
expect_json "$T/eval.json" "baseline.path=$T/base.json" "baseline.sha256=$sha" "input=http"
if fresh "$(json "$T/eval.json" generated_at)"; then ok; else fail "daemon: generated_at $(json "$T/eval.json" generated_at)"; fi
http GET /v1/status
expect_body_json "last_evaluation.baseline.sha256=$sha"
# a changed baseline file, reloaded: the next report names the new bytes
"$DRIFTD" baseline -i "$ex/production_clean.csv" -o "$T/base.json" 2>/dev/null
sha2=$(sha256sum "$T/base.json" | awk '{print $1}')
http POST /v1/reload
expect_code 200 reload
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_drift.csv"
http POST /v1/evaluate
expect_code 200 "evaluate after the reload"
expect_body_json "baseline.sha256=$sha2"
# stdin has no file name
"$DRIFTD" check -b "$T/base.json" -i - -f csv --json <"$ex/production_drift.csv" >"$T/stdin.json" 2>/dev/null
expect_json "$T/stdin.json" "input=<stdin>"
stop_daemon
finish
