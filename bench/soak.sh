#!/bin/sh
# Soak (issue 6): driftd ingests 100,000 records/s over HTTP for 10 minutes
# while its webhook receiver flaps (down 30 s, up 30 s: connections
# refused while down). The data alternates between clean and drifted Iris
# records every 15 s, windows close every 5 s, a firing alert repeats every
# 20 s: a steady stream of firing, repeat and resolved notifications, many
# of them queued while the receiver is down. Afterwards the receiver stays
# up until driftd's queue is empty. Checks:
#   - zero alerts lost: every notification of the log sink (the daemon's own
#     record of what it sent, "alert firing|resolved ... window=N") reached
#     the receiver; duplicates by id (at-least-once) are counted, not
#     failed; every body has an id and no id names two notifications;
#   - driftd counted every record posted, none rejected;
#   - RSS flat: the last sample within 10 % of the first (after one minute);
#   - nothing at warning level or worse in the log but the log sink's own
#     "alert firing" lines and the outbox's "attempt N failed ...; retrying".
# usage: bench/soak.sh [seconds, default 600] [records/s, default 100000]
# Exit 1 when a check fails, 2 on a setup error.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
D=${DRIFTD:-$root/build/agent/driftd}
secs=${1:-600}
rate=${2:-100000}
PYTHON=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d)
dpid= rpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; [ -n "$rpid" ] && kill $rpid 2>/dev/null; rm -rf "$T"' EXIT
ex=examples/iris
"$D" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
"$PYTHON" tests/integration/mock_receiver.py --port-file "$T/rport" --log "$T/received.jsonl" &
rpid=$!
i=0
while [ ! -s "$T/rport" ]; do i=$((i + 1)); [ $i -lt 100 ] || exit 2; sleep 0.05; done
cat >"$T/c.json" <<J
{"model": "soak", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 100000000, "seconds": 5, "min_records": 1000, "sample": 10000},
 "alerts": {"resolve_after": 1, "repeat_seconds": 20,
            "sinks": [{"type": "log"},
                      {"type": "webhook", "url": "http://127.0.0.1:$(cat "$T/rport")/hook"}]}}
J
"$D" run --config "$T/c.json" 2>"$T/driftd.log" &
dpid=$!
i=0
while [ ! -s "$T/state/listen" ]; do i=$((i + 1)); [ $i -lt 200 ] || exit 2; sleep 0.05; done
set +e
"$PYTHON" - "$T" "$(cat "$T/state/listen")" "$dpid" "$rpid" "$secs" "$rate" <<'PY'
import csv, http.client, json, os, re, signal, sys, threading, time
t, addr, dpid, rpid, secs, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
    float(sys.argv[5]), int(sys.argv[6])
host, port = addr.rsplit(":", 1)
BATCH = 10000
def batch(path):
    rows = list(csv.DictReader(open(path)))
    out = []
    for i in range(BATCH):
        r = rows[i % len(rows)]
        out.append('{"sepal_length": %s, "sepal_width": %s, "petal_length": %s, '
                   '"petal_width": %s, "species": "%s"}' % (r["sepal_length"], r["sepal_width"],
                   r["petal_length"], r["petal_width"], r["species"]))
    return ("\n".join(out) + "\n").encode()
clean = batch("examples/iris/production_clean.csv")
drift = batch("examples/iris/production_drift.csv")
posted = 0
post_errors = []
stop = threading.Event()
t0 = time.time()

def loader():
    global posted
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    interval = BATCH / rate
    n = 0
    while not stop.is_set():
        due = t0 + n * interval
        now = time.time()
        if due > now:
            time.sleep(due - now)
        body = drift if int((time.time() - t0) // 15) % 2 else clean
        c.request("POST", "/v1/ingest", body, {"Content-Type": "application/x-ndjson"})
        r = c.getresponse()
        r.read()
        if r.status != 202:
            post_errors.append(r.status)
        posted += BATCH
        n += 1

def get(path):
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.request("GET", path)
    return c.getresponse().read().decode()

def rss():
    for l in open(f"/proc/{dpid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])

th = threading.Thread(target=loader)
th.start()
samples, flaps, down, next_flap, next_rss = [], 0, False, t0 + 30, t0 + 10
print(f"soak: {secs:.0f} s at {rate} records/s, receiver flapping every 30 s", flush=True)
print(f"{'s':>5} {'posted':>10} {'rec/s':>8} {'VmRSS kB':>9} {'queued':>6} {'sent':>5} receiver", flush=True)
while time.time() - t0 < secs:
    time.sleep(0.2)
    now = time.time()
    if now >= next_flap:
        down = not down
        os.kill(rpid, signal.SIGUSR1 if down else signal.SIGUSR2)
        flaps += 1
        next_flap += 30
    if now >= next_rss:
        st = json.loads(get("/v1/status"))
        samples.append((now - t0, rss()))
        print(f"{now - t0:>5.0f} {posted:>10} {posted / (now - t0):>8.0f} {samples[-1][1]:>9} "
              f"{st['alerts']['queued']:>6} {st['alerts']['sent']:>5} {'down' if down else 'up'}",
              flush=True)
        next_rss += 30
stop.set()
th.join()
elapsed = time.time() - t0
if down:
    os.kill(rpid, signal.SIGUSR2)
# the receiver stays up until the queue is empty
drain0 = time.time()
while json.loads(get("/v1/status"))["alerts"]["queued"] > 0 and time.time() - drain0 < 600:
    time.sleep(0.5)
drained = time.time() - drain0
time.sleep(1)
st = json.loads(get("/v1/status"))
metrics = get("/metrics")
rss_end = rss()
received_total = sum(float(l.split()[-1]) for l in metrics.splitlines()
                     if l.startswith("driftd_records_received_total"))
failed = sum(float(l.split()[-1]) for l in metrics.splitlines()
             if l.startswith("driftd_alerts_failed_total"))
os.kill(dpid, signal.SIGTERM)
for _ in range(200):
    try:
        os.kill(dpid, 0)
        time.sleep(0.05)
    except ProcessLookupError:
        break

log = open(f"{t}/driftd.log").read().splitlines()
sent = set()
unexpected, retries = [], 0
for l in log:
    m = re.search(r"alert (firing|resolved)( \(repeat\))?: .* window=(\d+) ", l)
    if m:
        sent.add((m.group(1), int(m.group(3))))
    lvl = l.split(" ", 2)[1].rstrip(":") if l.count(" ") >= 2 else ""
    if lvl in ("emerg", "alert", "crit", "error", "warn"):
        if m or re.search(r"outbox \S+: attempt \d+ failed .*; retrying", l):
            retries += 0 if m else 1
        else:
            unexpected.append(l)
# Receivers deduplicate on the notification's id: a delivery repeated
# (at least once) carries the id of the first; two notifications never
# share one.
got, dup, ids, no_id, clash = set(), 0, {}, 0, 0
for l in open(f"{t}/received.jsonl"):
    b = json.loads(l)["body"]
    key = (b["status"], b["window"]["id"])
    nid = b.get("id")
    if nid is None:
        no_id += 1
    elif nid in ids:
        dup += 1
        clash += ids[nid] != key
    ids.setdefault(nid, key)
    got.add(key)
lost = sorted(sent - got)
extra = sorted(got - sent)
first = next(r for s, r in samples if s >= 60) if any(s >= 60 for s, _ in samples) else samples[0][1]
last = samples[-1][1]
firing = sum(1 for s, _ in sent if s == "firing")
print(f"\n{posted} records posted in {elapsed:.0f} s ({posted / elapsed:.0f}/s); driftd counted "
      f"{received_total:.0f}; {len(post_errors)} failed posts")
print(f"receiver flapped {flaps} times; {len(sent)} notifications sent ({firing} firing incl. repeats, "
      f"{len(sent) - firing} resolved); received {len(got)} distinct, {dup} duplicates by id, "
      f"{no_id} without an id, {clash} ids naming two notifications; "
      f"lost {len(lost)}; queue drained {drained:.1f} s after the load stopped; "
      f"{failed:.0f} dead-lettered")
print(f"delivery retries logged: {retries}; unexpected warnings/errors: {len(unexpected)}")
for l in unexpected[:10]:
    print("  " + l)
print(f"RSS at 60 s {first} kB, at the end of the load {last} kB ({last / first:.3f}), "
      f"max {max(r for _, r in samples)} kB, after the drain {rss_end} kB")
ok = (not lost and not extra and not post_errors and received_total == posted and failed == 0
      and no_id == 0 and clash == 0
      and not unexpected and last <= 1.10 * first and len(sent) > 0)
print("OK" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
rc=$?
set -e
wait $dpid 2>/dev/null || true
dpid=
exit $rc
