#!/bin/sh
# The first hour with data nobody prepared for driftd: scikit-learn's
# breast-cancer and wine sets (Debian's python3-sklearn), through the CLI
# and the daemon, with the mistakes a new user makes. Each step prints what
# driftd answered. Usage: examples/first-hour/run.sh [DRIFTD]
set -u
here=$(cd "$(dirname "$0")" && pwd)
D=${1:-$here/../../build/agent/driftd}
W=$(mktemp -d /tmp/driftd-first-hour.XXXXXX)
trap 'kill "$pid" 2>/dev/null; rm -rf "$W"' EXIT
pid=
step() { printf '\n== %s\n' "$*"; }

/usr/bin/python3 "$here/prepare.py" "$W" || { echo "needs python3-sklearn" >&2; exit 2; }

step "1. A baseline from the training rows (two patients of every three)"
"$D" baseline -i "$W/bc_train.csv" -o "$W/bc.json"

step "2. check: the other patients (the same population)"
"$D" check -b "$W/bc.json" -i "$W/bc_prod.csv" | tail -1; echo "exit $?"

step "3. check: only the largest tumours (a drifted population)"
"$D" check -b "$W/bc.json" -i "$W/bc_prod_drifted.csv" | tail -1

step "4. check: the wine data against the breast-cancer baseline"
"$D" check -b "$W/bc.json" -i "$W/wine.csv"; echo "exit $?"

step "5. check: a semicolon-separated export"
"$D" check -b "$W/bc.json" -i "$W/bc_prod_semicolon.csv" | tail -1

cat >"$W/c.json" <<J
{"model": "breast-cancer", "baseline": "$W/bc.json", "state_dir": "$W/state",
 "listen": "127.0.0.1:0", "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 10, "sample": 10000},
 "drift": {"quality": {"missing_rate": 0.2}}}
J
step "6. check --config (quality.missing_rate 0.2): three columns renamed upstream"
"$D" check --config "$W/c.json" -b "$W/bc.json" -i "$W/bc_prod_renamed.csv" 2>&1 | grep -v '^feature\|^[a-z_]* *numerical' ; echo "exit $?"

step "7. The daemon: the same files posted to POST /v1/ingest"
"$D" run --config "$W/c.json" 2>"$W/daemon.log" &
pid=$!
i=0; while [ ! -s "$W/state/listen" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
U="http://$(cat "$W/state/listen")"
# post FILE: what the daemon answers
post() {
    printf '%s -> HTTP ' "$1"
    curl -s -o "$W/answer" -w '%{http_code}: ' -H 'Content-Type: text/csv' \
        --data-binary @"$W/$1" "$U/v1/ingest"
    /usr/bin/python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
print("accepted", a["accepted"], "rejected", a["rejected"], end="")
if "found" in a:
    print("; found", a["found"][:3], "expected", a["expected"][:3], "...", end="")
print()' "$W/answer"
}
# evaluate: the window closed now, in one line per drifted feature
evaluate() {
    printf 'evaluate -> '
    curl -s -X POST "$U/v1/evaluate" | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
d = r["dataset"]
print("dataset drift:", d["drift"], "-", d["drifted_features"], "of", d["total_features"], "features drifted")
for f in r["features"]:
    if f["drift"]:
        print("   ", f["name"], "missing_rate", f["missing_rate"])'
}
post wine.csv
post bc_prod_semicolon.csv
evaluate
post bc_prod_renamed.csv
evaluate
printf 'unknown columns counted: '
curl -s "$U/v1/status" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["inputs"][0]["unknown_columns"])'
kill "$pid"; wait "$pid" 2>/dev/null; pid=
step "8. What the daemon logged (warnings)"
grep -E 'warn|error' "$W/daemon.log" | cut -c1-200
