#!/usr/bin/python3
"""Golden values for the binned metrics, distances, categorical tests and
multiple-testing corrections (tests/unit/test_metrics.c).

Run with Debian's Python: /usr/bin/python3 tests/golden/gen_metrics.py
It writes tests/golden/metrics.json. The formulas are Evidently's stattests
(get_binned_data, psi, kl_div, jensenshannon, hellinger, chi-square, z) and
scipy 1.10 (wasserstein_distance, energy_distance, entropy, jensenshannon,
chisquare), written the way those libraries compute them.
"""
import collections
import json
import math
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics.json")


def num(x):
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def counts_of(ref, cur):
    keys = sorted(set(ref) | set(cur))
    rc, cc = collections.Counter(ref), collections.Counter(cur)
    return keys, np.array([rc[k] for k in keys], float), np.array([cc[k] for k in keys], float)


def binned(ref, cur, numerical):
    """Evidently's get_binned_data (without the zero fill)."""
    if numerical and len(set(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r = np.histogram(ref, bins)[0] / len(ref)
        c = np.histogram(cur, bins)[0] / len(cur)
        return r, c, len(bins) - 1
    _, r, c = counts_of(list(ref), list(cur))
    return r / len(ref), c / len(cur), len(r)


def fill(p):
    p = p.copy()
    m = min(p[p != 0])
    np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return p


def hellinger(ref, cur, numerical):
    """Evidently's _hellinger_distance."""
    keys = list(set(ref) | set(cur))
    if not numerical:
        rc, cc = collections.Counter(ref), collections.Counter(cur)
        h = 0.0
        for k in keys:
            h += math.sqrt(rc[k] / len(ref) * cc[k] / len(cur))
        return math.sqrt(1 - np.clip(h, 0, 1))
    bins = np.histogram_bin_edges(keys, bins="sturges")
    h1 = np.histogram(ref, bins=bins, density=True)[0]
    h2 = np.histogram(cur, bins=bins, density=True)[0]
    # Evidently's hellinger_distance.py: the width from the edges, so one
    # repeated value (edges v - 0.5, v + 0.5) has width 1 and distance 0.
    width = (max(bins) - min(bins)) / (len(bins) - 1)
    h = 0.0
    for i in range(len(h1)):
        h += math.sqrt(h1[i] * h2[i]) * width
    return math.sqrt(1 - np.clip(h, 0, 1))


def chi(ref, cur):
    keys, r, c = counts_of(list(ref), list(cur))
    if len(keys) < 2:
        f_exp = r * (len(cur) / len(ref))
        return float(stats.chisquare(c, f_exp).statistic), None
    f_exp = r * (len(cur) / len(ref))
    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.chisquare(c, f_exp)
    if math.isinf(res.statistic):
        return "inf", 0.0
    return float(res.statistic), float(res.pvalue)


def ztest(ref, cur):
    ref, cur = list(ref), list(cur)
    if len(set(ref)) == 1 and len(set(cur)) == 1 and ref[0] == cur[0]:
        return float("nan"), 1.0
    first = sorted(set(ref) | set(cur))[0]
    a = np.array([0 if x == first else 1 for x in ref])
    b = np.array([0 if x == first else 1 for x in cur])
    n1, n2 = len(a), len(b)
    p1, p2 = float(sum(a)) / n1, float(sum(b)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - stats.norm.cdf(np.abs(z))))


def case(name, ref, cur, numerical):
    ref = np.asarray(ref, float) if numerical else list(ref)
    cur = np.asarray(cur, float) if numerical else list(cur)
    r, c, nbins = binned(ref, cur, numerical)
    out = {"name": name, "kind": "numerical" if numerical else "categorical", "nbins": nbins}
    if numerical:
        out["ref"] = [float(v) for v in ref]
        out["cur"] = [float(v) for v in cur]
    else:
        keys, rc, cc = counts_of(ref, cur)
        out["keys"] = keys
        out["ref_counts"] = [int(v) for v in rc]
        out["cur_counts"] = [int(v) for v in cc]
    m = {
        "psi": num(np.sum((fill(r) - fill(c)) * np.log(fill(r) / fill(c)))),
        "kl_div": num(stats.entropy(fill(r), fill(c))),
        "jensen_shannon": num(distance.jensenshannon(r, c)),
        "hellinger": num(hellinger(list(ref), list(cur), numerical)),
    }
    if numerical:
        w = stats.wasserstein_distance(ref, cur)
        m["wasserstein"] = num(w)
        m["wasserstein_normed"] = num(w / max(np.std(ref), 0.001))
        m["energy_distance"] = num(stats.energy_distance(ref, cur))
    else:
        keys, rc, cc = counts_of(ref, cur)
        m["tvd"] = num(0.5 * np.sum(np.abs(rc / len(ref) - cc / len(cur))))
        s, p = chi(ref, cur)
        m["chisquare"] = {"statistic": s, "p_value": p}
        if len(keys) <= 2:
            s, p = ztest(ref, cur)
            m["z"] = {"statistic": num(s), "p_value": num(p)}
    out["expected"] = m
    return out


def bh(p, q):
    """Benjamini-Hochberg step-up, written independently of the C code."""
    p = np.asarray(p, float)
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    below = p[order] < q * np.arange(1, m + 1) / m
    flags = np.zeros(m, bool)
    if below.any():
        k = np.max(np.nonzero(below)[0])
        flags[order[: k + 1]] = True
    return [bool(f) for f in flags]


def main():
    rng = np.random.default_rng(7)
    cases = []
    cases.append(case("normal_shift", np.round(rng.normal(0, 1, 400), 3),
                      np.round(rng.normal(0.3, 1.2, 250), 3), True))
    cases.append(case("all_values_equal", [5.0] * 50, [5.0] * 30, True))
    cases.append(case("equal_ref_other_cur", [5.0] * 50, [5.0] * 20 + [6.0] * 10, True))
    cases.append(case("few_distinct_unseen", rng.integers(1, 4, 120), rng.integers(1, 5, 90),
                      True))
    cases.append(case("twenty_distinct", np.arange(20.0).repeat(3), np.arange(2.0, 22.0), True))
    cases.append(case("twenty_one_distinct", np.arange(21.0).repeat(3), np.arange(2.0, 23.0),
                      True))
    # Values that land exactly on interior edges and on the last edge.
    cases.append(case("values_on_edges", np.arange(0.0, 41.0), np.arange(0.0, 41.0)[::2], True))
    cases.append(case("last_edge_heavy", np.concatenate([np.arange(30.0), [29.0] * 10]),
                      np.concatenate([np.arange(5.0, 30.0), [29.0] * 40]), True))
    cases.append(case("tiny_values", rng.normal(0, 1e-4, 300), rng.normal(1e-5, 1e-4, 200), True))
    cases.append(case("large_n", np.round(rng.gamma(2, 2, 3000), 2),
                      np.round(rng.gamma(2.2, 2, 1500), 2), True))
    # Categorical
    cases.append(case("cat_three", ["a"] * 50 + ["b"] * 30 + ["c"] * 20,
                      ["a"] * 40 + ["b"] * 40 + ["c"] * 20, False))
    cases.append(case("cat_only_in_current", ["a"] * 60 + ["b"] * 40,
                      ["a"] * 50 + ["b"] * 30 + ["new"] * 5, False))
    cases.append(case("cat_only_in_reference", ["a"] * 60 + ["b"] * 40 + ["old"] * 3,
                      ["a"] * 50 + ["b"] * 30, False))
    cases.append(case("cat_k1", ["x"] * 10, ["x"] * 7, False))
    cases.append(case("cat_binary", ["no"] * 70 + ["yes"] * 30, ["no"] * 50 + ["yes"] * 50,
                      False))
    cases.append(case("cat_binary_disjoint", ["no"] * 20, ["yes"] * 15, False))
    cases.append(case("cat_rare_zero_fill", ["a"] * 19999 + ["rare"], ["a"] * 900 + ["b"] * 100,
                      False))
    cases.append(case("cat_unicode_order", ["\u00e9t\u00e9"] * 5 + ["Zebra"] * 7,
                      ["\u00e9t\u00e9"] * 9 + ["Zebra"] * 2, False))

    pvals = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216, 0.222, 0.251,
             0.269, 0.275, 0.34, 0.341, 0.384, 0.569, 0.594, 0.696, 0.762, 0.94, 0.942, 0.975,
             0.986]
    corrections = [
        {"p": pvals, "alpha": 0.05, "fdr": bh(pvals, 0.05),
         "bonferroni": [bool(p < 0.05 / len(pvals)) for p in pvals]},
        {"p": pvals, "alpha": 0.25, "fdr": bh(pvals, 0.25),
         "bonferroni": [bool(p < 0.25 / len(pvals)) for p in pvals]},
        {"p": [0.04, 0.01, 0.03, 0.02], "alpha": 0.05, "fdr": bh([0.04, 0.01, 0.03, 0.02], 0.05),
         "bonferroni": [False, True, False, False]},
        {"p": [0.5, 0.6], "alpha": 0.05, "fdr": [False, False], "bonferroni": [False, False]},
    ]
    with open(OUT, "w") as f:
        json.dump({"generator": "tests/golden/gen_metrics.py", "scipy": scipy.__version__,
                   "numpy": np.__version__, "cases": cases, "corrections": corrections}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
