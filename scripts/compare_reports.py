#!/usr/bin/python3
"""Compare two driftd drift reports (driftd check --json, reference_report.py).

usage: compare_reports.py [--quiet] [--ignore KEY]... A.json B.json

Exit 0 when they agree, 1 when they differ (each difference printed on
stdout as PATH: A-value vs B-value), 2 on usage or read errors.

Agreement, per docs/statistics.md ("Agreement with scipy and Evidently"):
  - p-values (any key named p_value): within 1e-9 absolute;
  - every other number: within 1e-9 relative or 1e-12 absolute;
  - hellinger and jensen_shannon are square roots of a quantity that is
    computed with cancellation near 0 (sqrt(1 - BC), sqrt(JS divergence)),
    so one ulp of the radicand moves them by ~1.5e-8 near 0: they also agree
    when their squares are within 1e-12 absolute;
  - integers, booleans and strings exactly; null only equals null;
  - a key present on one side only is ignored when its value is null;
  - features are matched by name, and their order must be the same;
  - --ignore KEY skips every key of that name at any depth, on both sides
    (for blocks one side does not compute, e.g. driftd's "quality").
"""

import json
import math
import sys

REL_TOL = 1e-9
ABS_TOL = 1e-12
P_ABS_TOL = 1e-9
SQUARED_KEYS = {"hellinger", "jensen_shannon"}


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def numbers_agree(key, a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    a = float(a)
    b = float(b)
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    if key == "p_value":
        return abs(a - b) <= P_ABS_TOL
    diff = abs(a - b)
    if diff <= ABS_TOL or diff <= REL_TOL * max(abs(a), abs(b)):
        return True
    if key in SQUARED_KEYS and abs(a * a - b * b) <= ABS_TOL:
        return True
    return False


def compare(a, b, path, key, out, ignore=frozenset()):
    if is_number(a) and is_number(b):
        # Counts are integers in both reports; 3 and 3.0 are the same number.
        if isinstance(a, int) != isinstance(b, int) and float(a) == float(b):
            return
        if not numbers_agree(key, a, b):
            out.append(f"{path}: {a!r} vs {b!r}")
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a.keys() | b.keys():
            if k in ignore:
                continue
            if k not in b:
                if a[k] is not None:
                    out.append(f"{path}.{k}: only in A ({json.dumps(a[k])})")
                continue
            if k not in a:
                if b[k] is not None:
                    out.append(f"{path}.{k}: only in B ({json.dumps(b[k])})")
                continue
            compare(a[k], b[k], f"{path}.{k}", k, out, ignore)
        return
    if isinstance(a, list) and isinstance(b, list):
        if key == "features":
            names_a = [f.get("name") for f in a if isinstance(f, dict)]
            names_b = [f.get("name") for f in b if isinstance(f, dict)]
            if names_a != names_b:
                out.append(f"{path}: feature names/order differ: {names_a} vs {names_b}")
            by_b = {f.get("name"): f for f in b if isinstance(f, dict)}
            for f in a:
                if isinstance(f, dict) and f.get("name") in by_b:
                    compare(f, by_b[f["name"]], f"{path}[{f['name']}]", None, out, ignore)
            return
        if len(a) != len(b):
            out.append(f"{path}: list length {len(a)} vs {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, f"{path}[{i}]", key, out, ignore)
        return
    if type(a) is not type(b) or a != b:
        out.append(f"{path}: {json.dumps(a)} vs {json.dumps(b)}")


def diff_reports(a, b, ignore=()):
    """List of human-readable differences (empty when the reports agree)."""
    out = []
    compare(a, b, "$", None, out, frozenset(ignore))
    return sorted(out)


def load(path):
    if path == "-":
        return json.load(sys.stdin)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    args = []
    ignore = []
    quiet = False
    it = iter(argv)
    for a in it:
        if a == "--quiet":
            quiet = True
        elif a == "--ignore":
            ignore.append(next(it, ""))
        elif a.startswith("--ignore="):
            ignore.append(a.split("=", 1)[1])
        else:
            args.append(a)
    if len(args) != 2 or "" in ignore:
        sys.stderr.write("usage: compare_reports.py [--quiet] [--ignore KEY]... A.json B.json\n")
        return 2
    try:
        a = load(args[0])
        b = load(args[1])
    except (OSError, ValueError) as e:
        sys.stderr.write(f"compare_reports.py: {e}\n")
        return 2
    diffs = diff_reports(a, b, ignore)
    if diffs:
        print(f"{len(diffs)} difference(s) between {args[0]} (A) and {args[1]} (B):")
        for d in diffs:
            print("  " + d)
        return 1
    if not quiet:
        print(f"reports agree: {args[0]} {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
