#!/usr/bin/python3
"""Data for bench/scaling.sh: a reference and a current CSV of ROWS rows and
FEATURES columns, four numerical for every categorical one (at least one of
each from 2 features up), the current's numerical columns shifted by 0.1
standard deviation and its categorical ones by a few points of share.
Fixed seeds: the same arguments give the same bytes.

usage: /usr/bin/python3 bench/gen_wide.py --rows N --features F --out DIR
writes DIR/ref_N_F.csv and DIR/cur_N_F.csv (skipped when they exist)
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

# One numerical distribution per column, by column index.
DISTS = [
    lambda rng, n: rng.normal(0.0, 1.0, n),
    lambda rng, n: rng.lognormal(3.0, 0.6, n),
    lambda rng, n: rng.exponential(2.0, n),
    lambda rng, n: rng.uniform(-5.0, 5.0, n),
    lambda rng, n: rng.gamma(2.0, 1.5, n),
    lambda rng, n: rng.standard_t(5, n),
    lambda rng, n: rng.poisson(3.0, n).astype(float),
]


def frame(seed, rows, features, drift):
    """The table: numerical n_i and categorical c_i columns, interleaved."""
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(features):
        if i % 5 == 4:
            k = 3 + i % 10
            p = np.linspace(1.0, 2.0, k)
            if drift:
                p = p + np.linspace(0.1, 0.0, k)
            cats = np.array([f"cat_{j:02d}" for j in range(k)])
            cols[f"c_{i}"] = cats[rng.choice(k, size=rows, p=p / p.sum())]
        else:
            v = DISTS[i % len(DISTS)](rng, rows)
            if drift:
                v = v + 0.1 * v.std()
            cols[f"n_{i}"] = v
    return pd.DataFrame(cols)


def main(argv=None):
    ap = argparse.ArgumentParser(description="reference and current CSV for bench/scaling.sh")
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--features", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, seed, drift in (("ref", 7, False), ("cur", 8, True)):
        path = out / f"{name}_{args.rows}_{args.features}.csv"
        if path.exists():
            continue
        # in slices of rows, so a wide table is never held whole as text
        step = max(1, 2_000_000 // max(1, args.features))
        df = frame(seed, args.rows, args.features, drift)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            for start in range(0, args.rows, step):
                df.iloc[start : start + step].to_csv(
                    f, index=False, header=start == 0, float_format="%.6g", lineterminator="\n"
                )
        tmp.rename(path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
