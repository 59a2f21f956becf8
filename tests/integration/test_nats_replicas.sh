#!/bin/sh
# Three replicas of one model on a real three-node NATS JetStream cluster
# (docs/scale-out.md), all on loopback: an R3 stream, R3 lease and state
# buckets, a webhook receiver and the GitHub mock.
#  1. counts: every published record is counted in exactly one evaluated
#     window; exactly one replica leads; all messages acknowledged.
#  2. one NATS node stopped: nothing lost, and no failover.
#  3. kill -9 of the leader mid-window, drifted traffic across it: a standby
#     leads within lease_seconds plus a window (the time is printed); ONE
#     firing episode, ONE dispatch; the records the dead leader had not
#     acknowledged are counted again by its successor (how many is printed).
#  4. the leader paused (SIGSTOP) past its lease: another takes over, and
#     the paused one, resumed, finishes no window and dispatches nothing.
#  5. a standby reloaded (SIGHUP) and restarted stays a standby; the leader
#     goes on.
#  6. a second model, iris2, with retrain.adopt.mode on_success: the
#     leader adopts the baseline its retraining run built; the standby
#     fetches it from the same run's artifact; after kill -9 of the leader
#     the standby leads on the adopted baseline. A baseline posted to the
#     leader's API, which the other replica cannot fetch, keeps that one
#     from contending, and its status says why.
# Exit 77 (skip) only when nats-server is missing or cannot start here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_cluster.sh"
. "$(dirname "$0")/daemon.sh"
here=$(cd "$(dirname "$0")" && pwd)
ex="$SRCDIR/examples/iris"
need_python "the mocks and reading JSON"
t_start=$(nats_now)
GH_PID=
RCV_PID=
P1= P2= P3= P4= P5=
cleanup() {
    for p in $P1 $P2 $P3 $P4 $P5 $GH_PID $RCV_PID; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
    nats_cluster_stop
}
nats_cluster_start "$T/nats"
# after nats_cluster_start, whose own EXIT trap this one replaces
trap 'cleanup; rm -rf "$T"' EXIT
printf 'cluster formed (R3 placeable) in %ss\n' "$NATS_FORM_SECONDS"
S="--servers $NATS_URLS"
LEASE=6
expect_rc 0 "$NATSCTL" stream-add $S --stream PREDICTIONS --subjects 'predictions.>' --replicas 3
expect_rc 0 "$NATSCTL" kv-add $S --bucket driftd-leases --replicas 3 --ttl-seconds $LEASE
expect_rc 0 "$NATSCTL" kv-add $S --bucket driftd-state --replicas 3

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null || fail "baseline"
# what the retraining run of part 6 builds, zipped as the workflow uploads it
"$DRIFTD" baseline -i "$ex/production_drift.csv" -o "$T/new.json" --label model_version=run-1 \
    2>/dev/null || fail "new baseline"
"$DRIFTD" baseline -i "$ex/production_clean.csv" -o "$T/posted.json" 2>/dev/null || fail "posted baseline"
NEW=$(sha256sum "$T/new.json" | cut -c1-64)
POSTED=$(sha256sum "$T/posted.json" | cut -c1-64)
artifact_zip "$T/good.zip" "$T/new.json"
printf 'TOKEN-nats-test\n' >"$T/gh-token"
"$PY" "$here/mock_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.log" &
RCV_PID=$!
"$PY" "$here/mock_github.py" --port-file "$T/gh.port" --storage-port-file "$T/st.port" \
    --log "$T/gh.log" --token-file "$T/gh-token" --ref main --artifact-zip "$T/good.zip" &
GH_PID=$!
wait_until 10 test -s "$T/gh.port" || { fail "mock GitHub did not start"; finish; exit 1; }
wait_until 10 test -s "$T/rcv.port" || { fail "mock receiver did not start"; finish; exit 1; }
GH_URL="http://127.0.0.1:$(cat "$T/gh.port")"
RCV_URL="http://127.0.0.1:$(cat "$T/rcv.port")/hook"
servers=$(printf '%s' "$NATS_URLS" | sed 's/[^,]*/"&"/g')

# one replica's configuration: the same but for state_dir (4 and 5: iris2)
for i in 1 2 3 4 5; do
    model=iris mode=off
    [ $i -ge 4 ] && model=iris2 mode=on_success
    cat >"$T/r$i.json" <<J
{"model": "$model", "baseline": "$T/base.json", "state_dir": "$T/r$i", "listen": "127.0.0.1:0",
 "inputs": [{"type": "nats", "servers": [$servers], "ack_wait_seconds": 4}],
 "lease_seconds": $LEASE,
 "window": {"records": 200, "seconds": 1.5, "min_records": 1, "sample": 1000},
 "alerts": {"resolve_after": 100, "sinks": [{"type": "log"}, {"type": "webhook", "url": "$RCV_URL"}]},
 "retrain": {"github": {"api_url": "$GH_URL", "repository": "owner/repo",
                        "workflow": "retrain.yml", "ref": "main", "token_file": "$T/gh-token"},
             "consecutive": 2, "cooldown_seconds": 86400, "follow_seconds": 1,
             "adopt": {"mode": "$mode"}}}
J
done

# start_replica I: driftd run with rI.json, its log rI.log; sets PI and URLI
start_replica() {
    rm -f "$T/r$1/listen"
    "$DRIFTD" run --config "$T/r$1.json" >>"$T/r$1.log" 2>&1 &
    eval "P$1=$!"
    wait_until 10 test -s "$T/r$1/listen" || { fail "replica $1 did not start"; cat "$T/r$1.log" >&2; return 1; }
    eval "URL$1=http://$(cat "$T/r$1/listen")"
}
# role I: leader, standby, or down
role() {
    eval "_u=\$URL$1"
    curl -s -m 2 "$_u/v1/status" 2>/dev/null | "$PY" "$JSONQ" get - role 2>/dev/null || echo down
}
# leader: the index of the one replica that says leader ("" unless exactly one)
leader() {
    _l= _n=0
    for _i in ${REPLICAS:-1 2 3}; do
        eval "_p=\$P$_i"
        [ -n "$_p" ] || continue
        [ "$(role $_i)" = leader ] && { _l=$_i; _n=$((_n + 1)); }
    done
    [ $_n -eq 1 ] && echo "$_l"
}
has_leader() { [ -n "$(leader)" ]; }
# counted: records in windows evaluated by any replica (their logs)
counted() {
    cat "$T"/r[123].log 2>/dev/null |
        sed -n 's/.* notice: window [0-9]*: \([0-9]*\) records\{0,1\} (.*/\1/p' |
        awk '{ s += $1 } END { print s + 0 }'
}
# all_acked: nothing pending or unacknowledged on the durable consumer
all_acked() {
    "$NATSCTL" consumer-info $S --stream PREDICTIONS --durable driftd-iris --timeout 2 >"$T/ci" 2>/dev/null &&
        json_is "$T/ci" num_pending=0 num_ack_pending=0
}
counted_is() { [ "$(counted)" -eq "$1" ]; }
dispatches() { jsonl_count "$T/gh.log" kind=dispatch; }
# episodes: distinct starts_at of the firing webhooks
episodes() {
    jsonl "$T/rcv.log" body.status=firing -- body.starts_at 2>/dev/null | sort -u | grep -c . || true
}
firings() { jsonl_count "$T/rcv.log" body.status=firing; }
lease_acquired() { curl -s "$1/metrics" | sed -n 's/^driftd_lease_changes_total{model="iris",event="acquired"} //p'; }

"$PY" - "$ex/production_clean.csv" "$ex/production_drift.csv" "$T" <<'P'
import csv, json, sys
for src, name in ((sys.argv[1], "clean"), (sys.argv[2], "drift")):
    with open(src) as f, open("%s/%s.ndjson" % (sys.argv[3], name), "w") as out:
        for r in csv.DictReader(f):
            out.write(json.dumps({k: (v if k == "species" else float(v)) for k, v in r.items()}) + "\n")
P

for i in 1 2 3; do start_replica $i || { finish; exit 1; }; done
wait_until 15 has_leader && ok || fail "no single leader among three replicas"
L=$(leader)
printf 'leader: replica %s\n' "$L"
for i in 1 2 3; do
    [ "$i" = "$L" ] && continue
    [ "$(role $i)" = standby ] && ok || fail "replica $i is $(role $i), want standby"
done
eval "curl -s -o $T/ready -w '%{http_code}' \$URL$L/readyz" >"$T/code"
[ "$(cat "$T/code")" = 200 ] && ok || fail "leader /readyz: $(cat "$T/code") $(cat "$T/ready")"
eval "curl -s \$URL$L/metrics" >"$T/metrics"
grep -q '^driftd_leader{model="iris"} 1$' "$T/metrics" && ok || fail "driftd_leader 1 on the leader"
grep -q '^driftd_input_errors_total{model="iris",input="nats",reason="auth"} 0$' "$T/metrics" &&
    ok || fail "driftd_input_errors_total on the leader"

# --- 1. counts ---------------------------------------------------------------------
expect_rc 0 "$NATSCTL" pub $S --subject predictions.iris --file "$T/clean.ndjson" --per-msg 10 --count 2000
wait_until 30 all_acked && ok || fail "clean records not all acknowledged: $(cat "$T/ci")"
wait_until 5 counted_is 2000 && ok || fail "counted $(counted) of 2000 records"
eval "curl -s \$URL$L/v1/status" >"$T/st"
expect_json "$T/st" role=leader cluster.role=leader cluster.lease.key=leader.iris \
    'cluster.lease.revision>0' "inputs[type=nats].records=2000" "inputs[type=nats].messages.acked=200"
for i in 1 2 3; do
    [ "$i" = "$L" ] && continue
    eval "curl -s \$URL$i/v1/status" >"$T/st$i"
    expect_json "$T/st$i" role=standby "cluster.lease.holder=$(json "$T/st" cluster.instance)"
done

# --- 2. one NATS node stopped: nothing lost, no failover ---------------------------
eval "acq0=\$(lease_acquired \$URL$L)"
nats_node_stop 3
expect_rc 0 "$NATSCTL" pub $S --subject predictions.iris --file "$T/clean.ndjson" --per-msg 10 --count 2000
wait_until 30 all_acked && ok || fail "with a node down: not all acknowledged: $(cat "$T/ci")"
wait_until 5 counted_is 4000 && ok || fail "with a node down: counted $(counted) of 4000"
[ "$(leader)" = "$L" ] && ok || fail "the leader changed while a NATS node was down"
eval "acq1=\$(lease_acquired \$URL$L)"
[ "$acq0" = "$acq1" ] && ok || fail "lease taken again with a node down ($acq0 -> $acq1)"
nats_node_start 3

# --- 3. kill -9 of the leader mid-window, drifted traffic across it ----------------
"$NATSCTL" pub $S --subject predictions.iris --file "$T/drift.ndjson" --per-msg 10 \
    --count 6000 --rate 600 >"$T/pub3.out" 2>&1 &
PUB=$!
dispatched() { [ "$(dispatches)" -ge 1 ]; }
wait_until 20 dispatched && ok || fail "no dispatch on drifted traffic"
sleep 0.7 # mid-window: windows close every 200 records, ~0.33 s at 600/s
eval "kill -KILL \$P$L"
t_kill=$(nats_now)
dead=$L
eval "P$L="
new_leader() { _x=$(leader); [ -n "$_x" ] && [ "$_x" != "$dead" ]; }
wait_until 30 new_leader && ok || fail "no standby took over after kill -9 of the leader"
takeover=$(nats_since "$t_kill")
L=$(leader)
printf 'kill -9 of the leader: replica %s leads after %ss (lease %s s, window 1.5 s)\n' "$L" "$takeover" $LEASE
awk -v t="$takeover" -v l=$LEASE 'BEGIN { exit !(t <= l + 1.5 + 2) }' && ok ||
    fail "takeover took ${takeover}s, more than lease_seconds plus a window (and 2 s of polling)"
wait "$PUB" && ok || fail "publishing drifted records: $(cat "$T/pub3.out")"
wait_until 40 all_acked && ok || fail "after the failover: not all acknowledged: $(cat "$T/ci")"
sleep 2 # the last window closes on its timer
extra=$(($(counted) - 10000))
printf 'records counted again after the kill: %s (the dead leader'"'"'s unacknowledged ones)\n' "$extra"
[ "$extra" -ge 0 ] && ok || fail "records lost across the failover: counted $(counted) of 10000"
[ "$extra" -le 2000 ] && ok || fail "$extra records counted twice: more than the dead leader held"
[ "$(dispatches)" -eq 1 ] && ok || fail "$(dispatches) dispatches across the failover, want 1"
[ "$(episodes)" -eq 1 ] && ok || fail "$(episodes) firing episodes across the failover, want 1"
eval "curl -s \$URL$L/v1/status" >"$T/st"
expect_json "$T/st" alerts.firing=true 'type(retrain.last_dispatch_at)=string'

# --- 4. the leader paused past its lease: fenced -----------------------------------
d0=$(dispatches)
e0=$(episodes)
eval "paused_pid=\$P$L"
paused=$L
kill -STOP "$paused_pid"
t_pause=$(nats_now)
"$NATSCTL" pub $S --subject predictions.iris --file "$T/drift.ndjson" --per-msg 10 --count 2000 --rate 400 \
    >"$T/pub4.out" 2>&1 &
PUB=$!
other() { _x=$(leader); [ -n "$_x" ] && [ "$_x" != "$paused" ]; }
wait_until 30 other && ok || fail "no replica took over from the paused leader"
printf 'SIGSTOP of the leader: replica %s leads after %ss\n' "$(leader)" "$(nats_since "$t_pause")"
before=$(grep -c ' notice: window [0-9]*: ' "$T/r$paused.log")
kill -CONT "$paused_pid"
wait "$PUB" || fail "publishing during the pause: $(cat "$T/pub4.out")"
eval "stood_down() { [ \"\$(role $paused)\" = standby ]; }"
wait_until 10 stood_down && ok || fail "the resumed leader is $(role $paused), want standby"
wait_until 40 all_acked && ok || fail "after the pause: not all acknowledged: $(cat "$T/ci")"
sleep 2
after=$(grep -c ' notice: window [0-9]*: ' "$T/r$paused.log")
[ "$after" -eq "$before" ] && ok || fail "the resumed leader finished $((after - before)) windows"
grep -q 'no longer' "$T/r$paused.log" && ok || fail "the resumed leader did not say it stepped down"
[ "$(dispatches)" -eq "$d0" ] && ok || fail "dispatches went from $d0 to $(dispatches) across the pause"
[ "$(episodes)" -eq "$e0" ] && ok || fail "episodes went from $e0 to $(episodes) across the pause"
[ "$(counted)" -ge $((12000 + extra)) ] && ok || fail "after the pause: counted $(counted), want >= $((12000 + extra))"

# --- 5. a standby reloaded and restarted -------------------------------------------
L=$(leader)
eval "acq0=\$(lease_acquired \$URL$L)"
sb=
for i in 1 2 3; do [ "$i" != "$L" ] && [ "$i" != "$dead" ] && sb=$i; done
eval "kill -HUP \$P$sb"
sleep 1
[ "$(role $sb)" = standby ] && ok || fail "reloaded standby is $(role $sb)"
eval "kill -TERM \$P$sb; wait \$P$sb"
start_replica $sb || true
sleep 1
[ "$(role $sb)" = standby ] && ok || fail "restarted standby is $(role $sb)"
[ "$(leader)" = "$L" ] && ok || fail "the leader changed when a standby restarted"
eval "acq1=\$(lease_acquired \$URL$L)"
[ "$acq0" = "$acq1" ] && ok || fail "the leader took the lease again ($acq0 -> $acq1)"
expect_rc 0 "$NATSCTL" pub $S --subject predictions.iris --file "$T/clean.ndjson" --per-msg 10 --count 1000
wait_until 30 all_acked && ok || fail "after the standby's restart: not all acknowledged"
sleep 2
[ "$(counted)" -ge $((13000 + extra)) ] && ok || fail "at the end: counted $(counted), want >= $((13000 + extra))"
# --- 6. iris2: the adopted baseline stays adopted across a failover ----------------
REPLICAS="4 5"
start_replica 4 || { finish; exit 1; }
lead4() { [ "$(role 4)" = leader ]; }
wait_until 15 lead4 || fail "iris2: replica 4 does not lead"
start_replica 5 || { finish; exit 1; }
"$NATSCTL" pub $S --subject predictions.iris2 --file "$T/drift.ndjson" --per-msg 10 \
    --count 12000 --rate 800 >"$T/pub6.out" 2>&1 &
PUB=$!
adopted4() { curl -s "$URL4/v1/status" >"$T/st4" && json_is "$T/st4" "baseline.sha256=$NEW"; }
wait_until 30 adopted4 && ok || fail "iris2: the leader did not adopt the run's baseline: $(json "$T/st4" retrain.run.adoption 2>&1)"
fetched5() { test -s "$T/r5/baselines/$NEW.json"; }
wait_until 15 fetched5 && ok || fail "iris2: the standby did not fetch the leader's baseline"
st5() { curl -s "$URL5/v1/status" >"$T/st5" && json_is "$T/st5" role=standby cluster.resigned=false; }
wait_until 10 st5 && ok || fail "iris2: the standby does not contend: $(json "$T/st5" cluster 2>&1)"
[ "$(jsonl_count "$T/gh.log" kind=zip)" -ge 2 ] && ok || fail "iris2: the standby fetched no zip"
kill -KILL "$P4"
wait "$P4" 2>/dev/null
P4=
lead5() { [ "$(role 5)" = leader ]; }
wait_until 30 lead5 && ok || fail "iris2: the standby did not take over"
curl -s "$URL5/v1/status" >"$T/st5"
expect_json "$T/st5" "baseline.sha256=$NEW"
wait "$PUB" || fail "iris2: publishing: $(cat "$T/pub6.out")"
# a baseline posted to the leader's API: the other replica cannot fetch it
start_replica 4 || { finish; exit 1; }
URL=$URL5
http POST "/v1/baseline?adopt=true" --data-binary @"$T/posted.json"
expect_code 200 "iris2: POST /v1/baseline?adopt=true to the leader"
"$NATSCTL" pub $S --subject predictions.iris2 --file "$T/clean.ndjson" --per-msg 10 --count 400 \
    >/dev/null 2>&1 || fail "iris2: publishing after the post"
kept_out() { curl -s "$URL4/v1/status" >"$T/st4" && json_is "$T/st4" role=standby cluster.resigned=true 'cluster.message~lacks the leader.s baseline'; }
wait_until 20 kept_out && ok || fail "iris2: the replica without the posted baseline: $(json "$T/st4" cluster 2>&1)"

if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/r[12345].log; then
    fail "sanitizer reports"
    grep -hE -A40 'AddressSanitizer|runtime error|LeakSanitizer' "$T"/r[12345].log | head -120 >&2
else ok; fi

printf 'test_nats_replicas: %ss in all\n' "$(nats_since "$t_start")"
finish
