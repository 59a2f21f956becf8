#!/bin/sh
# sd_notify as systemd sees it: notify_listen binds the datagram socket that
# $NOTIFY_SOCKET names (a path, then an @abstract name), driftd runs with
# WATCHDOG_USEC=400000, gets SIGHUP, then SIGTERM. Expected, in this order:
# READY=1 (after startup, before any ping), STATUS= lines, WATCHDOG=1 about
# every 200 ms and never further apart than the watchdog timeout, RELOADING=1
# with MONOTONIC_USEC= in the same datagram, READY=1 again, STOPPING=1 last;
# every message from driftd's own pid; driftd exits 0.
. "$(dirname "$0")/lib.sh"
: "${NOTIFY_LISTEN:?NOTIFY_LISTEN must point at the notify_listen helper}"
dpid=
lpid=
trap 'for p in $dpid $lpid; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

expect_rc 0 "$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" -o "$T/base.json"
cat >"$T/config.json" <<EOF
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state",
 "listen": "127.0.0.1:0", "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 1, "sample": 1000}}
EOF

# wait_for SECONDS CMD...: poll CMD every 50 ms; false on timeout, or at
# once when the driftd in $dpid has died.
wait_for() {
    end=$(($(date +%s) + $1)); shift
    while :; do
        "$@" && return 0
        if [ -n "$dpid" ] && ! kill -0 "$dpid" 2>/dev/null; then return 1; fi
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# count FILE LINE: how many messages are exactly LINE.
count() { awk -v l="$2" '$4 == l { n++ } END { print n + 0 }' "$1"; }
at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }

# One run against the socket ADDRESS; messages end up in $T/NAME.out.
run_case() {
    name=$1 addr=$2
    out="$T/$name.out"
    dpid=
    "$NOTIFY_LISTEN" "$addr" 40 >"$out" 2>"$T/$name.listen.err" &
    lpid=$!
    if ! wait_for 10 grep -q LISTENING "$out"; then
        fail "$name: notify_listen did not bind $addr"
        cat "$T/$name.listen.err" >&2
        kill "$lpid" 2>/dev/null
        wait "$lpid"
        lpid=
        return
    fi
    (unset WATCHDOG_PID; NOTIFY_SOCKET=$addr WATCHDOG_USEC=400000 \
        exec "$DRIFTD" run --config "$T/config.json") 2>"$T/$name.err" &
    dpid=$!
    if ! wait_for 10 at_least "$out" READY=1 1; then
        fail "$name: no READY=1"
        sed 's/^/  driftd: /' "$T/$name.err" >&2
        kill -9 "$dpid" "$lpid" 2>/dev/null
        wait "$dpid" "$lpid"
        dpid= lpid=
        return
    fi
    wait_for 10 at_least "$out" WATCHDOG=1 4 || fail "$name: fewer than 4 WATCHDOG=1"
    kill -HUP "$dpid"
    wait_for 10 at_least "$out" READY=1 2 || fail "$name: no READY=1 after SIGHUP"
    n=$(count "$out" WATCHDOG=1)
    wait_for 10 at_least "$out" WATCHDOG=1 $((n + 2)) || fail "$name: no WATCHDOG=1 after reload"
    kill -TERM "$dpid"
    wait "$dpid"
    drc=$?
    wait "$lpid"
    lrc=$?
    sender=$dpid
    dpid= lpid=
    if [ "$drc" -eq 0 ]; then ok; else fail "$name: driftd exit $drc, want 0"; fi
    if [ "$lrc" -eq 0 ]; then ok; else fail "$name: notify_listen saw no STOPPING=1 (exit $lrc)"; fi

    # The order, checked on "MS PID SEQ LINE" records in arrival order.
    awk -v pid="$sender" -v wd_ms=400 '
        function bad(msg) { print "  " msg; errors++ }
        $4 == "LISTENING" { next }
        {
            n++
            if ($2 != pid) bad("line " n " from pid " $2 ", not driftd (" pid ")")
            if (stopped) bad("message after STOPPING=1: " $4)
        }
        $4 == "READY=1" {
            if (ready == 0 && (pings || reloading)) bad("a ping or reload before the first READY=1")
            if (ready == 1 && !reloading) bad("a second READY=1 without RELOADING=1")
            ready++; reloading = 0; next
        }
        $4 ~ /^STATUS=./ { if (ready) status++; next }
        $4 == "WATCHDOG=1" {
            if (!ready) bad("WATCHDOG=1 before READY=1")
            if (last_ping) {
                gap = $1 - last_ping
                if (gap > wd_ms) bad("WATCHDOG=1 gap " gap " ms, over WATCHDOG_USEC")
                if (gap > max) max = gap
                sum += gap; gaps++
            }
            last_ping = $1; pings++; next
        }
        $4 == "RELOADING=1" {
            if (ready != 1) bad("RELOADING=1 not after the first READY=1")
            reloading = 1; reload_seq = $3; reload_ms = $1; next
        }
        $4 ~ /^MONOTONIC_USEC=[0-9]+$/ {
            if ($3 != reload_seq) bad("MONOTONIC_USEC= not in the RELOADING=1 datagram")
            us = substr($4, 16) + 0
            d = us / 1000 - reload_ms
            if (d > 1000 || d < -1000) bad("MONOTONIC_USEC= is " d " ms off CLOCK_MONOTONIC")
            mono++; next
        }
        $4 == "STOPPING=1" {
            if (ready != 2) bad("STOPPING=1 before the READY=1 that ends the reload")
            stopped = 1; next
        }
        { bad("unexpected message " $4) }
        END {
            if (ready != 2) bad("READY=1 seen " ready + 0 " times, want 2")
            if (!status) bad("no STATUS= after READY=1")
            if (pings < 6) bad("only " pings + 0 " WATCHDOG=1")
            if (!mono) bad("no MONOTONIC_USEC=")
            if (!stopped) bad("no STOPPING=1")
            if (gaps && (sum / gaps < 150 || sum / gaps > 300))
                bad("WATCHDOG=1 every " sum / gaps " ms on average, want about 200")
            exit errors > 0
        }' "$out" >"$T/$name.check"
    if [ $? -eq 0 ]; then ok; else
        fail "$name: notification sequence"
        cat "$T/$name.check" >&2
        sed 's/^/  got: /' "$out" >&2
        sed 's/^/  driftd: /' "$T/$name.err" >&2
    fi
}

run_case path "$T/notify.sock"
run_case abstract "@driftd-test-notify-$$"

# WATCHDOG_PID naming another process: the watchdog is not ours, no pings.
out="$T/otherpid.out"
dpid=
"$NOTIFY_LISTEN" "$T/other.sock" 40 >"$out" 2>/dev/null &
lpid=$!
wait_for 10 grep -q LISTENING "$out" || fail "otherpid: notify_listen did not bind"
NOTIFY_SOCKET="$T/other.sock" WATCHDOG_USEC=400000 WATCHDOG_PID=1 \
    "$DRIFTD" run --config "$T/config.json" 2>"$T/otherpid.err" &
dpid=$!
wait_for 10 at_least "$out" READY=1 1 || fail "otherpid: no READY=1"
sleep 0.6
kill -TERM "$dpid"
wait "$dpid" || fail "otherpid: driftd exit $?"
wait "$lpid" || fail "otherpid: no STOPPING=1"
dpid= lpid=
if [ "$(count "$out" WATCHDOG=1)" -eq 0 ]; then ok; else
    fail "otherpid: WATCHDOG=1 sent although WATCHDOG_PID is another process"; fi

if cat "$T"/*.err | grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer'; then
    fail "sanitizer report in driftd's log"; cat "$T"/*.err | grep -E -A20 'Sanitizer|runtime error' | head -40 >&2
else ok; fi

finish
