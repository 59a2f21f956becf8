# A real three-node nats-server JetStream cluster on loopback for the NATS
# tests (POSIX sh, sourced after lib.sh). Debian 12's nats-server 2.9.10;
# natsctl ($NATSCTL, tests/tools/natsctl.c) talks to it.
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/nats_cluster.sh"
#   nats_cluster_start "$T/nats"        # or exit 77 when it cannot run here
#   (nats_cluster_start DIR 1: one standalone JetStream server, as bench/nats.sh uses)
#   "$NATSCTL" stream-add --servers "$NATS_URLS" --stream S --subjects 's.>' --replicas 3
#   nats_node_kill 2; nats_node_start 2; nats_cluster_stop
#
# After nats_cluster_start: NATS_URLS (the three client URLs, comma-
# separated, for natsctl --servers and a driftd "servers" list),
# NATS_URL_I, NATS_PID_I, NATS_PORT_I (client), NATS_ROUTE_PORT_I,
# NATS_HTTP_PORT_I (monitoring: /jsz, /varz) for I in 1 2 3, node I's
# server_name nI, its log NATS_DIR/nI.log, and NATS_FORM_SECONDS (start to
# a cluster that places an R3 stream). nats_cluster_start sets an EXIT trap
# that stops the cluster and removes $T; a test that sets its own EXIT trap
# must call nats_cluster_stop in it, so that no nats-server outlives a test.
#
# The functions hold under set -eu (bench/nats.sh sources this file too).
#
# Node control: nats_node_stop I (SIGINT, a clean shutdown), nats_node_kill
# I (SIGKILL), nats_node_start I (the same ports and store: it rejoins and
# catches up), nats_node_pause I / nats_node_resume I (SIGSTOP / SIGCONT:
# alive to the kernel, silent to its peers). nats_meta_leader prints the
# index of the JetStream meta leader, nats_stream_leader STREAM the index of
# the stream's leader, nats_wait_meta_leader_not I SECONDS waits until
# another node leads, nats_servers_json prints NATS_URLS as a JSON array.
#
# Times measured on the development machine (2 CPUs, nats-server 2.9.10,
# test_nats_cluster.sh, 8 runs): start to an R3-placeable cluster 0.4-2.2 s;
# a SIGKILLed meta leader replaced (another node names itself leader in
# /jsz) after 3.5-7.3 s; a SIGSTOPped stream leader replaced after 4.3-10.8
# s (Raft's election timeout, 4-9 s, runs out: no socket closes); a
# restarted node current in an R3 stream again after 0.5-1.8 s. Budget 10 s
# per failover in a test's waits.
: "${NATSCTL:?NATSCTL must point at natsctl (tests/tools/natsctl.c, built in the build tree)}"
NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || true)}
NATS_DIR=
NATS_URLS=
NATS_FORM_SECONDS=
NATS_NODES=3

# _nats_ids: the node numbers, 1 to NATS_NODES.
_nats_ids() { seq 1 "$NATS_NODES"; }

# nats_skip REASON: this machine cannot run the cluster: exit 77 (skip),
# unless a check already failed.
nats_skip() {
    if [ "$failed" -gt 0 ]; then
        printf '%s: cannot go on: %s\n' "$(basename "$0")" "$*" >&2
        nats_cluster_stop
        finish
        exit 1
    fi
    printf 'SKIP: %s: %s\n' "$(basename "$0")" "$*"
    nats_cluster_stop
    exit 77
}

# nats_now: seconds since the epoch with milliseconds, for the timings.
nats_now() { date +%s.%N | cut -c1-14; }
# nats_since T0: seconds elapsed since nats_now printed T0, to 0.01 s.
nats_since() { awk -v a="$1" -v b="$(nats_now)" 'BEGIN { printf "%.2f", b - a }'; }

# nats_free_ports N: N distinct free loopback TCP ports, bound at once so
# they differ (a small race with other processes remains: start retries).
nats_free_ports() {
    [ -n "${PY:-}" ] || need_python "picking free ports for nats-server"
    "$PY" -c '
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
' "$1"
}

# _nats_get NAME I: the value of variable NAME_I.
_nats_get() { eval "printf '%s' \"\${$1_$2:-}\""; }

# _nats_config I: node I's configuration: loopback only, its JetStream
# store under NATS_DIR/nI, routes to the others (no cluster block alone).
_nats_config() {
    _routes=
    for _j in $(_nats_ids); do
        [ "$_j" = "$1" ] && continue
        _routes="$_routes nats-route://127.0.0.1:$(_nats_get NATS_ROUTE_PORT "$_j")"
    done
    cat <<EOF
server_name: n$1
listen: 127.0.0.1:$(_nats_get NATS_PORT "$1")
http: 127.0.0.1:$(_nats_get NATS_HTTP_PORT "$1")
jetstream {
    store_dir: "$NATS_DIR/n$1"
    max_memory_store: 256MB
    max_file_store: 2GB
}
EOF
    [ "$NATS_NODES" -gt 1 ] || return 0
    cat <<EOF
cluster {
    name: driftd-test
    listen: 127.0.0.1:$(_nats_get NATS_ROUTE_PORT "$1")
    no_advertise: true
    routes: [$(echo $_routes | sed 's/ /, /g')]
}
EOF
}

# nats_node_start I: start node I (again) in the background with its
# configuration; its log is appended to NATS_DIR/nI.log.
nats_node_start() {
    "$NATS_SERVER" -c "$NATS_DIR/n$1.conf" >>"$NATS_DIR/n$1.log" 2>&1 &
    eval "NATS_PID_$1=$!"
}

# nats_node_alive I: node I's process still runs.
nats_node_alive() {
    _p=$(_nats_get NATS_PID "$1")
    [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null
}

# _nats_reap I SECONDS: wait for node I's process to end, SIGKILL it after
# SECONDS.
_nats_reap() {
    _p=$(_nats_get NATS_PID "$1")
    [ -n "$_p" ] || return 0
    _n=$(($2 * 10))
    while kill -0 "$_p" 2>/dev/null && [ $_n -gt 0 ]; do
        sleep 0.1
        _n=$((_n - 1))
    done
    kill -KILL "$_p" 2>/dev/null || :
    wait "$_p" 2>/dev/null || :
    eval "NATS_PID_$1="
}

# nats_node_stop I: a clean shutdown of node I (SIGINT, as
# nats-server-driftd.service stops it), SIGKILL after 10 s.
nats_node_stop() {
    _p=$(_nats_get NATS_PID "$1")
    [ -n "$_p" ] || return 0
    kill -CONT "$_p" 2>/dev/null || :
    kill -INT "$_p" 2>/dev/null || :
    _nats_reap "$1" 10
}

# nats_node_kill I: node I dies at once (SIGKILL), as in a machine's crash.
nats_node_kill() {
    _p=$(_nats_get NATS_PID "$1")
    [ -n "$_p" ] || return 0
    kill -KILL "$_p" 2>/dev/null || :
    _nats_reap "$1" 5
}

# nats_node_pause I / nats_node_resume I: SIGSTOP / SIGCONT node I.
nats_node_pause() { kill -STOP "$(_nats_get NATS_PID "$1")"; }
nats_node_resume() { kill -CONT "$(_nats_get NATS_PID "$1")"; }

# nats_cluster_stop: stop every node still running (resumed first, so a
# paused one can take its SIGINT). Safe to call twice.
nats_cluster_stop() {
    for _i in $(_nats_ids); do
        _p=$(_nats_get NATS_PID "$_i")
        [ -n "$_p" ] || continue
        kill -CONT "$_p" 2>/dev/null || :
        kill -INT "$_p" 2>/dev/null || :
    done
    for _i in $(_nats_ids); do _nats_reap "$_i" 10; done
}

# nats_wait_js SECONDS [URLS]: JetStream answers and a stream of
# NATS_NODES replicas can be placed (natsctl wait-js --replicas).
nats_wait_js() {
    "$NATSCTL" wait-js --servers "${2:-$NATS_URLS}" --replicas "$NATS_NODES" --timeout "$1" \
        >"$NATS_DIR/wait-js.json" 2>"$NATS_DIR/wait-js.err"
}

# nats_cluster_start DIR [NODES]: three nodes (or NODES: 1 is a standalone
# server) on free loopback ports, their stores and logs in DIR; returns once
# an R3 (R-NODES) stream can be placed. Exits 77 when
# nats-server is missing or its processes die at start (three tries with
# new ports: one may have been taken meanwhile); a cluster that runs but
# does not become ready within 30 s fails the test.
nats_cluster_start() {
    NATS_DIR=$1
    NATS_NODES=${2:-3}
    [ -n "$NATS_SERVER" ] && [ -x "$NATS_SERVER" ] ||
        nats_skip "nats-server is not installed (scripts/install-deps test installs it)"
    [ -x "$NATSCTL" ] || { fail "NATSCTL=$NATSCTL is not executable"; finish; exit 1; }
    mkdir -p "$NATS_DIR" || nats_skip "cannot create $NATS_DIR"
    trap 'nats_cluster_stop; rm -rf "$T"' EXIT
    trap 'exit 1' INT TERM HUP
    _tries=0
    while :; do
        _tries=$((_tries + 1))
        # shellcheck disable=SC2046
        set -- $(nats_free_ports $((3 * NATS_NODES)))
        [ $# -eq $((3 * NATS_NODES)) ] || nats_skip "no free loopback ports"
        NATS_URLS=
        for _i in $(_nats_ids); do
            eval "NATS_PORT_$_i=\$1 NATS_ROUTE_PORT_$_i=\$2 NATS_HTTP_PORT_$_i=\$3"
            eval "NATS_URL_$_i=nats://127.0.0.1:\$1"
            NATS_URLS="${NATS_URLS:+$NATS_URLS,}nats://127.0.0.1:$1"
            shift 3
        done
        for _i in $(_nats_ids); do
            rm -rf "$NATS_DIR/n$_i"
            _nats_config "$_i" >"$NATS_DIR/n$_i.conf"
        done
        _t0=$(nats_now)
        for _i in $(_nats_ids); do nats_node_start "$_i"; done
        # in steps of 2 s, so that nodes that died at start end the wait
        _end=$(($(date +%s) + 30))
        while :; do
            if nats_wait_js 2; then
                NATS_FORM_SECONDS=$(nats_since "$_t0")
                return 0
            fi
            _dead=
            for _i in $(_nats_ids); do nats_node_alive "$_i" || _dead="$_dead n$_i"; done
            [ -z "$_dead" ] && [ "$(date +%s)" -lt "$_end" ] || break
        done
        _dead=${_dead# }
        nats_cluster_stop
        if [ -z "$_dead" ]; then
            fail "the nats-server cluster runs but JetStream was not ready in 30 s"
            sed 's/^/  /' "$NATS_DIR/wait-js.err" >&2
            for _i in $(_nats_ids); do tail -5 "$NATS_DIR/n$_i.log" | sed "s/^/  n$_i: /" >&2; done
            finish
            exit 1
        fi
        if [ $_tries -ge 3 ]; then
            nats_skip "nats-server cannot start here ($_dead exited): $(tail -2 "$NATS_DIR/n${_dead##*n}.log" | tr '\n' ' ')"
        fi
    done
}

# nats_jsz I: node I's /jsz monitoring page on stdout (meta_cluster.leader).
nats_jsz() {
    curl -sf --max-time 2 "http://127.0.0.1:$(_nats_get NATS_HTTP_PORT "$1")/jsz"
}

# nats_meta_leader: the index (1-3) of the node the running nodes name as
# JetStream meta leader; false while there is none.
nats_meta_leader() {
    for _i in $(_nats_ids); do
        nats_node_alive "$_i" || continue
        _l=$(nats_jsz "$_i" | json_in meta_cluster.leader 2>/dev/null) || continue
        case $_l in n[123]) echo "${_l#n}"; return 0 ;; esac
    done
    return 1
}

# nats_wait_meta_leader_not I SECONDS: wait until a running node names a
# meta leader other than node I; prints its index.
nats_wait_meta_leader_not() {
    _n=$(($2 * 10))
    while [ $_n -gt 0 ]; do
        _m=$(nats_meta_leader) && [ "$_m" != "$1" ] && { echo "$_m"; return 0; }
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}

# nats_servers_json: NATS_URLS as a JSON array, for a driftd input's "servers".
nats_servers_json() { printf '["%s"]' "$(printf '%s' "$NATS_URLS" | sed 's/,/", "/g')"; }

# nats_stream_leader STREAM: the index of the node leading STREAM.
nats_stream_leader() {
    _l=$("$NATSCTL" stream-info --servers "$NATS_URLS" --stream "$1" --timeout 3 | json_in leader) || return 1
    case $_l in n[123]) echo "${_l#n}" ;; *) return 1 ;; esac
}
