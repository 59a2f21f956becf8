#!/bin/sh
# examples/nats/ as shipped, on loopback: the three nodes' configurations
# (nats-a.conf, -b, -c) with only their host names, ports and store
# directory changed form a JetStream cluster that places an R3 stream, with
# the secrets of driftd.env.example in the environment as
# nats-server-driftd.service passes them; a client without the token is
# refused, one with it (natsctl --token-file, as driftd's token_file) is
# served. systemd/nats-server-driftd.service passes systemd-analyze verify
# when systemd-analyze is there (scripts/check-units also rates its
# exposure). Exit 77 (skip) when nats-server is missing or cannot start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_cluster.sh"
need_python "picking ports and reading JSON"
EX=$SRCDIR/examples/nats
[ -n "$NATS_SERVER" ] && [ -x "$NATS_SERVER" ] ||
    nats_skip "nats-server is not installed (scripts/install-deps test installs it)"

# The secrets as the unit's EnvironmentFile= passes them.
set -a
. "$EX/driftd.env.example"
set +a
[ -n "${NATS_TOKEN:-}" ] && [ -n "${NATS_ROUTE_PASSWORD:-}" ] && ok ||
    fail "driftd.env.example does not set NATS_TOKEN and NATS_ROUTE_PASSWORD"
printf '%s\n' "$NATS_TOKEN" >"$T/nats-token"
for n in A B C; do
    eval "u=\${NATS_ROUTE_$n:-}"
    want="nats-route://route:$NATS_ROUTE_PASSWORD@nats-$(echo $n | tr ABC abc).example.internal:6222"
    [ "$u" = "$want" ] && ok || fail "driftd.env.example: NATS_ROUTE_$n is '$u', want '$want'"
done

NATS_DIR=$T/nats
mkdir -p "$NATS_DIR"
trap 'nats_cluster_stop; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
set -- $(nats_free_ports 9)
urls=
for i in 1 2 3; do
    eval "C$i=\$1 R$i=\$2 H$i=\$3"
    urls="${urls:+$urls,}nats://127.0.0.1:$1"
    shift 3
done
# the route URLs of driftd.env with loopback ports instead of host names
NATS_ROUTE_A=nats-route://route:$NATS_ROUTE_PASSWORD@127.0.0.1:$R1
NATS_ROUTE_B=nats-route://route:$NATS_ROUTE_PASSWORD@127.0.0.1:$R2
NATS_ROUTE_C=nats-route://route:$NATS_ROUTE_PASSWORD@127.0.0.1:$R3
for n in a b c; do
    case $n in a) i=1 ;; b) i=2 ;; c) i=3 ;; esac
    eval "c=\$C$i r=\$R$i h=\$H$i"
    # host names and ports of the example -> loopback and free ports
    sed -e "s|^listen: 0.0.0.0:4222\$|listen: 127.0.0.1:$c|" \
        -e "s|^http: 127.0.0.1:8222\$|http: 127.0.0.1:$h|" \
        -e "s|^    listen: 0.0.0.0:6222\$|    listen: 127.0.0.1:$r|" \
        -e "s|^    store_dir: /var/lib/nats-driftd\$|    store_dir: \"$NATS_DIR/n$i\"|" \
        "$EX/nats-$n.conf" >"$NATS_DIR/n$i.conf"
    # every line changed is one the example has: nothing else differs
    changed=$(diff "$EX/nats-$n.conf" "$NATS_DIR/n$i.conf" | grep -c '^>')
    [ "$changed" -eq 4 ] && ok || fail "nats-$n.conf: $changed lines rewritten, want 4 (has the example changed?)"
    grep -q "^server_name: nats-$n\$" "$NATS_DIR/n$i.conf" && ok || fail "nats-$n.conf: server_name is not nats-$n"
    "$NATS_SERVER" -t -c "$NATS_DIR/n$i.conf" >"$T/t.out" 2>&1 && ok ||
        { fail "nats-server -t nats-$n.conf"; cat "$T/t.out" >&2; }
done
NATS_NODES=3
for i in 1 2 3; do nats_node_start "$i"; done
NATS_URLS=$urls
if "$NATSCTL" wait-js --servers "$urls" --token-file "$T/nats-token" --replicas 3 --timeout 30 >"$T/out" 2>"$T/err"; then
    ok
    printf 'the example cluster places an R3 stream after %.2fs\n' "$(json "$T/out" seconds)"
else
    dead=
    for i in 1 2 3; do nats_node_alive "$i" || dead="$dead n$i"; done
    [ -n "$dead" ] && [ "$failed" -eq 0 ] &&
        nats_skip "nats-server cannot start here ($dead exited): $(tail -2 "$NATS_DIR/n1.log" | tr '\n' ' ')"
    fail "the example cluster did not become ready"; cat "$T/err" >&2
    for i in 1 2 3; do tail -5 "$NATS_DIR/n$i.log" | sed "s/^/  n$i: /" >&2; done
fi
# the token is required, and suffices
expect_rc 1 "$NATSCTL" wait-js --servers "$urls" --timeout 2
expect_err '[Aa]uthorization'
S="--servers $urls --token-file $T/nats-token"
expect_rc 0 "$NATSCTL" stream-add $S --stream PREDICTIONS --subjects 'predictions.>' --replicas 3
expect_json "$T/out" num_replicas=3 'len(replicas)=2'
expect_rc 0 "$NATSCTL" kv-add $S --bucket driftd-leases --replicas 3 --ttl-seconds 10
# the routes carry the route password: all three nodes in the stream's group
expect_rc 0 "$NATSCTL" stream-info $S --stream PREDICTIONS
expect_json "$T/out" 'leader~^nats-[abc]$' 'replicas[0].name~^nats-[abc]$' 'replicas[1].name~^nats-[abc]$'

# --- the unit ------------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify checks that ExecStart's binary exists: point it at this one
    sed "s|/usr/sbin/nats-server|$NATS_SERVER|g" "$SRCDIR/systemd/nats-server-driftd.service" \
        >"$T/nats-server-driftd.service"
    if systemd-analyze verify "$T/nats-server-driftd.service" >"$T/verify" 2>&1 && [ ! -s "$T/verify" ]; then
        ok
    else
        fail "systemd-analyze verify nats-server-driftd.service"; cat "$T/verify" >&2
    fi
else
    echo "NOT TESTED: systemd-analyze verify (no systemd-analyze)"
fi
nats_cluster_stop
finish
