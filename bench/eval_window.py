#!/usr/bin/python3
"""The Python side of bench/window.sh: the same per-window computation with
scipy/numpy (scripts/reference_report.py's functions, i.e. Evidently's
formulas on scipy), timed alone: the CSV files are read and the columns
split before the clock starts.

usage: eval_window.py REFERENCE.csv WINDOW.csv [RUNS]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import reference_report as rr  # noqa: E402


def main():
    ref_path, cur_path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    ref_df, cur_df = rr.read_csv(ref_path), rr.read_csv(cur_path)
    cols = []
    for name in ref_df.columns:
        kind = rr.infer_kind(ref_df[name])
        ref, _, _ = rr.column_values(ref_df, name, kind)
        cur, missing, _ = rr.column_values(cur_df, name, kind)
        cols.append((name, kind, ref, cur, missing))
    for all_metrics in (False, True):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            for name, kind, ref, cur, missing in cols:
                rr.feature_report(name, kind, ref, cur, missing, len(ref_df), all_metrics)
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        label = "all metrics " if all_metrics else "auto tests  "
        print(f"{label}: best {times[0]:.2f} ms, median {times[len(times) // 2]:.2f} ms ({runs} runs)")


if __name__ == "__main__":
    main()
