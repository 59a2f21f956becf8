#!/usr/bin/python3
"""Golden cases for stats/cvm.h: scipy 1.10's cramervonmises_2samp
(method='auto') and anderson_ksamp (midrank=True) on two samples.

Run with Debian's /usr/bin/python3 (python3-scipy 1.10) from the repository
root:  /usr/bin/python3 tests/golden/gen_cvm.py > tests/golden/cvm.json

Small cases store their samples. Large cases store only a recipe that
tests/unit/test_cvm.c replays exactly: a 32-bit LCG (Numerical Recipes'
a = 1664525, c = 1013904223) drawn for x, then for y;
x_i = ((s >> 8) % r1) / div, y_j = ((s >> 8) % r2 + shift) / div.
"""
import json
import math
import sys
import warnings

import numpy as np
import scipy
from scipy import stats

assert scipy.__version__.startswith("1.10"), scipy.__version__


def lcg_samples(seed, n1, n2, r1, r2, shift, div):
    s = seed & 0xFFFFFFFF
    out = []
    for n, r, off in ((n1, r1, 0), (n2, r2, shift)):
        v = np.empty(n)
        for i in range(n):
            s = (1664525 * s + 1013904223) & 0xFFFFFFFF
            v[i] = ((s >> 8) % r + off) / div
        out.append(np.sort(v))
    return out


def num(v):
    v = float(v)
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def run(test, x, y):
    """(rc, statistic, p) as the C API reports them; scipy exceptions -> -1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if test == "cvm":
                r = stats.cramervonmises_2samp(x, y)
            else:
                r = stats.anderson_ksamp([x, y])
        except (ValueError, IndexError):
            return -1, math.nan, math.nan
    if math.isnan(r.statistic):  # anderson with N == 3
        return -1, math.nan, math.nan
    return 0, r.statistic, r.pvalue


cases = []


def add(test, category, x, y, gen=None):
    x = np.sort(np.asarray(x, dtype=float))
    y = np.sort(np.asarray(y, dtype=float))
    rc, st, p = run(test, x, y)
    c = {"test": test, "category": category}
    if gen is None:
        c["x"] = [float(v) for v in x]
        c["y"] = [float(v) for v in y]
    else:
        c["gen"] = gen
    c.update({"rc": rc, "stat": num(st), "p": num(p)})
    cases.append(c)
    return c


def add_gen(test, category, seed, n1, n2, r1, r2, shift, div):
    gen = {"seed": seed, "n1": n1, "n2": n2, "r1": r1, "r2": r2, "shift": shift, "div": div}
    x, y = lcg_samples(seed, n1, n2, r1, r2, shift, div)
    return add(test, category, x, y, gen)


rng = np.random.default_rng(20240611)


def normal(n, loc=0.0):
    return rng.normal(loc, 1.0, n)


def ints(n, k, off=0):
    return rng.integers(0, k, n) + off


# ---- Cramer-von Mises, exact path (max(n1, n2) <= 20) ----
add("cvm", "cvm_exact", [1, 2], [3, 4])
add("cvm", "cvm_exact", [1, 3], [2, 4])
add("cvm", "cvm_exact", [1, 1], [1, 1])               # all tied: T = 0, p = 1
add("cvm", "cvm_exact", [0.5, 2.5], [1.5, 9, 10])
add("cvm", "cvm_exact", [1, 2], list(range(3, 21)))   # n = 2 vs 20
add("cvm", "cvm_exact", list(range(20)), [-1, 30])    # 20 vs 2
add("cvm", "cvm_exact", normal(3), normal(5, 1.0))
add("cvm", "cvm_exact", normal(5), normal(5))
add("cvm", "cvm_exact", normal(7), normal(6, 0.7))
add("cvm", "cvm_exact", normal(10), normal(10, 0.3))
add("cvm", "cvm_exact", ints(10, 4), ints(12, 4, 1))  # ties
add("cvm", "cvm_exact", ints(13, 3), ints(17, 3))     # heavy ties
add("cvm", "cvm_exact", ints(8, 6), ints(8, 6))
add("cvm", "cvm_exact", normal(19), normal(20, 0.5))  # lcm 380
add("cvm", "cvm_exact", normal(20), normal(20, 0.8))
add("cvm", "cvm_exact", normal(20), normal(20))
add("cvm", "cvm_exact", normal(15), normal(20) + 5)   # p near 0 (separated)
add("cvm", "cvm_exact", list(range(20)), list(range(100, 120)))  # smallest p
add("cvm", "cvm_exact", np.arange(16) * 2.0, np.arange(16) * 2.0 + 1)  # interleaved, p near 1
add("cvm", "cvm_exact", normal(11), normal(4))
add("cvm", "cvm_exact", ints(20, 2), ints(3, 2))
add("cvm", "cvm_exact", normal(17), normal(19, 0.4))

# ---- Cramer-von Mises, asymptotic path (max(n1, n2) > 20) ----
add("cvm", "cvm_asym", normal(21), normal(21, 0.5))
add("cvm", "cvm_asym", normal(2), normal(21))
add("cvm", "cvm_asym", normal(21), normal(20))
add("cvm", "cvm_asym", normal(30), normal(25))
add("cvm", "cvm_asym", ints(40, 5), ints(35, 5, 1))   # ties
add("cvm", "cvm_asym", np.arange(30.0), np.arange(30.0) + 0.5)  # p just below 1
add("cvm", "cvm_asym", np.arange(40.0), np.arange(40.0) + 0.5)  # p == 1 (tn < 0.003)
add("cvm", "cvm_asym", np.arange(30.0), np.arange(30.0))        # identical: T = 0, p = 1
add("cvm", "cvm_asym", normal(25), normal(30) + 6)    # p near 0 (the series bottoms out ~1e-12)
add_gen("cvm", "cvm_asym", 1, 100, 80, 1 << 24, 1 << 24, 0, 1000.0)
add_gen("cvm", "cvm_asym", 2, 500, 700, 1000, 1000, 40, 1000.0)
add_gen("cvm", "cvm_asym", 3, 1000, 1000, 10, 10, 0, 1.0)           # heavy ties
add_gen("cvm", "cvm_asym", 4, 2000, 300, 1 << 24, 1 << 24, 300000, 1000.0)
add_gen("cvm", "cvm_asym", 5, 5000, 5000, 1 << 20, 1 << 20, 0, 1000.0)
add_gen("cvm", "cvm_asym", 6, 5000, 4000, 1 << 20, 1 << 20, 9000, 1000.0)
add_gen("cvm", "cvm_asym", 7, 10000, 20000, 50, 50, 1, 10.0)        # ties, p near 0
add_gen("cvm", "cvm_asym", 8, 50000, 50000, 1 << 24, 1 << 24, 0, 1000.0)
add_gen("cvm", "cvm_asym", 9, 50000, 50000, 1 << 24, 1 << 24, 40000, 1000.0)
add_gen("cvm", "cvm_asym", 10, 50000, 3000, 1000, 1000, 10, 1000.0)
add_gen("cvm", "cvm_asym", 11, 50000, 50000, 1 << 24, 1 << 24, 1 << 24, 1000.0)  # separated
add_gen("cvm", "cvm_asym", 12, 30, 50000, 7, 7, 0, 1.0)


# p near 1 and mid-range for the asymptotic series: scan shifts deterministically.
def scan(test, category, seed, n1, n2, r, div, want, count):
    got = 0
    for shift in range(0, r, max(1, r // 400)):
        x, y = lcg_samples(seed, n1, n2, r, r, shift, div)
        rc, st, p = run(test, x, y)
        if rc == 0 and want(p):
            add_gen(test, category, seed, n1, n2, r, r, shift, div)
            got += 1
            if got == count:
                return


scan("cvm", "cvm_asym", 13, 400, 300, 100000, 100.0, lambda p: 0.01 < p < 0.2, 2)
scan("cvm", "cvm_asym", 14, 3000, 3000, 100000, 100.0, lambda p: 1e-6 < p < 1e-3, 1)
scan("cvm", "cvm_asym", 15, 80, 90, 100000, 100.0, lambda p: 0.95 < p < 1.0, 1)

# ---- Anderson-Darling k-sample (k = 2, midrank) ----
add("anderson", "ad_small", [1, 2], [3, 4])
add("anderson", "ad_small", [5], [1, 2, 3])
add("anderson", "ad_small", [1, 1], [1, 2])           # heavy ties, A2 = 0
add("anderson", "ad_small", [1], [1, 1, 1, 2])
add("anderson", "ad_small", normal(10), normal(12))
add("anderson", "ad_small", normal(15), normal(15, 1.0))
add("anderson", "ad_small", normal(20), normal(30, 0.6))
add("anderson", "ad_small", normal(8), normal(40) + 4)  # capped at 0.001
add("anderson", "ad_small", ints(30, 3), ints(30, 3))   # heavy ties
add("anderson", "ad_small", ints(25, 4), ints(35, 4, 1))
add("anderson", "ad_small", ints(50, 2), ints(50, 2))
add("anderson", "ad_small", np.arange(9.0), np.arange(200.0, 231.0))
add_gen("anderson", "ad_large", 21, 1000, 1000, 1 << 24, 1 << 24, 0, 1000.0)     # no ties
add_gen("anderson", "ad_large", 22, 1000, 1000, 5, 5, 0, 1.0)                    # heavy ties
add_gen("anderson", "ad_large", 23, 5000, 200, 3, 3, 1, 1.0)
add_gen("anderson", "ad_large", 24, 50000, 50000, 1 << 24, 1 << 24, 0, 1000.0)
add_gen("anderson", "ad_large", 25, 50000, 50000, 1 << 24, 1 << 24, 500000, 1000.0)
add_gen("anderson", "ad_large", 26, 50000, 700, 1000, 1000, 0, 100.0)
add_gen("anderson", "ad_large", 27, 40, 50000, 20, 20, 0, 1.0)
add_gen("anderson", "ad_large", 28, 2, 2, 1 << 24, 1 << 24, 0, 1000.0)
add_gen("anderson", "ad_large", 29, 50000, 20000, 100000, 100000, 0, 1000.0)
scan("anderson", "ad_mid", 31, 200, 150, 100000, 100.0, lambda p: 0.001 < p < 0.25, 4)
scan("anderson", "ad_mid", 32, 3000, 5000, 100000, 100.0, lambda p: 0.001 < p < 0.25, 3)
scan("anderson", "ad_mid", 33, 50000, 30000, 100000, 100.0, lambda p: 0.001 < p < 0.25, 2)
scan("anderson", "ad_mid", 34, 500, 500, 30, 1.0, lambda p: 0.001 < p < 0.25, 2)    # ties

# ---- cases scipy rejects (ValueError / IndexError / NaN): C returns -1 ----
add("cvm", "error", [1.0], [2.0, 3.0])
add("cvm", "error", [1.0, 2.0], [3.0])
add("cvm", "error", [], [1.0, 2.0])
add("anderson", "error", [], [1.0, 2.0])
add("anderson", "error", [1.0, 2.0], [])
add("anderson", "error", [3.0, 3.0], [3.0, 3.0, 3.0])  # one distinct value
add("anderson", "error", [1.0], [2.0])                 # N = 2: IndexError
add("anderson", "error", [1.0], [2.0, 3.0])            # N = 3: NaN

for c in cases:
    if c["category"] == "error":
        assert c["rc"] == -1, c

json.dump({"generator": "tests/golden/gen_cvm.py", "scipy": scipy.__version__,
           "numpy": np.__version__, "cases": cases}, sys.stdout, indent=None,
          separators=(",", ":"))
sys.stdout.write("\n")
