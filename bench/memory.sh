#!/bin/sh
# Memory at scale (issue 6, 4): a baseline of 50 features (40 numerical, 10
# categorical) built from 50,000 rows, then 10 million NDJSON records posted
# over HTTP (full validation, 2,000 records per POST), window.records
# 100,000 and window.sample 10,000: 100 windows. VmRSS is read from /proc
# after the first window and after every tenth. Targets: RSS after the last
# window within 5 % of RSS after the first, and at most 64 MiB.
# usage: bench/memory.sh [records, default 10000000]
# Data comes from Python's random with fixed seeds; exit 1 when a target is
# missed, 2 on a setup or ingest error.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
D=${DRIFTD:-$root/build/agent/driftd}
records=${1:-10000000}
PYTHON=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$T"' EXIT
"$PYTHON" - "$T" <<'PY'
import json, random, sys
t = sys.argv[1]
cats = [[f"c{j}_{k}" for k in range(3 + j)] for j in range(10)]
def row(rng, shift):
    r = {f"x{i}": round(rng.gauss(i * 0.5 + shift * (i % 3 == 0), 1 + i % 4), 4) for i in range(40)}
    for j in range(10):
        r[f"cat{j}"] = rng.choice(cats[j])
    return r
rng = random.Random(7)
with open(f"{t}/ref.ndjson", "w") as f:
    for _ in range(50000):
        f.write(json.dumps(row(rng, 0.0)) + "\n")
for b in range(4):  # four distinct batches, cycled; two drift a little
    rng = random.Random(100 + b)
    with open(f"{t}/batch{b}.ndjson", "w") as f:
        for _ in range(2000):
            f.write(json.dumps(row(rng, 0.1 * (b % 2))) + "\n")
PY
"$D" baseline -i "$T/ref.ndjson" -o "$T/base.json" 2>/dev/null
cat >"$T/c.json" <<J
{"model": "mem", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 1000, "sample": 10000}}
J
"$D" run --config "$T/c.json" 2>"$T/driftd.log" &
pid=$!
i=0
while [ ! -s "$T/state/listen" ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "memory.sh: driftd did not start" >&2; cat "$T/driftd.log" >&2; exit 2; }
    sleep 0.05
done
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
set +e
"$PYTHON" - "$T" "$(cat "$T/state/listen")" "$pid" "$records" "$rss0" <<'PY'
import http.client, sys, time
t, addr, pid, records, rss0 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
host, port = addr.rsplit(":", 1)
bodies = [open(f"{t}/batch{b}.ndjson", "rb").read() for b in range(4)]
per = bodies[0].count(b"\n")
def status(path):
    c.request("GET", path)
    r = c.getresponse()
    return r.read().decode()
def metric(name):
    return sum(float(l.split()[-1]) for l in status("/metrics").splitlines() if l.startswith(name))
def proc(key):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith(key + ":"):
            return int(l.split()[1])
c = http.client.HTTPConnection(host, int(port))
print(f"{records} records, 50 features, {per} per POST ({len(bodies[0])} bytes); "
      f"RSS before any record {rss0} kB")
print(f"{'records':>10} {'windows':>8} {'VmRSS kB':>10} {'RssAnon kB':>11} {'VmHWM kB':>10} {'s':>7}")
t0 = time.time()
posted, n, first, last, windows_at = 0, 0, None, None, 0
while posted < records:
    c.request("POST", "/v1/ingest", bodies[n % 4], {"Content-Type": "application/x-ndjson"})
    r = c.getresponse()
    r.read()
    if r.status != 202:
        sys.exit(f"memory.sh: HTTP {r.status} at {posted} records")
    n += 1
    posted += per
    if posted % 100000 == 0:
        # windows are evaluated on a worker thread: the count may lag a
        # window behind; sample once per tenth window evaluated
        w = int(metric("driftd_windows_evaluated_total"))
        if w != windows_at and (w == 1 or (w > 0 and w % 10 == 0)):
            rss = proc("VmRSS")
            first = first or rss
            last = rss
            print(f"{posted:>10} {w:>8} {rss:>10} {proc('RssAnon'):>11} {proc('VmHWM'):>10} "
                  f"{time.time() - t0:>7.1f}", flush=True)
        windows_at = w
el = time.time() - t0
for _ in range(100):  # the last window's evaluation, then its RSS
    w = int(metric("driftd_windows_evaluated_total"))
    if w >= posted // 100000:
        break
    time.sleep(0.05)
if w != windows_at:
    last = proc("VmRSS")
    print(f"{posted:>10} {w:>8} {last:>10} {proc('RssAnon'):>11} {proc('VmHWM'):>10} "
          f"{time.time() - t0:>7.1f}", flush=True)
    windows_at = w
got = int(metric("driftd_records_received_total"))
rej = int(metric("driftd_records_rejected_total"))
if got != posted or rej != 0:
    sys.exit(f"memory.sh: driftd counted {got} records ({rej} rejected), {posted} posted")
ratio = last / first
print(f"\n{posted} records, {windows_at} windows in {el:.1f} s ({posted / el:.0f} records/s)")
print(f"RSS last/first window: {last} / {first} kB = {ratio:.3f} (target <= 1.05); "
      f"last {last / 1024:.1f} MiB (target <= 64 MiB)")
sys.exit(0 if ratio <= 1.05 and last <= 64 * 1024 else 1)
PY
rc=$?
set -e
kill -TERM $pid
wait $pid || { echo "memory.sh: driftd exit $?" >&2; exit 2; }
pid=
exit $rc
