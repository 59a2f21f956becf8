#!/usr/bin/python3
"""Independent reference for `driftd check --json [--all-metrics]`.

Computes the drift report the way a data scientist would in a notebook:
pandas to read the files, scipy for the tests, and Evidently's stattest
formulas (get_binned_data, psi, kl_div, jensenshannon, hellinger,
wasserstein_distance_norm, chisquare, z) written out literally from
docs/statistics.md, because Evidently itself is not installable here.

driftd's numbers must match this script's to the tolerances of docs/statistics.md
(scripts/compare_reports.py checks them). Run with /usr/bin/python3
(Debian 12: numpy 1.24, scipy 1.10, pandas 1.5).

usage: reference_report.py --reference REF.csv --current CUR.csv
                           [--schema SCHEMA.json] [--all-metrics]
                           [--output OUT.json]
"""

import argparse
import json
import math
import re
import sys
import warnings

import numpy as np
import pandas as pd
from scipy import special, stats
from scipy.spatial import distance

DRIFT_SHARE = 0.5

# Default thresholds (docs/statistics.md, "The tests"). Each test compares
# as Evidently's source does (docs/statistics.md, "Thresholds"): ks and
# cramer_von_mises drift when p <= threshold, chisquare, z and anderson when
# p < threshold; distances when value >= threshold (energy_distance:
# strictly >).
THRESHOLDS = {
    "ks": 0.05,
    "chisquare": 0.05,
    "z": 0.05,
    "cramer_von_mises": 0.1,
    "anderson": 0.1,
    "wasserstein_normed": 0.1,
    "psi": 0.1,
    "kl_div": 0.1,
    "jensen_shannon": 0.1,
    "hellinger": 0.1,
    "energy_distance": 0.1,
    "tvd": 0.1,
}
PVALUE_TESTS = {"ks", "chisquare", "z", "cramer_von_mises", "anderson"}
PVALUE_AT_OR_BELOW = {"ks", "cramer_von_mises"}

# A number as C's strtod would take it when it consumes the whole field
# (decimal notation, inf/infinity/nan); no surrounding blanks, no
# underscores (which Python's float() would accept).
NUMBER_RE = re.compile(
    r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$",
    re.IGNORECASE,
)


def parse_number(text):
    """Return the float for a numeric field, or None when it is not a number."""
    if not NUMBER_RE.match(text):
        return None
    return float(text)  # correctly rounded, like strtod


# --------------------------------------------------------------------------
# Reading the data


def read_csv(path):
    """Every column as strings; pandas' default NA strings become NaN."""
    return pd.read_csv(path, dtype=str, keep_default_na=True)


NUMBER_CHARS = frozenset("0123456789.eE+-")


def parse_numbers(present):
    """Parse the present (non-NA) strings of a column.

    Returns (finite values as float64, count of +-inf/nan, count of values
    that are not numbers). Fast path: when every character is one of
    0-9 . e E + - and numpy's float conversion (Python's correctly rounded
    float(), like strtod) accepts them all, each field is a plain decimal
    number. Anything else goes value by value through NUMBER_RE.
    """
    arr = present.to_numpy(dtype=object)
    if NUMBER_CHARS.issuperset("".join(arr)):
        try:
            return arr.astype(np.float64), 0, 0
        except ValueError:
            pass
    values = []
    nonfinite = 0
    errors = 0
    for text in arr:
        v = parse_number(text)
        if v is None:
            errors += 1
        elif not math.isfinite(v):
            nonfinite += 1
        else:
            values.append(v)
    return np.array(values, dtype=np.float64), nonfinite, errors


def infer_kind(series):
    """numerical when every present value is a finite number (+-inf and nan
    count as missing, not as present), else categorical."""
    _, _, errors = parse_numbers(series.dropna())
    return "numerical" if errors == 0 else "categorical"


def column_values(df, name, kind):
    """(values used by the tests, missing count, type-error count).

    numerical: a float64 array of finite values; +-inf/nan are missing; text
    that is not a number is a type error (neither missing nor present).
    categorical: a list of strings.
    """
    if name not in df.columns:
        n = len(df)
        empty = np.array([], dtype=float) if kind == "numerical" else []
        return empty, n, 0
    col = df[name]
    missing = int(col.isna().sum())
    present = col.dropna()
    if kind == "categorical":
        return list(present), missing, 0
    values, nonfinite, type_errors = parse_numbers(present)
    return values, missing + nonfinite, type_errors


# --------------------------------------------------------------------------
# Evidently's binning and binned metrics


def zero_fill(percents):
    """Evidently's get_binned_data(feel_zeroes=True), one array on its own."""
    percents = percents.copy()
    nonzero = percents[percents != 0]
    smallest = min(nonzero)
    np.place(percents, percents == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return percents


def sorted_keys(ref, cur, kind):
    """Union of the distinct values; numbers sort numerically, strings by code
    point (Evidently uses set order, which only changes summation order)."""
    if kind == "numerical":
        return np.unique(np.concatenate([ref, cur]))
    return sorted(set(ref) | set(cur))


def binned(ref, cur, kind, fill):
    """Evidently's get_binned_data: Sturges histogram over the pooled data
    when a numerical feature has > 20 distinct reference values, else one bin
    per distinct value of the union."""
    ref_s = pd.Series(ref)
    cur_s = pd.Series(cur)
    if kind == "numerical" and ref_s.nunique() > 20:
        bins = np.histogram_bin_edges(pd.concat([ref_s, cur_s], axis=0).values, bins="sturges")
        r = np.histogram(ref_s, bins)[0] / len(ref_s)
        c = np.histogram(cur_s, bins)[0] / len(cur_s)
    else:
        keys = sorted_keys(ref, cur, kind)
        ref_d = {**dict.fromkeys(keys, 0), **dict(ref_s.value_counts())}
        cur_d = {**dict.fromkeys(keys, 0), **dict(cur_s.value_counts())}
        r = np.array([ref_d[k] / len(ref_s) for k in keys])
        c = np.array([cur_d[k] / len(cur_s) for k in keys])
    if fill:
        r = zero_fill(r)
        c = zero_fill(c)
    return r, c


def psi(ref, cur, kind):
    r, c = binned(ref, cur, kind, True)
    return float(np.sum((r - c) * np.log(r / c)))


def kl_div(ref, cur, kind):
    r, c = binned(ref, cur, kind, True)
    return float(stats.entropy(r, c))


def jensen_shannon(ref, cur, kind):
    r, c = binned(ref, cur, kind, False)
    v = float(distance.jensenshannon(r, c))
    if math.isnan(v):
        # Rounding can leave the JS divergence a hair below 0, where scipy
        # returns nan; driftd clamps the square root's argument to 0 (docs/statistics.md).
        p = r / np.sum(r)
        q = c / np.sum(c)
        m = (p + q) / 2.0
        js = np.sum(special.rel_entr(p, m)) + np.sum(special.rel_entr(q, m))
        v = math.sqrt(js / 2.0) if js > 0 else 0.0
    return v


def hellinger(ref, cur, kind):
    """Evidently's _hellinger_distance, literally."""
    ref_s = pd.Series(ref)
    cur_s = pd.Series(cur)
    keys = sorted_keys(ref, cur, kind)
    if kind == "categorical":
        rp = (ref_s.value_counts() / len(ref_s)).to_dict()
        cp = (cur_s.value_counts() / len(cur_s)).to_dict()
        h = 0.0
        for k in keys:
            h += math.sqrt(rp.get(k, 0) * cp.get(k, 0))
    else:
        bins = np.histogram_bin_edges(keys, bins="sturges")
        h1 = np.histogram(ref_s.to_numpy(), bins=bins, density=True)[0]
        h2 = np.histogram(cur_s.to_numpy(), bins=bins, density=True)[0]
        # Evidently: the width from the edges; one distinct value v has the
        # one bin [v - 0.5, v + 0.5], width 1, and identical samples are at 0.
        bin_width = (max(bins) - min(bins)) / (len(bins) - 1)
        h = 0.0
        for i in range(len(h1)):
            h += math.sqrt(h1[i] * h2[i]) * bin_width
    h = float(np.clip(h, 0, 1))
    return math.sqrt(1 - h)


def tvd(ref, cur, kind):
    r, c = binned(ref, cur, "categorical", False)
    return float(0.5 * np.sum(np.abs(r - c)))


# --------------------------------------------------------------------------
# Distances and tests on the raw samples


def wasserstein(ref, cur, kind):
    return float(stats.wasserstein_distance(ref, cur))


def wasserstein_normed(ref, cur, kind):
    norm = max(np.std(ref), 0.001)
    return float(stats.wasserstein_distance(ref, cur) / norm)


def energy(ref, cur, kind):
    return float(stats.energy_distance(ref, cur))


def ks(ref, cur, kind):
    res = stats.ks_2samp(ref, cur, method="auto")
    return float(res.statistic), float(res.pvalue)


def cramer_von_mises(ref, cur, kind):
    res = stats.cramervonmises_2samp(ref, cur)
    return float(res.statistic), float(res.pvalue)


def anderson(ref, cur, kind):
    res = stats.anderson_ksamp([np.asarray(ref), np.asarray(cur)])  # midrank
    return float(res.statistic), float(res.significance_level)


def chisquare(ref, cur, kind):
    """Evidently's _chi_stat_test; a category only in current gives an
    infinite statistic and p = 0; a single category has no test (p None)."""
    keys = sorted_keys(ref, cur, kind)
    ref_s = pd.Series(ref)
    cur_s = pd.Series(cur)
    ref_d = {**dict.fromkeys(keys, 0), **dict(ref_s.value_counts())}
    cur_d = {**dict.fromkeys(keys, 0), **dict(cur_s.value_counts())}
    k_norm = cur_s.shape[0] / ref_s.shape[0]
    f_exp = [ref_d[k] * k_norm for k in keys]
    f_obs = [cur_d[k] for k in keys]
    statistic, p = stats.chisquare(f_obs, f_exp)
    statistic = float(statistic)
    if len(keys) < 2:
        return statistic, None
    if math.isinf(statistic):
        return statistic, 0.0
    return statistic, float(p)


def z_test(ref, cur, kind):
    """Evidently's _z_stat_test (two-proportion z, p = 2*(1 - Phi(|z|)))."""
    ref_s = pd.Series(ref)
    cur_s = pd.Series(cur)
    keys = sorted_keys(ref, cur, kind)
    first = keys[0]
    r01 = ref_s.apply(lambda x: 0 if x == first else 1)
    c01 = cur_s.apply(lambda x: 0 if x == first else 1)
    n1 = len(r01)
    n2 = len(c01)
    p1 = float(sum(r01)) / n1
    p2 = float(sum(c01)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    if ref_s.nunique() == 1 and cur_s.nunique() == 1 and ref_s.unique()[0] == cur_s.unique()[0]:
        p = 1.0
    else:
        p = float(2 * (1 - stats.norm.cdf(np.abs(z))))
    return float(z), p


METRICS = {
    "ks": ks,
    "wasserstein": wasserstein,
    "wasserstein_normed": wasserstein_normed,
    "energy_distance": energy,
    "cramer_von_mises": cramer_von_mises,
    "anderson": anderson,
    "psi": psi,
    "kl_div": kl_div,
    "jensen_shannon": jensen_shannon,
    "hellinger": hellinger,
    "chisquare": chisquare,
    "z": z_test,
    "tvd": tvd,
}

NUMERICAL_METRICS = [
    "ks",
    "wasserstein",
    "wasserstein_normed",
    "energy_distance",
    "cramer_von_mises",
    "anderson",
    "psi",
    "kl_div",
    "jensen_shannon",
    "hellinger",
]
CATEGORICAL_METRICS = ["chisquare", "z", "psi", "kl_div", "jensen_shannon", "hellinger", "tvd"]


def finite_or_none(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def compute(name, ref, cur, kind):
    """(statistic, p_value) for a test, (value, None) for a distance; None
    parts when the value cannot be computed."""
    if len(ref) == 0 or len(cur) == 0:
        return None, None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            out = METRICS[name](ref, cur, kind)
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return None, None
    if name in PVALUE_TESTS:
        return out
    return out, None


def n_distinct(ref, cur, kind):
    """Distinct non-missing values of reference and current combined."""
    dtype = float if kind == "numerical" else object
    return int(pd.concat([pd.Series(ref, dtype=dtype), pd.Series(cur, dtype=dtype)]).nunique())


def select_test(kind, reference_rows, n_unique):
    """Evidently's auto rule (docs/statistics.md, "The auto rule")."""
    if reference_rows <= 1000:
        if kind == "numerical" and n_unique > 5:
            return "ks"
        if n_unique > 2:
            return "chisquare"
        return "z"
    if kind == "numerical" and n_unique > 5:
        return "wasserstein_normed"
    return "jensen_shannon"


def is_drift(test, statistic, p_value, threshold):
    if test in PVALUE_TESTS:
        if p_value is None or math.isnan(p_value):
            return False
        if test in PVALUE_AT_OR_BELOW:
            return p_value <= threshold
        return p_value < threshold
    if statistic is None or math.isnan(statistic):
        return False
    if test == "energy_distance":
        return statistic > threshold
    return statistic >= threshold


def metric_json(name, statistic, p_value):
    if name in PVALUE_TESTS:
        return {"statistic": finite_or_none(statistic), "p_value": finite_or_none(p_value)}
    return finite_or_none(statistic)


def feature_report(name, kind, ref, cur, cur_missing, reference_rows, all_metrics):
    n_unique = n_distinct(ref, cur, kind)
    test = select_test(kind, reference_rows, n_unique)
    threshold = THRESHOLDS[test]
    statistic, p_value = compute(test, ref, cur, kind)
    drift = is_drift(test, statistic, p_value, threshold)

    names = [test]
    if all_metrics:
        if kind == "numerical":
            names = list(NUMERICAL_METRICS)
            if test in ("chisquare", "z"):
                names.append(test)
        else:
            names = [m for m in CATEGORICAL_METRICS if m != "z" or n_unique <= 2]
    metrics = {}
    for m in names:
        s, p = (statistic, p_value) if m == test else compute(m, ref, cur, kind)
        metrics[m] = metric_json(m, s, p)

    present = len(cur)
    total = present + cur_missing
    return {
        "name": name,
        "kind": kind,
        "test": test,
        "statistic": finite_or_none(statistic),
        "p_value": finite_or_none(p_value) if test in PVALUE_TESTS else None,
        "threshold": threshold,
        "drift": bool(drift),
        "reference_count": len(ref),
        "current_count": present,
        "missing_rate": (cur_missing / total) if total else 0.0,
        "metrics": metrics,
    }


def build_report(reference_path, current_path, schema_path=None, all_metrics=False):
    ref_df = read_csv(reference_path)
    cur_df = read_csv(current_path)
    schema = {}
    if schema_path:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f).get("features", {})
    features = []
    for name in ref_df.columns:
        kind = schema.get(name) or infer_kind(ref_df[name])
        ref, _, _ = column_values(ref_df, name, kind)
        cur, cur_missing, _ = column_values(cur_df, name, kind)
        features.append(feature_report(name, kind, ref, cur, cur_missing, len(ref_df), all_metrics))
    drifted = sum(1 for f in features if f["drift"])
    total = len(features)
    share = drifted / total if total else 0.0
    return {
        "dataset": {
            "drift": bool(total and share >= DRIFT_SHARE),
            "drifted_features": drifted,
            "total_features": total,
            "share": share,
            "drift_share": DRIFT_SHARE,
        },
        "features": features,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reference", required=True)
    ap.add_argument("--current", required=True)
    ap.add_argument("--schema")
    ap.add_argument("--all-metrics", action="store_true")
    ap.add_argument("--output")
    args = ap.parse_args(argv)
    report = build_report(args.reference, args.current, args.schema, args.all_metrics)
    text = json.dumps(report, indent=2, allow_nan=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
