#!/bin/sh
# The NATS test bed itself (nats_cluster.sh and natsctl), before any driftd
# runs on it: a real three-node nats-server cluster on loopback, an R3
# stream, R3 KV buckets (one with a TTL), records published with JetStream
# acks and consumed with explicit acks, then one node killed and the same
# again: nothing lost, nothing delivered twice. Prints the times the NATS
# tests depend on: cluster formation, a killed meta leader's replacement, a
# restarted node's catch-up. Exit 77 (skip) only when nats-server is missing
# or cannot start here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_cluster.sh"
need_python "generating records and reading JSON"
t_start=$(nats_now)

nats_cluster_start "$T/nats"
printf 'cluster formed (R3 placeable) in %ss\n' "$NATS_FORM_SECONDS"
printf '{"servers": %s}\n' "$(nats_servers_json)" >"$T/servers.json"
expect_json "$T/servers.json" 'len(servers)=3' "servers[0]=$NATS_URL_1" "servers[2]=$NATS_URL_3"
S="--servers $NATS_URLS"

# --- stream and buckets, R3 --------------------------------------------------
expect_rc 0 "$NATSCTL" stream-add $S --stream PREDICTIONS --subjects 'predictions.>' --replicas 3
expect_json "$T/out" stream=PREDICTIONS num_replicas=3 'leader~^n[123]$' 'len(replicas)=2'
expect_rc 0 "$NATSCTL" kv-add $S --bucket driftd-leases --replicas 3 --ttl-seconds 2
expect_json "$T/out" bucket=driftd-leases num_replicas=3 ttl_seconds=2
expect_rc 0 "$NATSCTL" kv-add $S --bucket driftd-state --replicas 3 --history 5
expect_json "$T/out" bucket=driftd-state num_replicas=3 ttl_seconds=0 history=5

# --- KV: create-only and revision-checked writes, TTL expiry -----------------
K="--bucket driftd-leases --key leader.iris"
expect_rc 0 "$NATSCTL" kv-put $S $K --value '{"holder":"a"}' --last 0
rev=$(json "$T/out" revision)
expect_rc 1 "$NATSCTL" kv-put $S $K --value '{"holder":"b"}' --last 0
expect_err 'wrong last sequence'
expect_rc 0 "$NATSCTL" kv-put $S $K --value '{"holder":"a","n":2}' --last "$rev"
rev2=$(json "$T/out" revision)
expect_rc 1 "$NATSCTL" kv-put $S $K --value '{"holder":"b"}' --last "$rev"
expect_err 'wrong last sequence'
expect_rc 0 "$NATSCTL" kv-get $S $K
expect_json "$T/out" key=leader.iris 'value={"holder":"a","n":2}' "revision=$rev2"
# The lease bucket's TTL (2 s) removes the key without a delete.
kv_absent() { ! "$NATSCTL" kv-get $S $K --timeout 2 >/dev/null 2>&1; }
t0=$(nats_now)
if wait_until 10 kv_absent; then ok; else fail "leader.iris still there 10 s after a 2 s TTL"; fi
printf 'lease key expired %ss after its last write (TTL 2 s)\n' "$(nats_since "$t0")"
expect_rc 1 "$NATSCTL" kv-get $S $K
expect_err 'not found'
# The state bucket has no TTL: a key stays until deleted; its history
# (5 kept) shows each write in order.
for e in 1 2 3; do
    expect_rc 0 "$NATSCTL" kv-put $S --bucket driftd-state --key state.iris --value "{\"episode\":$e}"
done
expect_rc 0 "$NATSCTL" kv-del $S --bucket driftd-state --key state.iris
expect_rc 1 "$NATSCTL" kv-get $S --bucket driftd-state --key state.iris
expect_rc 0 "$NATSCTL" kv-history $S --bucket driftd-state --key state.iris
expect_json "$T/out" 'len(history)=4' 'history[0].value={"episode":1}' 'history[2].value={"episode":3}' \
    'history[2].operation=PUT' 'history[3].operation=DEL' 'history[0].revision=1' 'history[3].revision=4'
expect_rc 1 "$NATSCTL" kv-history $S --bucket driftd-state --key state.never

# --- 10,000 NDJSON records in 1,000 messages, consumed with acks --------------
"$PY" -c '
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": i, "sepal_length": 5 + (i % 17) / 10, "species": "setosa"}))
' 10000 >"$T/records.ndjson"
expect_rc 0 "$NATSCTL" pub $S --subject predictions.iris --file "$T/records.ndjson" --per-msg 10
expect_json "$T/out" records=10000 messages=1000 errors=0
expect_rc 0 "$NATSCTL" stream-info $S --stream PREDICTIONS
expect_json "$T/out" messages=1000 first_seq=1 last_seq=1000
expect_rc 0 "$NATSCTL" bench-consume $S --stream PREDICTIONS --subject predictions.iris \
    --durable smoke --count 10000 --ack --timeout 30
expect_json "$T/out" records=10000 messages=1000 distinct_seqs=1000 first_seq=1 last_seq=1000 \
    redelivered=0 ack_errors=0
cp "$T/out" "$T/consume1.json"
all_acked() {
    "$NATSCTL" consumer-info $S --stream PREDICTIONS --durable smoke >"$T/ci.json" &&
        json_is "$T/ci.json" num_pending=0 num_ack_pending=0 "ack_floor.stream_seq=$1"
}
if wait_until 10 all_acked 1000; then ok; else
    fail "durable smoke: not all 1000 messages acked"; cat "$T/ci.json" >&2; fi
expect_json "$T/ci.json" num_redelivered=0 delivered.stream_seq=1000
# consumer-wait (the benchmark's clock): done at once here; a durable left
# with 99 messages pending is never done.
expect_rc 0 "$NATSCTL" consumer-wait $S --stream PREDICTIONS --durable smoke --last 1000 --timeout 10
expect_json "$T/out" 'durables[0].durable=smoke' 'durables[0].done_s>=0' 'first_delivery_s>=0'
expect_rc 0 "$NATSCTL" bench-consume $S --stream PREDICTIONS --subject predictions.iris \
    --durable partial --count 10 --batch 1 --ack --timeout 10
expect_json "$T/out" records=10 messages=1
expect_rc 1 "$NATSCTL" consumer-wait $S --stream PREDICTIONS --durable smoke,partial --timeout 2
expect_err '1 of 2 durables not done'
expect_json "$T/out" 'durables[1].durable=partial' 'durables[1].done_s=-1' 'durables[0].done_s>=0'

# --- CSV (header in every message) and JSON-array bodies -----------------------
"$PY" -c '
print("id,sepal_length,species")
for i in range(95):
    print("%d,%.1f,setosa" % (i, 5 + (i % 17) / 10))
' >"$T/records.csv"
expect_rc 0 "$NATSCTL" pub $S --subject predictions.csv --file "$T/records.csv" --per-msg 10 --format csv
expect_json "$T/out" records=95 messages=10
expect_rc 0 "$NATSCTL" bench-consume $S --stream PREDICTIONS --subject predictions.csv \
    --durable csv --count 95 --ack --format csv --timeout 30
expect_json "$T/out" records=95 messages=10 distinct_seqs=10
head -n 30 "$T/records.ndjson" >"$T/thirty.ndjson"
expect_rc 0 "$NATSCTL" pub $S --subject predictions.json --file "$T/thirty.ndjson" --per-msg 7 --format json
expect_json "$T/out" records=30 messages=5
expect_rc 0 "$NATSCTL" bench-consume $S --stream PREDICTIONS --subject predictions.json \
    --durable json --count 30 --ack --format json --timeout 30
expect_json "$T/out" records=30 messages=5

# --- natsctl fails loudly: a subject no stream takes --------------------------
expect_rc 1 "$NATSCTL" pub $S --subject nowhere.iris --file "$T/thirty.ndjson" --retries 0 --timeout 3
expect_err 'nowhere.iris.*not acked'
expect_rc 1 "$NATSCTL" consumer-info $S --stream PREDICTIONS --durable no-such --timeout 2
expect_err 'consumer no-such on stream PREDICTIONS: Not Found \(JetStream error 10014\)'

# --- kill -9 the meta leader: a new one, then nothing lost ---------------------
m=$(nats_meta_leader)
if [ -n "$m" ]; then ok; else fail "no node names a meta leader (/jsz meta_cluster.leader)"; m=1; fi
t0=$(nats_now)
nats_node_kill "$m"
if m2=$(nats_wait_meta_leader_not "$m" 20); then
    ok
    printf 'meta leader n%s killed (SIGKILL): n%s leads after %ss\n' "$m" "$m2" "$(nats_since "$t0")"
else
    fail "no new meta leader 20 s after killing n$m"
fi
t0=$(nats_now)
expect_rc 0 "$NATSCTL" pub $S --subject predictions.iris --file "$T/records.ndjson" --per-msg 10 --timeout 30
expect_json "$T/out" records=10000 messages=1000
printf 'published 10,000 records with n%s down in %ss (after the kill: %s retried)\n' \
    "$m" "$(nats_since "$t0")" "$(json "$T/out" retried)"
expect_rc 0 "$NATSCTL" stream-info $S --stream PREDICTIONS
# 1000 + 10 csv + 5 json before, 1000 now: each stored once
expect_json "$T/out" messages=2015 last_seq=2015
expect_rc 0 "$NATSCTL" bench-consume $S --stream PREDICTIONS --subject predictions.iris \
    --durable smoke --count 10000 --ack --timeout 30
expect_json "$T/out" records=10000 messages=1000 distinct_seqs=1000 first_seq=1016 last_seq=2015 \
    redelivered=0
if wait_until 10 all_acked 2015; then ok; else
    fail "durable smoke after the kill: not all acked"; cat "$T/ci.json" >&2; fi

# --- the node comes back and catches up ----------------------------------------
t0=$(nats_now)
nats_node_start "$m"
caught_up() {
    "$NATSCTL" stream-info $S --stream PREDICTIONS >"$T/si.json" 2>/dev/null &&
        "$PY" -c '
import json, sys
si = json.load(open(sys.argv[1]))
peers = [si["leader"]] + [r["name"] for r in si["replicas"] if r["current"] and r["lag"] == 0]
sys.exit(0 if "n" + sys.argv[2] in peers and len(peers) == 3 else 1)
' "$T/si.json" "$m"
}
if wait_until 30 caught_up; then
    ok
    printf 'n%s restarted: current in the stream again after %ss\n' "$m" "$(nats_since "$t0")"
else
    fail "n$m not current in PREDICTIONS 30 s after its restart"; cat "$T/si.json" >&2
fi

# --- SIGSTOP the stream's leader: another leads, nothing lost ------------------
# A paused node keeps its sockets open but answers nothing: what a hung
# machine looks like to its peers (and to clients connected to it).
l=$(nats_stream_leader PREDICTIONS)
if [ -n "$l" ]; then ok; else fail "stream-info names no leader of PREDICTIONS"; l=1; fi
t0=$(nats_now)
nats_node_pause "$l"
other_leader() {
    _x=$(nats_stream_leader PREDICTIONS 2>/dev/null) && [ "$_x" != "$l" ]
}
if wait_until 30 other_leader; then
    ok
    printf 'stream leader n%s paused (SIGSTOP): n%s leads PREDICTIONS after %ss\n' \
        "$l" "$(nats_stream_leader PREDICTIONS)" "$(nats_since "$t0")"
else
    fail "PREDICTIONS still led by paused n$l after 30 s"
fi
# Making a consumer is the meta leader's work: when the paused node also
# led the meta group (it does when it took over from the killed n2), wait
# for the others to elect one of them. Under valgrind-loaded CI that took
# longer than natsctl's 30 s of retries ("JetStream system temporarily
# unavailable", 10008).
if [ "$(nats_meta_leader 2>/dev/null || echo "$l")" = "$l" ]; then
    t0=$(nats_now)
    if m2=$(nats_wait_meta_leader_not "$l" 90); then
        ok
        printf 'meta leader n%s paused too: n%s leads the meta group after %ss\n' \
            "$l" "$m2" "$(nats_since "$t0")"
    else
        fail "no meta leader but the paused n$l after 90 s"
    fi
fi
head -n 1000 "$T/records.ndjson" >"$T/thousand.ndjson"
expect_rc 0 "$NATSCTL" pub $S --subject predictions.iris --file "$T/thousand.ndjson" --per-msg 10 --timeout 30
expect_json "$T/out" records=1000 messages=100
expect_rc 0 "$NATSCTL" bench-consume $S --stream PREDICTIONS --subject predictions.iris \
    --durable smoke --count 1000 --ack --timeout 30
expect_json "$T/out" records=1000 messages=100 distinct_seqs=100 first_seq=2016 last_seq=2115
if wait_until 10 all_acked 2115; then ok; else
    fail "durable smoke with n$l paused: not all acked"; cat "$T/ci.json" >&2; fi
t0=$(nats_now)
nats_node_resume "$l"
m=$l
if wait_until 30 caught_up; then
    ok
    printf 'n%s resumed: current in the stream again after %ss\n' "$l" "$(nats_since "$t0")"
else
    fail "n$l not current in PREDICTIONS 30 s after SIGCONT"; cat "$T/si.json" >&2
fi

# --- shutdown: no nats-server left --------------------------------------------
pids="$NATS_PID_1 $NATS_PID_2 $NATS_PID_3"
nats_cluster_stop
for p in $pids; do
    if kill -0 "$p" 2>/dev/null; then fail "nats-server $p still runs after nats_cluster_stop"; else ok; fi
done
printf 'total %ss\n' "$(nats_since "$t_start")"
finish
