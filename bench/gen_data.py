#!/usr/bin/python3
"""Benchmark data for `driftd check` vs pandas + scipy (bench/check.sh).

Writes bench/data/ref.csv and bench/data/cur.csv: 100,000 rows x 25 columns
each, 20 numerical (several distributions, some mildly shifted in cur, two
with ~1% missing values, one integer-valued with few distinct values) and 5
categorical (3..12 string categories, one binary). Fixed seeds: the files are
byte-identical on every run.

usage: /usr/bin/python3 bench/gen_data.py [--rows N] [--out DIR]
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def numerical(rng, n, drift):
    """20 numerical columns; drift=True applies the mild shifts of cur."""
    s = 1.0 if drift else 0.0
    cols = {
        "n_normal": rng.normal(0.0 + 0.05 * s, 1.0, n),
        "n_normal_wide": rng.normal(100.0, 15.0, n),
        "n_lognormal": rng.lognormal(3.0, 0.6 + 0.05 * s, n),
        "n_exponential": rng.exponential(2.0, n),
        "n_uniform": rng.uniform(-5.0, 5.0 + 0.3 * s, n),
        "n_gamma": rng.gamma(2.0, 1.5, n),
        "n_beta": rng.beta(2.0, 5.0, n),
        "n_student_t": rng.standard_t(5, n),
        "n_mixture": np.where(rng.random(n) < 0.3 + 0.05 * s, rng.normal(-2, 0.5, n), rng.normal(2, 1.0, n)),
        "n_poisson": rng.poisson(3.0 + 0.2 * s, n).astype(float),
        "n_weibull": rng.weibull(1.5, n),
        "n_chisq": rng.chisquare(4, n),
        "n_laplace": rng.laplace(0.0, 1.0, n),
        "n_logistic": rng.logistic(10.0 + 0.1 * s, 2.0, n),
        "n_pareto": rng.pareto(3.0, n),
        "n_rayleigh": rng.rayleigh(2.0, n),
        "n_triangular": rng.triangular(0.0, 3.0, 10.0, n),
        "n_binomial": rng.binomial(40, 0.3, n).astype(float),
        "n_vonmises": rng.vonmises(0.0, 2.0, n),
        "n_scaled": rng.normal(5000.0, 800.0 * (1.1 if drift else 1.0), n),
    }
    # ~1% missing values in two columns.
    for name in ("n_normal_wide", "n_gamma"):
        v = cols[name]
        v[rng.random(n) < 0.01] = np.nan
    return cols


def categorical(rng, n, drift):
    """5 categorical columns with 3..12 string categories, one binary."""

    def pick(prefix, k, p):
        cats = np.array([f"{prefix}_{i:02d}" for i in range(k)])
        return cats[rng.choice(k, size=n, p=np.asarray(p) / np.sum(p))]

    k12 = np.linspace(1.0, 2.0, 12)
    if drift:
        k12 = k12[::-1]
    cols = {
        "c_binary": np.where(rng.random(n) < (0.33 if drift else 0.30), "yes", "no"),
        "c_three": pick("tier", 3, [0.5, 0.3, 0.2]),
        "c_five": pick("region", 5, [0.3, 0.25, 0.2, 0.15, 0.1] if not drift else [0.25, 0.25, 0.2, 0.15, 0.15]),
        "c_eight": pick("device", 8, np.ones(8)),
        "c_twelve": pick("country", 12, k12),
    }
    missing = rng.random(n) < 0.01
    cols["c_five"] = np.where(missing, "", cols["c_five"])
    return cols


def make(seed, n, drift):
    rng = np.random.default_rng(seed)
    cols = numerical(rng, n, drift)
    cols.update(categorical(rng, n, drift))
    return pd.DataFrame(cols)


def main(argv=None):
    ap = argparse.ArgumentParser(description="write bench/data/ref.csv and cur.csv")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "data"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, seed, drift in (("ref.csv", 20240601, False), ("cur.csv", 20240602, True)):
        df = make(seed, args.rows, drift)
        df.to_csv(out / name, index=False, float_format="%.6g", na_rep="", lineterminator="\n")
        print(f"wrote {out / name}: {len(df)} rows x {df.shape[1]} columns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
