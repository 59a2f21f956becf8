#!/bin/sh
# NATS JetStream consumption: records/s of 25-feature NDJSON records
# (bench/gen_data.py's current data, ~515 bytes each, PER_MSG records per
# message) read from a durable pull consumer with one explicit ack per
# message, on a one-node JetStream (R1) and a three-node cluster (R3) on
# loopback, for 1, 2 and 4 models (one subject, one durable and one
# consumer process per model, all at once):
#  - raw: natsctl bench-consume (libnats 3.4, the client driftd links), the
#    floor of what any consumer with this client can do;
#  - driftd: one `driftd run` per model with a nats input (bench_driftd
#    below), timed until every model's durable has nothing pending and
#    nothing unacked; driftd acks a message once its window is evaluated
#    and persisted, so this is the end-to-end rate.
# Prints one line per (nodes, models): the publishing rate (natsctl pub,
# acked), raw and driftd records/s, their ratio, and start_s, the seconds
# from starting the daemons to their first delivery (not in driftd/s, as
# the raw consumers' binding is not in raw/s).
#
# usage: bench/nats.sh [records per model, default 200000]
# env: NODES (default "1 3"), MODELS (default "1 2 4"), PER_MSG (default
#      100), WINDOW (window.records of the driftd runs, default 20000; the
#      records per model should be a multiple of it, or the last window
#      waits for window.seconds), BUILD (default build)
records=${1:-200000}
NODES=${NODES:-1 3}
MODELS=${MODELS:-1 2 4}
PER_MSG=${PER_MSG:-100}
WINDOW=${WINDOW:-20000}
. "$(dirname "$0")/lib.sh"
NATSCTL=${NATSCTL:-$root/$B/tests/natsctl}
[ -x "$NATSCTL" ] || { echo "bench/nats.sh: $NATSCTL missing (cmake --build $B)" >&2; exit 2; }
command -v nats-server >/dev/null || { echo "bench/nats.sh: needs nats-server (scripts/install-deps bench)" >&2; exit 2; }

# What tests/integration/nats_cluster.sh takes from the tests' lib.sh.
failed=0
PY=$PYTHON
fail() { echo "bench/nats.sh: $*" >&2; }
finish() { :; }
need_python() { :; }
json_in() { "$PYTHON" tests/integration/jsonq.py get - "$@"; }
. tests/integration/nats_cluster.sh

maxm=0
for m in $MODELS; do [ "$m" -gt "$maxm" ] && maxm=$m; done
"$PYTHON" bench/cur_ndjson.py "$T/cur.ndjson" 20000
dpids=
said_no_input=
stop_all() {
    for p in $dpids; do kill -TERM "$p" 2>/dev/null || :; done
    for p in $dpids; do wait "$p" 2>/dev/null || :; done
    dpids=
}

# sum_rate FILES...: the records of every bench-consume JSON over the
# slowest one's seconds (they ran at once).
sum_rate() {
    "$PYTHON" -c '
import json, sys
r = [json.load(open(f)) for f in sys.argv[1:]]
print("%.0f" % (sum(x["records"] for x in r) / max(x["seconds"] for x in r)))
' "$@"
}

# bench_raw NODES K: K natsctl bench-consume at once, one per model
# subject, each a new durable from the stream's start; records/s in RAW.
# (Not run in $(...): the trap must see the processes it starts.)
bench_raw() {
    _f=
    for i in $(seq 1 "$2"); do
        "$NATSCTL" bench-consume --servers "$NATS_URLS" --stream BENCH --subject "bench.m$i" \
            --durable "raw-$1-$2-$i" --count "$records" --ack --timeout 300 >"$T/raw-$1-$2-$i.json" &
        dpids="$dpids $!"
        _f="$_f $T/raw-$1-$2-$i.json"
    done
    for p in $dpids; do wait "$p"; done
    dpids=
    # shellcheck disable=SC2086
    RAW=$(sum_rate $_f)
}

# ---------------------------------------------------------------------------
# HOOK (main agent): the "through driftd" runs. bench_driftd NODES K starts
# K `driftd run`, one per model subject bench.mI, each with a nats input on
# a new durable, and sets DRV to records/s: K * $records over the time from
# the first delivery to any of them until every durable has num_pending =
# num_ack_pending = 0 (driftd acks a message once its window is evaluated
# and persisted), as natsctl consumer-wait sees it, and START to the seconds
# from the daemons' start to that first delivery. DRV is "-"
# while driftd has no nats input (validate refuses the config). The
# input follows the contract's shape; adjust here when the input changes:
#   {"type": "nats", "servers": [...], "stream": "BENCH",
#    "subject": "bench.mI", "durable": "...", "format": "ndjson",
#    "max_ack_pending": 100000, "validate": "sampled"}
# The KV buckets (driftd-leases with a 10 s TTL, driftd-state) are made
# beforehand with the stream's replicas.
# ---------------------------------------------------------------------------
bench_driftd() {
    for i in $(seq 1 "$2"); do
        rm -rf "$T/d-$1-$2-$i"
        cat >"$T/d-$1-$2-$i.json" <<J
{"model": "m$i", "baseline": "$T/base.json", "state_dir": "$T/d-$1-$2-$i", "listen": "127.0.0.1:0",
 "inputs": [{"type": "nats", "servers": $(nats_servers_json), "stream": "BENCH", "subject": "bench.m$i",
             "durable": "driftd-$1-$2-$i", "format": "ndjson", "max_ack_pending": 100000,
             "validate": "sampled"}],
 "window": {"records": $WINDOW, "seconds": 3600, "min_records": 1, "sample": 10000}}
J
    done
    DRV=-
    START=-
    if ! "$B/agent/driftd" validate --config "$T/d-$1-$2-1.json" >"$T/validate.out" 2>&1; then
        [ -n "$said_no_input" ] ||
            echo "bench/nats.sh: driftd refuses the nats input: $(head -n 1 "$T/validate.out")" >&2
        said_no_input=yes
        return 0
    fi
    _durs=
    for i in $(seq 1 "$2"); do _durs="${_durs:+$_durs,}driftd-$1-$2-$i"; done
    # one in-process poll every 20 ms of all durables, started with the daemons
    "$NATSCTL" consumer-wait --servers "$NATS_URLS" --stream BENCH --durable "$_durs" \
        --timeout 600 >"$T/wait.json" 2>"$T/wait.err" &
    _w=$!
    for i in $(seq 1 "$2"); do
        "$B/agent/driftd" run --config "$T/d-$1-$2-$i.json" 2>"$T/d-$1-$2-$i.log" &
        dpids="$dpids $!"
    done
    _rc=0
    wait "$_w" || _rc=$?
    stop_all
    if [ "$_rc" -ne 0 ]; then
        echo "bench/nats.sh: driftd not done: $(cat "$T/wait.err") (logs: $T/d-$1-$2-*.log)" >&2
        return 0
    fi
    _first=$(json_in first_delivery_s <"$T/wait.json")
    _done=$(json_in done_s <"$T/wait.json")
    DRV=$(awk -v n="$(($2 * records))" -v a="$_first" -v b="$_done" 'BEGIN { printf "%.0f", n / (b - a) }')
    START=$(awk -v a="$_first" 'BEGIN { printf "%.2f", a }')
}

printf 'records per model: %d, %d per message (%d bytes per message on average), window.records %d\n' \
    "$records" "$PER_MSG" "$(awk -v p="$PER_MSG" '{ b += length($0) + 1 } END { printf "%d", b / NR * p }' "$T/cur.ndjson")" "$WINDOW"
printf '%-6s %-7s %12s %12s %12s %10s %8s\n' nodes models publish/s raw/s driftd/s raw:driftd start_s
for n in $NODES; do
    nats_cluster_start "$T/nats$n" "$n"
    trap 'stop_all; nats_cluster_stop; rm -rf "$T"' EXIT
    S="--servers $NATS_URLS"
    "$NATSCTL" stream-add $S --stream BENCH --subjects 'bench.>' --replicas "$n" >/dev/null
    "$NATSCTL" kv-add $S --bucket driftd-leases --replicas "$n" --ttl-seconds 10 >/dev/null
    "$NATSCTL" kv-add $S --bucket driftd-state --replicas "$n" >/dev/null
    pubrate=0
    for i in $(seq 1 "$maxm"); do
        "$NATSCTL" pub $S --subject "bench.m$i" --file "$T/cur.ndjson" --count "$records" \
            --per-msg "$PER_MSG" --timeout 300 >"$T/pub.json"
        pubrate=$(json_in records_per_s <"$T/pub.json")
    done
    for k in $MODELS; do
        bench_raw "$n" "$k"
        bench_driftd "$n" "$k"
        awk -v n="$n" -v k="$k" -v p="$pubrate" -v r="$RAW" -v d="$DRV" -v st="$START" 'BEGIN {
            printf "%-6s %-7s %12.0f %12.0f %12s %10s %8s\n", n, k, p, r, d,
                d == "-" ? "-" : sprintf("%.2f", r / d), st }'
    done
    nats_cluster_stop
done
