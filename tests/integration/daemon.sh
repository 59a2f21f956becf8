# Helpers to run the real daemon in tests (sourced after lib.sh): start it on
# an ephemeral loopback port in $T, find its address, stop it.
DAEMON_PID=

# start_daemon CONFIG: start `driftd run`; sets DAEMON_PID and ADDR.
start_daemon() {
    _cfg=$1
    _state=$(sed -n 's/.*"state_dir": *"\([^"]*\)".*/\1/p' "$_cfg")
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

expect_body() {
    if grep -Eq -- "$1" "$T/body"; then ok; else
        fail "body lacks /$1/"; head -c 600 "$T/body" >&2; echo >&2; fi
}

# status_has REGEX: GET /v1/status (kept in $T/body) matches; for
# wait_until, since a closed window is evaluated on a worker thread.
status_has() {
    http GET /v1/status
    grep -Eq -- "$1" "$T/body"
}

healthy() {
    http GET /healthz
    expect_code 200 "healthz after $1"
}
