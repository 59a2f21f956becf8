#!/bin/sh
# Evaluation of one window: 25 features (20 numerical, 5 categorical), a
# 50,000-row reference sample, a 10,000-record window; driftd's
# drift_evaluate (bench_eval_window) against the same computation in
# scipy (bench/eval_window.py), both timed in this one run, parsing excluded.
# Targets: >= 20x faster than scipy; < 20 ms with auto tests, < 100 ms with
# every metric. usage: bench/window.sh   (after make; data from gen_data.py)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
B=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -f bench/data/ref.csv ] || "$PYTHON" bench/gen_data.py
mkdir -p bench/out
head -n 50001 bench/data/ref.csv >bench/out/ref50k.csv
head -n 10001 bench/data/cur.csv >bench/out/cur10k.csv
"$B/bench_eval_window" >/dev/null 2>&1 || true
"$B/agent/driftd" baseline -i bench/out/ref50k.csv --max-sample 50000 -o bench/out/base50k.json 2>/dev/null
echo "== driftd (C, $(nproc) cores available)"
"$B/bench_eval_window" bench/out/base50k.json bench/out/cur10k.csv 30 | tee bench/out/window-c.txt
echo "== scipy (Python)"
"$PYTHON" bench/eval_window.py bench/out/ref50k.csv bench/out/cur10k.csv 3 | tee bench/out/window-py.txt
for mode in auto all; do
    c=$(grep "^$mode" bench/out/window-c.txt | sed 's/.*median \([0-9.]*\) ms.*/\1/')
    p=$(grep "^$mode" bench/out/window-py.txt | sed 's/.*median \([0-9.]*\) ms.*/\1/')
    awk -v c="$c" -v p="$p" -v m="$mode" 'BEGIN { printf "%s: driftd %.1f ms, scipy %.1f ms, %.1fx\n", m, c, p, p / c }'
done
