#!/bin/sh
# Every duration and count of the configuration has a range: `validate`,
# `run` and a reload reject a value outside it with an error naming the key's
# path and the allowed range (window.seconds 1e19 used to spin the loop, an
# Alertmanager resend_seconds of 1e300 overflowed time_t into a POST storm).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
am='{"type": "alertmanager", "url": "http://127.0.0.1:9"}'

# cfg FILE SECTIONS...: a configuration with the given top-level members.
cfg() {
    _f=$1; shift
    printf '{"baseline": "%s", "state_dir": "%s/state", "listen": "127.0.0.1:0"' "$T/base.json" "$T" >"$_f"
    for _m in "$@"; do printf ', %s' "$_m" >>"$_f"; done
    printf '}\n' >>"$_f"
}

# bad MEMBER FIELD RANGE: validate rejects MEMBER with a message naming the
# field and the allowed range.
bad() {
    cfg "$T/bad.json" "$1"
    expect_rc 2 "$DRIFTD" validate --config "$T/bad.json"
    expect_err "bad.json: $2: .*allowed: $3"
    expect_no_crash "$1"
}
dur10y='[0-9.]+ to 315360000 seconds'
bad '"window": {"seconds": 1e19}' 'window\.seconds' "0\.001 to 315360000 seconds"
bad '"window": {"seconds": -5}' 'window\.seconds' "$dur10y"
bad '"window": {"seconds": "-5m"}' 'window\.seconds' "$dur10y"
bad '"window": {"seconds": "1e400s"}' 'window\.seconds' "$dur10y"
bad '"window": {"seconds": "1e300d"}' 'window\.seconds' "$dur10y"
bad '"window": {"seconds": "nan"}' 'window\.seconds' "$dur10y"
bad '"window": {"seconds": "inf"}' 'window\.seconds' "$dur10y"
bad '"window": {"seconds": "0x10"}' 'window\.seconds' "$dur10y"
bad '"window": {"seconds": 0}' 'window\.seconds' "$dur10y"
bad '"window": {"seconds": 1e400}' 'window\.seconds' "$dur10y"
bad "\"alerts\": {\"sinks\": [$am, {\"type\": \"alertmanager\", \"url\": \"http://127.0.0.1:9\", \"resend_seconds\": 1e300}]}" \
    'alerts\.sinks\[1\]\.resend_seconds' "1 to 315360000 seconds"
bad "\"alerts\": {\"sinks\": [{\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9\", \"max_age\": 1e19}]}" \
    'alerts\.sinks\[0\]\.max_age' "1 to 315360000 seconds"
bad "\"alerts\": {\"sinks\": [{\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9\", \"timeout_seconds\": 1e6}]}" \
    'alerts\.sinks\[0\]\.timeout_seconds' "0\.1 to 600 seconds"
bad '"alerts": {"repeat_seconds": "1e300h"}' 'alerts\.repeat_seconds' "1 to 315360000 seconds"
bad '"alerts": {"resolve_after": 1e19}' 'alerts\.resolve_after' "1 to 1000000"
bad '"alerts": {"resolve_after": 0}' 'alerts\.resolve_after' "1 to 1000000"
bad '"window": {"records": 1e19}' 'window\.records' "1 to 1000000000000"
bad '"window": {"min_records": -1}' 'window\.min_records' "1 to 1000000000000"
bad '"window": {"sample": 1e9}' 'window\.sample' "1 to 1000000"
bad '"window": {"sample": 2.5}' 'window\.sample' "1 to 1000000"
bad '"max_body_bytes": 1e12' 'max_body_bytes' "1 to 1073741824"
bad '"retrain": {"consecutive": 1e19}' 'retrain\.consecutive' "1 to 1000000"
bad '"retrain": {"cooldown_seconds": 1e19}' 'retrain\.cooldown_seconds' "0 to 315360000 seconds"
bad '"retrain": {"follow_seconds": 1e10}' 'retrain\.follow_seconds' "1 to 86400 seconds"
bad '"retrain": {"github": {"repository": "o/r", "workflow": "w.yml", "timeout_seconds": -1}}' \
    'retrain\.github\.timeout_seconds' "0\.1 to 600 seconds"
bad '"drift": {"alpha": 1e400}' 'drift\.alpha' "0 to 1"
bad '"features": {"overrides": {"petal_width": {"threshold": -1}}}' \
    'features\.overrides\.petal_width\.threshold' "0 or more"

# The bounds themselves, and units, are accepted.
cfg "$T/edge.json" '"window": {"seconds": "3650d", "records": 1000000000000, "min_records": 1, "sample": 1000000}' \
    '"alerts": {"repeat_seconds": "1s", "resolve_after": 1000000, "sinks": [{"type": "alertmanager", "url": "http://127.0.0.1:9", "resend_seconds": 315360000, "max_age": "1s"}]}' \
    '"retrain": {"cooldown_seconds": 0, "follow_seconds": "1d"}' '"max_body_bytes": 1073741824'
expect_rc 0 "$DRIFTD" validate --config "$T/edge.json"

# The table says each range: `driftd help config` has a range column.
"$DRIFTD" help config >"$T/ref.md"
if grep -qF '| `window.seconds` | duration | 300 | 0.001 to 315360000 seconds (3650d) |' "$T/ref.md"; then ok; else
    fail "help config lacks the range of window.seconds"; grep -F 'window.seconds' "$T/ref.md" >&2
fi

# `run` refuses to start, naming the field (the old binary spun forever).
cfg "$T/run.json" '"window": {"seconds": 1e19}'
expect_rc 2 timeout 5 "$DRIFTD" run --config "$T/run.json"
expect_err "run.json: window\.seconds: .*allowed: 0\.001 to 315360000 seconds"
cfg "$T/run2.json" "\"alerts\": {\"sinks\": [{\"type\": \"alertmanager\", \"url\": \"http://127.0.0.1:9\", \"resend_seconds\": \"1e300s\"}]}"
expect_rc 2 timeout 5 "$DRIFTD" run --config "$T/run2.json"
expect_err "run2.json: alerts\.sinks\[0\]\.resend_seconds: .*allowed: 1 to 315360000 seconds"

# A reload with an out-of-range value answers 400 naming it, and the daemon
# keeps running with its old configuration.
cfg "$T/c.json" '"model": "ranges"'
start_daemon "$T/c.json" || { finish; exit 1; }
for m in '"window": {"seconds": 1e19}' "\"alerts\": {\"sinks\": [{\"type\": \"alertmanager\", \"url\": \"http://127.0.0.1:9\", \"resend_seconds\": 1e300}]}" \
    '"window": {"sample": -3}'; do
    cfg "$T/c.json" '"model": "ranges-2"' "$m"
    http POST /v1/reload
    expect_code 400 "reload with $m"
    expect_body_json 'errors~allowed: '
    healthy "reload with $m"
    http GET /v1/status
    expect_body_json model=ranges
done
http POST /v1/reload
expect_body_json 'errors~window\.sample: .*allowed: 1 to 1000000'

kill -HUP "$DAEMON_PID"
wait_until 5 grep -q 'reload failed: .*window\.sample: .*allowed: 1 to 1000000' "$T/daemon.log" && ok ||
    fail "SIGHUP reload: no error naming window.sample"
healthy "SIGHUP with an out-of-range value"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "daemon exit $DAEMON_RC"
finish
