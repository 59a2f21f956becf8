# Helpers to run the real daemon in tests (sourced after lib.sh): start it on
# an ephemeral loopback port in $T, find its address, stop it.
DAEMON_PID=

# start_daemon CONFIG: start `driftd run`; sets DAEMON_PID and ADDR.
start_daemon() {
    _cfg=$1
    _state=$(json "$_cfg" state_dir) || { fail "no state_dir in $_cfg"; return 1; }
    rm -f "$_state/listen"
    "$DRIFTD" run --config "$_cfg" >>"$T/daemon.log" 2>&1 &
    DAEMON_PID=$!
    _i=0
    while [ ! -s "$_state/listen" ]; do
        _i=$((_i + 1))
        if [ $_i -gt 100 ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
            fail "daemon did not start"; cat "$T/daemon.log" >&2; return 1
        fi
        sleep 0.05
    done
    ADDR=$(cat "$_state/listen")
    URL="http://$ADDR"
}

# stop_daemon [SIGNAL]: signal it and wait; sets DAEMON_RC.
stop_daemon() {
    kill -"${1:-TERM}" "$DAEMON_PID" 2>/dev/null
    _i=0
    while kill -0 "$DAEMON_PID" 2>/dev/null; do
        _i=$((_i + 1))
        if [ $_i -gt 100 ]; then kill -KILL "$DAEMON_PID"; break; fi
        sleep 0.05
    done
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_RC=$?
}

# http METHOD PATH [curl args...]: body to $T/body, status to $T/code.
http() {
    _m=$1; _p=$2; shift 2
    curl -s -o "$T/body" -w '%{http_code}' -X "$_m" "$@" "$URL$_p" >"$T/code" 2>/dev/null
}

expect_code() {
    if [ "$(cat "$T/code")" = "$1" ]; then ok; else
        fail "HTTP $(cat "$T/code"), want $1 ($2)"; head -c 600 "$T/body" >&2; echo >&2; fi
}

# expect_body REGEX: for answers in text (/metrics, /healthz); a JSON answer
# is read with expect_body_json.
expect_body() {
    if grep -Eq -- "$1" "$T/body"; then ok; else

        fail "body lacks /$1/"; head -c 600 "$T/body" >&2; echo >&2; fi
}

# expect_body_json COND...: the JSON answer in $T/body meets every COND
# (lib.sh, expect_json).
expect_body_json() { expect_json "$T/body" "$@"; }

# status_is COND...: GET /v1/status (kept in $T/body) meets every COND; for
# wait_until, since a closed window is evaluated on a worker thread.
status_is() {
    http GET /v1/status
    json_is "$T/body" "$@"
}

healthy() {
    http GET /healthz
    expect_code 200 "healthz after $1"
}
