#!/usr/bin/python3
"""The data of test_html_report.sh: a reference and a drifted current CSV
of 25 features (18 numerical, 7 categorical), standard library only, fixed
seed (the same bytes on every run).

Seven features drift by a lot (shifted or rescaled distributions, one
category mix reversed, one categorical feature with categories the
reference never had); the other 18 come from the same distributions in
both files. Two feature names carry HTML metacharacters: one is a script
element that would log a console error if the page ran it, one has both
quotes, an ampersand and angle brackets. Some cells are empty (missing).

usage: html_data.py OUTDIR [ROWS]   writes OUTDIR/ref.csv and OUTDIR/cur.csv
"""

import csv
import math
import random
import sys

HOSTILE_SCRIPT = '<script>console.error("escaped? no")</script>'
HOSTILE_QUOTES = 'a"b\'c&d<e>'


def columns():
    """(name, kind, reference sampler, current sampler) per feature."""
    def normal(mu, sd):
        return lambda r: r.gauss(mu, sd)

    def expo(lam):
        return lambda r: r.expovariate(lam)

    def unif(a, b):
        return lambda r: r.uniform(a, b)

    def lognorm(mu, sd):
        return lambda r: r.lognormvariate(mu, sd)

    def cat(names, weights):
        return lambda r: r.choices(names, weights)[0]

    cols = []
    # 7 drifting features
    cols.append(("income", "num", lognorm(10, 0.5), lognorm(10.6, 0.5)))
    cols.append(("age", "num", normal(40, 10), normal(48, 10)))
    cols.append(("latency_ms", "num", expo(1 / 120), expo(1 / 200)))
    cols.append((HOSTILE_SCRIPT, "num", normal(0, 1), normal(0, 2.5)))
    cols.append(("score", "num", unif(0, 1), unif(0.3, 1.3)))
    cols.append(("plan", "cat", cat(["free", "pro", "team"], [6, 3, 1]),
                 cat(["free", "pro", "team"], [1, 3, 6])))
    cols.append(("country", "cat", cat(["de", "fr", "it", "es"], [4, 3, 2, 1]),
                 cat(["de", "fr", "it", "es", "pl", "nl"], [4, 3, 2, 1, 3, 3])))
    # 18 steady features
    for i in range(11):
        cols.append((f"steady_{i:02d}", "num", normal(i, 1 + i / 5), normal(i, 1 + i / 5)))
    cols.append((HOSTILE_QUOTES, "num", expo(1), expo(1)))
    cols.append(("uniform_width", "num", unif(-3, 3), unif(-3, 3)))
    cols.append(("wide_range", "num", lognorm(0, 2), lognorm(0, 2)))
    cols.append(("device", "cat", cat(["ios", "android", "web"], [2, 2, 1]),
                 cat(["ios", "android", "web"], [2, 2, 1])))
    cols.append(("tier", "cat", cat(["a", "b"], [1, 1]), cat(["a", "b"], [1, 1])))
    cols.append(("channel", "cat", cat(["mail", "ads", "seo", "direct"], [1, 1, 1, 1]),
                 cat(["mail", "ads", "seo", "direct"], [1, 1, 1, 1])))
    cols.append(("color <b>bold</b>", "cat", cat(["red & blue", "<green>", "\"yellow\""], [1, 1, 1]),
                 cat(["red & blue", "<green>", "\"yellow\""], [1, 1, 1])))
    assert len(cols) == 25
    return cols


def write(path, seed, rows, current):
    r = random.Random(seed)
    cols = columns()
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([c[0] for c in cols])
        for _ in range(rows):
            row = []
            for name, kind, ref, cur in cols:
                v = (cur if current else ref)(r)
                if name.startswith("steady_0") and r.random() < 0.02:
                    row.append("")  # missing
                elif kind == "num":
                    row.append(f"{v:.6g}" if math.isfinite(v) else "")
                else:
                    row.append(v)
            w.writerow(row)


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    write(f"{out}/ref.csv", 1401, rows, False)
    write(f"{out}/cur.csv", 1402, rows, True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
