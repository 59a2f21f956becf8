#!/usr/bin/python3
"""Golden cases for stats/kolmogorov.h: scipy 1.10's kstwo.sf / kstwo.cdf and
ks_2samp (two-sided, method='auto').

Run with Debian's /usr/bin/python3 (python3-scipy 1.10) from the repository
root:  /usr/bin/python3 tests/golden/gen_ks.py > tests/golden/ks.json
The coverage table (which scipy branch each case takes) goes to stderr.

Sections of the fixture:
  kstwo      (n, d) -> sf, cdf, and the branch of scipy's _kolmogn each takes.
  ks2        small samples stored in full -> D, p, and the path scipy took.
  ks2_gen    large samples stored as a recipe tests/unit/test_kolmogorov.c
             replays exactly: a 64-bit LCG (Knuth's MMIX constants)
             s <- s * 6364136223846793005 + 1442695040888963407 (mod 2^64),
             r = s >> 33, value = (r % mod + add) / div; x draws n1 values
             from seed1, y draws n2 values from seed2, then the last `bump`
             values of y get + mod (moving them above everything else).
  ks2_exact  direct calls of _attempt_exact_2kssamp(n1, n2, g, d).
"""
import json
import math
import sys
import warnings
from collections import Counter

import numpy as np
import scipy
from scipy import stats
from scipy.stats._stats_py import _attempt_exact_2kssamp

assert scipy.__version__.startswith("1.10"), scipy.__version__

MAX_AUTO_N = 10000  # ks_2samp's 'auto' switch to the asymptotic distribution


def num(v):
    v = float(v)
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def kstwo_branch(n, x, cdf):
    """The path of scipy 1.10's kstwo.sf (cdf=False) or kstwo.cdf, mirroring
    rv_continuous's argument/support checks and _ksstats._kolmogn."""
    n = float(n)
    x = float(x)
    if math.isnan(x) or math.isnan(n) or not (n >= 1 and n == np.round(n)):
        return "invalid"
    if x <= 0.5 / n:
        return "support-low"
    if x >= 1.0:
        return "support-high"
    n = int(n)
    t = n * x
    if t <= 1.0:
        return "ruben-gambino-low-" + ("prod" if n <= 140 else "stirling")
    if t >= n - 1:
        return "ruben-gambino-high"
    if x >= 0.5:
        return "smirnov-x>=0.5"
    nxsq = t * x
    if n <= 140:
        if nxsq <= 0.754693:
            return "n<=140-dmtw"
        if nxsq <= 4:
            return "n<=140-pomeranz"
        return "n<=140-smirnov"
    if not cdf:
        if nxsq >= 370.0:
            return "n>140-sf-zero"
        if nxsq >= 2.2:
            return "n>140-smirnov"
    if nxsq >= 18.0:
        return "n>140-cdf-one"
    if n <= 100000 and n * x**1.5 <= 1.4:
        return "n>140-dmtw"
    return "n>140-pelzgood"


def kstwo_cases():
    pts = []
    # Named points, chosen to land in every region of the dispatch.
    named = [
        (10, float("nan")), (0.5, 0.3), (2.5, 0.3), (0, 0.3), (-3, 0.3),
        (10, -0.1), (10, 0.0), (10, 0.05), (1000, 0.5 / 1000),
        (10, np.nextafter(0.05, 1.0)), (5000, np.nextafter(0.5 / 5000, 1.0)),
        (10, 1.0), (10, 1.5), (10, np.nextafter(1.0, 0.0)), (100000, np.nextafter(1.0, 0.0)),
        (1, 0.7), (1, 0.51), (2, 0.3), (2, 0.9), (3, 0.7), (10, 0.07), (10, 0.1), (140, 0.9 / 140),
        (141, 0.8 / 141), (5000, 0.75 / 5000), (5000, 1.0 / 5000), (200000, 0.6 / 200000),
        (10, 0.95), (10, 0.9), (140, 139.0 / 140), (1000, 0.9995),
        (20, 0.6), (500, 0.5), (8571, 0.55), (140, 0.5),
        (50, 0.1), (140, 0.07), (5, 0.25), (12, 0.2), (100, 0.0868),
        (50, 0.2), (140, 0.15), (10, 0.3), (7, 0.4), (100, 0.1999), (140, 0.169),
        (100, 0.25), (140, 0.4), (30, 0.45), (60, 0.3),
        (5000, 0.3), (1500, 0.4999), (10000, 0.2), (250000, 0.04), (1000, 0.61), (141, 0.49),
        (400, 0.97),
        (1000, 0.05), (8571, 0.02), (5000, 0.0210), (141, 0.125), (30000, 0.012),
        (1000, 0.2), (8571, 0.05), (1000, 0.134), (5000, 0.0601),
        (1000, 0.01), (100000, 5e-4), (141, 0.05), (5000, 0.0035), (20000, 0.0012),
        (1000, 0.03), (200000, 0.002), (8571, 0.01), (8571, 0.0075), (100001, 5e-4),
        (141, 0.11), (5000, 0.005), (1000, 0.0469), (8571, 0.016), (3000, 0.002),
    ]
    pts.extend(named)
    # A grid in sqrt(n)*d for sizes on both sides of every cut-off.
    for n in (1, 2, 3, 4, 7, 16, 33, 80, 139, 140, 141, 142, 500, 1234, 5000, 8571, 99999,
              100000, 100001, 250000):
        for z in (0.05, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.2, 1.5, 1.8, 2.1, 2.5, 3.0, 4.5, 6.0):
            # scipy.special.smirnov costs O(n) terms (0.1 s at n = 1e5): keep
            # the one-sided region at the largest sizes to one case each.
            if n >= 99999 and z > 1.2 and not (n == 100000 and z == 1.5):
                continue
            d = z / math.sqrt(n)
            if d < 1.2:
                pts.append((n, d))
        for t in (0.51, 0.75, 0.999, 1.001, 1.5):
            pts.append((n, t / n))
    cases = []
    seen = set()
    for n, d in pts:
        key = (float(n), float(d)) if not math.isnan(d) else (float(n), "nan")
        if key in seen:
            continue
        seen.add(key)
        sf = stats.kstwo.sf(d, n)
        cdf = stats.kstwo.cdf(d, n)
        cases.append({
            "n": num(n), "d": num(d), "sf": num(sf), "cdf": num(cdf),
            "branch_sf": kstwo_branch(n, d, False),
            "branch_cdf": kstwo_branch(n, d, True),
        })
    return cases


def ks2_path(x, y):
    """The path scipy's ks_2samp(method='auto') takes for these samples."""
    n1, n2 = len(x), len(y)
    r = stats.ks_2samp(x, y)
    if max(n1, n2) > MAX_AUTO_N:
        path = "asymp"
        d_asymp = r.statistic
    else:
        data_all = np.concatenate([x, y])
        cdf1 = np.searchsorted(x, data_all, side="right") / n1
        cdf2 = np.searchsorted(y, data_all, side="right") / n2
        dd = cdf1 - cdf2
        minS = np.clip(-np.min(dd), 0, 1)
        maxS = np.max(dd)
        d = minS if minS > maxS else maxS
        ok, d_asymp, _ = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
        path = "exact" if ok else "exact-failed-asymp"
    if path != "exact":
        m, n = sorted([float(n1), float(n2)], reverse=True)
        neff = np.round(m * n / (m + n))
        path += " kstwo(n=%d):%s" % (neff, kstwo_branch(neff, d_asymp, False))
    return r, path


def ks2_cases():
    rng = np.random.default_rng(20240611)
    raw = []
    raw.append(("n1=n2=1 apart", [0.0], [1.0]))
    raw.append(("n1=n2=1 equal", [1.0], [1.0]))
    raw.append(("n1=1 n2=3", [2.0], [1.0, 2.0, 3.0]))
    raw.append(("identical p==1", [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]))
    raw.append(("signed zeros tie", [-0.0, 0.0, 1.0], [0.0, -0.0, 2.0]))
    raw.append(("n=5 h=1 exact>1 falls back", [1, 2, 3, 4, 5], [1, 2, 3, 4, 6]))
    raw.append(("n=7 h=1 exact>1 falls back", [1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 8]))
    raw.append(("n=30 h=1 exact>1 falls back", list(range(30)), list(range(29)) + [99]))
    raw.append(("n=1000 h=1 exact>1 falls back", list(range(1000)), list(range(999)) + [5000]))
    raw.append(("n=1000 h=2 exact>1 falls back", list(range(1000)),
                list(range(998)) + [5000, 5001]))
    raw.append(("equal n=20", rng.normal(size=20), rng.normal(0.5, 1, size=20)))
    raw.append(("equal n=200 separated tiny p", rng.uniform(0, 1, 200), rng.uniform(2, 3, 200)))
    raw.append(("coprime 7/11", rng.normal(size=7), rng.normal(1, 1, size=11)))
    raw.append(("coprime 13/17", rng.normal(size=13), rng.normal(0.3, 1, size=17)))
    raw.append(("coprime 97/101", rng.normal(size=97), rng.normal(0.2, 1, size=101)))
    raw.append(("gcd 6: 12/18", rng.normal(size=12), rng.normal(0.8, 1, size=18)))
    raw.append(("gcd 10: 20/50", rng.normal(size=20), rng.normal(0.4, 1.5, size=50)))
    raw.append(("multiple 30/10", rng.normal(size=30), rng.normal(0.1, 1, size=10)))
    raw.append(("multiple 150/50", rng.normal(size=150), rng.normal(0.0, 1.2, size=50)))
    raw.append(("separated 60/80 tiny p", rng.uniform(0, 1, 60), rng.uniform(5, 6, 80)))
    raw.append(("separated 3/200", [10.0, 11.0, 12.0], rng.uniform(0, 1, 200)))
    raw.append(("ties 3 values 40/30", rng.integers(0, 3, 40), rng.integers(0, 3, 30)))
    raw.append(("ties 2 values 100/120", rng.integers(0, 2, 100), rng.integers(0, 2, 120) * 1.0))
    raw.append(("ties shifted 5 values 90/60", rng.integers(0, 5, 90), rng.integers(1, 6, 60)))
    raw.append(("ties single value both", [7.0] * 25, [7.0] * 40))
    raw.append(("ties single value vs two", [7.0] * 25, [7.0] * 30 + [8.0] * 10))
    raw.append(("equal n=60 p near 1", np.arange(60) * 1.0, np.arange(60) + 0.5))
    raw.append(("negative values 33/44", -rng.exponential(size=33), -rng.exponential(2, size=44)))
    cases = []
    for name, x, y in raw:
        x = np.sort(np.asarray(x, dtype=float))
        y = np.sort(np.asarray(y, dtype=float))
        r, path = ks2_path(x, y)
        cases.append({"name": name, "x": [num(v) for v in x], "y": [num(v) for v in y],
                      "d": num(r.statistic), "p": num(r.pvalue), "path": path})
    return cases


def lcg_sample(seed, n, mod, add, div, bump=0):
    s = seed & 0xFFFFFFFFFFFFFFFF
    v = np.empty(n)
    for i in range(n):
        s = (s * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        r = s >> 33
        extra = mod if i >= n - bump else 0
        v[i] = (r % mod + add + extra) / div
    return np.sort(v)


def recipe(seed, n, t):
    return {"seed": seed, "n": n, "mod": t[0], "add": t[1], "div": t[2],
            "bump": t[3] if len(t) > 3 else 0}


def ks2_gen_cases():
    # (name, seed1, n1, x-recipe, seed2, n2, y-recipe); recipe = (mod, add, div[, bump])
    specs = [
        ("equal 10000 same dist", 1, 10000, (1000000, 0, 1000), 2, 10000, (1000000, 0, 1000)),
        ("equal 10000 shifted", 3, 10000, (1000000, 0, 1000), 4, 10000, (1000000, 20000, 1000)),
        ("10000/9999 same dist", 5, 10000, (1000000, 0, 1000), 6, 9999, (1000000, 0, 1000)),
        ("10000/9999 shifted", 7, 10000, (1000000, 0, 1000), 8, 9999, (1000000, 30000, 1000)),
        ("10000/9999 D~0.2 tiny p", 9, 10000, (1000000, 0, 1000), 10, 9999,
         (1000000, 200000, 1000)),
        ("10000/9999 separated", 11, 10000, (1000, 0, 1), 12, 9999, (1000, 5000, 1)),
        ("9973/10000 coprime", 13, 9973, (1 << 20, 0, 1 << 10), 14, 10000, (1 << 20, 9000, 1 << 10)),
        ("10000/5000 multiple", 15, 10000, (1000000, 0, 1000), 16, 5000, (1000000, 15000, 1000)),
        ("3000/4500 gcd 1500", 17, 3000, (100000, 0, 100), 18, 4500, (100000, 2000, 100)),
        ("10000/8000 heavy ties 5 values", 19, 10000, (5, 0, 1), 20, 8000, (5, 0, 1)),
        ("10000/10000 heavy ties shifted", 21, 10000, (4, 0, 1), 22, 10000, (5, 0, 1)),
        ("n=10000 h=1 exact>1 falls back", 23, 10000, (1000000, 0, 7), 23, 10000,
         (1000000, 0, 7, 1)),
        ("n=9999 h=2 exact>1 falls back", 24, 9999, (1000000, 0, 7), 24, 9999,
         (1000000, 0, 7, 2)),
        ("n=9998 h=1 exact < 1", 25, 9998, (1000000, 0, 7), 25, 9998, (1000000, 0, 7, 1)),
        ("asymp 30000/12000 same dist", 26, 30000, (1000000, 0, 1000), 27, 12000,
         (1000000, 0, 1000)),
        ("asymp 30000/12000 shifted", 28, 30000, (1000000, 0, 1000), 29, 12000,
         (1000000, 30000, 1000)),
        ("asymp 30000/12000 far", 30, 30000, (1000000, 0, 1000), 31, 12000,
         (1000000, 300000, 1000)),
        ("asymp 10001/10001 neff 5000.5 -> 5000", 32, 10001, (1000000, 0, 1000), 33, 10001,
         (1000000, 5000, 1000)),
        ("asymp 10003/10003 neff 5001.5 -> 5002", 34, 10003, (1000000, 0, 1000), 35, 10003,
         (1000000, 5000, 1000)),
        ("asymp 10001/40 small neff", 36, 10001, (1000000, 0, 1000), 37, 40,
         (1000000, 100000, 1000)),
        ("asymp 20000/20000 heavy ties", 38, 20000, (3, 0, 1), 39, 20000, (3, 0, 1)),
    ]
    cases = []
    for name, s1, n1, rx, s2, n2, ry in specs:
        x = lcg_sample(s1, n1, *rx)
        y = lcg_sample(s2, n2, *ry)
        r, path = ks2_path(x, y)
        cases.append({"name": name, "x": recipe(s1, n1, rx), "y": recipe(s2, n2, ry),
                      "d": num(r.statistic), "p": num(r.pvalue), "path": path})
    return cases


def ks2_exact_cases():
    specs = [(0.3, 7, 11), (0.3 + 1e-13, 7, 11), (0.0, 5, 8), (1e-9, 100, 300), (1.0, 1, 1),
             (1.0, 200, 300), (0.2, 5, 5), (0.4, 5, 5), (1.0 / 7, 7, 7), (0.5, 10000, 9999),
             (0.1, 10000, 10000), (1e-4, 10000, 10000), (0.0123, 4321, 1234), (0.987, 3, 1000)]
    cases = []
    for d, n1, n2 in specs:
        ok, d2, p = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), np.float64(d), "two-sided")
        cases.append({"d_in": num(d), "n1": n1, "n2": n2, "ok": bool(ok), "d": num(d2),
                      "p": num(p) if ok else None})
    return cases


def main():
    warnings.simplefilter("ignore", RuntimeWarning)
    out = {
        "generator": "tests/golden/gen_ks.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "kstwo": kstwo_cases(),
        "ks2": ks2_cases(),
        "ks2_gen": ks2_gen_cases(),
        "ks2_exact": ks2_exact_cases(),
    }
    cover = Counter()
    for c in out["kstwo"]:
        cover["sf  " + c["branch_sf"]] += 1
        cover["cdf " + c["branch_cdf"]] += 1
    print("kstwo branch coverage (scipy _kolmogn path: cases):", file=sys.stderr)
    for k in sorted(cover):
        print("  %-34s %d" % (k, cover[k]), file=sys.stderr)
    for sec in ("ks2", "ks2_gen"):
        print("%s paths:" % sec, file=sys.stderr)
        for c in out[sec]:
            print("  %-42s D=%-22r p=%-24r %s" % (c["name"], c["d"], c["p"], c["path"]),
                  file=sys.stderr)
    print("ks2_exact: %d cases (%d fall back)" % (
        len(out["ks2_exact"]), sum(not c["ok"] for c in out["ks2_exact"])), file=sys.stderr)
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
