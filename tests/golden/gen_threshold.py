#!/usr/bin/python3
"""Golden cases for the drift decision: how each test compares its value with
its threshold, as Evidently's source does (tests/unit/test_threshold.c).

Run with Debian's Python from the repository root:
    /usr/bin/python3 tests/golden/gen_threshold.py
It writes tests/golden/threshold.json with two parts:

- "evidently": per test, Evidently's default threshold and its comparison,
  copied from the return line of each test in Evidently's source
  (evidentlyai/evidently, commit a4aa4c2b, May 2026,
  src/evidently/legacy/calculations/stattests/; the file and line are given
  beside each entry below). "<=" and "<" compare a p-value ("drift when
  p <= threshold"), ">=" and ">" a distance. Tests whose StatTest has no
  default_threshold get the registry's default, 0.05 (registry.py, line 38).
- "cases": samples whose p-value or distance lands exactly on the default
  threshold, or that are the edge case of a metric, with scipy 1.10's value
  and Evidently's verdict, computed here with Evidently's formulas.
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import stats

assert scipy.__version__.startswith("1.10"), scipy.__version__

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "threshold.json")

# name: (comparison, default threshold, Evidently's file and line of the comparison)
EVIDENTLY = {
    "ks": ("<=", 0.05, "ks_stattest.py:50 (threshold: registry.py:38 default 0.05; ks sets 0.05 at :57)"),
    "chisquare": ("<", 0.05, "chisquare_stattest.py:47 (threshold: registry.py:38)"),
    "z": ("<", 0.05, "z_stattest.py:92 (threshold: registry.py:38)"),
    "cramer_von_mises": ("<=", 0.1, "cramer_von_mises_stattest.py:212, threshold :219"),
    "anderson": ("<", 0.1, "anderson_darling_stattest.py:43, threshold :50"),
    "wasserstein_normed": (">=", 0.1, "wasserstein_distance_norm.py:52, threshold :59"),
    "energy_distance": (">", 0.1, "energy_distance.py:49, threshold :56"),
    "psi": (">=", 0.1, "psi.py:56, threshold :63"),
    "kl_div": (">=", 0.1, "kl_div.py:53, threshold :60"),
    "jensen_shannon": (">=", 0.1, "jensenshannon.py:60, threshold :67"),
    "hellinger": (">=", 0.1, "hellinger_distance.py:90, threshold :97"),
}


def evidently_drift(test, value):
    op, threshold, _ = EVIDENTLY[test]
    return {"<=": value <= threshold, "<": value < threshold, ">=": value >= threshold,
            ">": value > threshold}[op]


def hellinger_numeric(ref, cur):
    """Evidently's _hellinger_distance for a numerical column, literally
    (hellinger_distance.py:74-88): the bin width comes from the edges."""
    keys = list(set(ref) | set(cur))
    bins = np.histogram_bin_edges(keys, bins="sturges")
    h1 = np.histogram(np.asarray(ref, float), bins=bins, density=True)[0]
    h2 = np.histogram(np.asarray(cur, float), bins=bins, density=True)[0]
    bin_width = (max(bins) - min(bins)) / (len(bins) - 1)
    h = 0.0
    for i in range(len(h1)):
        h += math.sqrt(float(h1[i]) * float(h2[i])) * bin_width
    h = np.clip(h, 0, 1)
    return math.sqrt(1 - h)


def case(name, test, ref, cur, note):
    ref = [float(v) for v in ref]
    cur = [float(v) for v in cur]
    out = {"name": name, "test": test, "ref": ref, "cur": cur, "note": note}
    if test == "ks":
        r = stats.ks_2samp(ref, cur, method="auto")
        out["statistic"], out["p_value"] = float(r.statistic), float(r.pvalue)
        value = out["p_value"]
    elif test == "cramer_von_mises":
        r = stats.cramervonmises_2samp(ref, cur, method="auto")
        out["statistic"], out["p_value"] = float(r.statistic), float(r.pvalue)
        value = out["p_value"]
    elif test == "hellinger":
        out["statistic"], out["p_value"] = hellinger_numeric(ref, cur), None
        value = out["statistic"]
    else:
        raise ValueError(test)
    out["threshold"] = EVIDENTLY[test][1]
    out["on_threshold"] = value == out["threshold"]
    out["drift"] = bool(evidently_drift(test, value))
    return out


def main():
    cases = [
        case("ks_p_on_threshold", "ks", [1.0, 2.0], [0.5] + list(range(3, 16)),
             "exact p = 1/20: Evidently drifts (p <= 0.05)"),
        case("cvm_p_on_threshold", "cramer_von_mises", [1, 2, 3], [4, 5, 6],
             "exact p = 2/20: Evidently drifts (p <= 0.1)"),
        case("hellinger_constant_identical", "hellinger", [1, 1, 1], [1, 1, 1],
             "one distinct value: edges 0.5 and 1.5, bin width 1, distance 0"),
        case("hellinger_constant_evidently_unit_test", "hellinger", [1] * 50, [1] * 50,
             "Evidently's test_hellinger_distance: 0.0, no drift"),
        case("hellinger_constant_other_value", "hellinger", [7] * 40, [7] * 25,
             "one distinct value, unequal sizes"),
        case("hellinger_constant_fraction", "hellinger", [0.1] * 4, [0.1] * 9,
             "edges -0.4 and 0.6 are rounded, as numpy rounds them"),
    ]
    for c in cases:
        if c["name"].endswith("on_threshold"):
            assert c["on_threshold"], c
    table = {k: {"comparison": v[0], "threshold": v[1], "source": v[2]}
             for k, v in EVIDENTLY.items()}
    with open(OUT, "w") as f:
        json.dump({"generator": "tests/golden/gen_threshold.py", "scipy": scipy.__version__,
                   "numpy": np.__version__,
                   "evidently_source": "evidentlyai/evidently a4aa4c2b "
                                       "src/evidently/legacy/calculations/stattests/",
                   "evidently": table, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
