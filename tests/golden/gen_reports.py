#!/usr/bin/python3
"""Generate the golden drift-report fixtures in tests/golden/reports/.

Each case directory holds reference.csv, current.csv, current.ndjson (the
same records as current.csv: numbers as JSON numbers, categorical values as
JSON strings, missing values as null) and expected.json, the output of
scripts/reference_report.py --all-metrics on reference.csv / current.csv.
A golden test builds a baseline from reference.csv (all rows kept), runs
`driftd check --all-metrics --json` on current.csv and on current.ndjson, and
compares each with expected.json using scripts/compare_reports.py.

Everything is deterministic (numpy default_rng with fixed seeds). The two Iris
cases use Fisher's Iris data as the reference; it is read from --iris, by
default the copy already in reports/iris_nodrift/reference.csv, else
examples/iris/train.csv (the same 150 rows).

usage: /usr/bin/python3 tests/golden/gen_reports.py [--iris IRIS.csv] [--only CASE...]
"""

import argparse
import csv
import io
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPORTS = HERE / "reports"
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import reference_report  # noqa: E402

MISSING_TOKENS = {"", "NA", "nan", "NaN", "inf", "-inf", "null", "NULL", "N/A"}


class Column:
    """One column: name, kind and the CSV text of every row ('' = missing)."""

    def __init__(self, name, kind, tokens):
        self.name = name
        self.kind = kind
        self.tokens = list(tokens)


def fmt(values, decimals):
    return [f"{v:.{decimals}f}" for v in values]


def ints(values):
    return [str(int(v)) for v in values]


def choice(rng, cats, n, p=None):
    return list(rng.choice(cats, size=n, p=p))


def with_missing(rng, tokens, rate, fillers):
    """Replace a share of tokens by missing markers drawn from fillers."""
    out = list(tokens)
    for i in range(len(out)):
        if rng.random() < rate:
            out[i] = fillers[int(rng.integers(len(fillers)))]
    return out


def write_csv(path, columns):
    n = len(columns[0].tokens)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.name for c in columns])
    for i in range(n):
        w.writerow([c.tokens[i] for c in columns])
    path.write_text(buf.getvalue(), encoding="utf-8")


def json_value(col, token):
    if token in MISSING_TOKENS:
        return "null"
    if col.kind == "numerical":
        float(token)  # must be a plain JSON-compatible number
        if token.startswith((".", "+")) or token.lower() in ("inf", "-inf", "nan"):
            raise ValueError(f"{col.name}: {token!r} is not a JSON number")
        return token
    return json.dumps(token, ensure_ascii=False)


def write_ndjson(path, columns):
    n = len(columns[0].tokens)
    lines = []
    for i in range(n):
        parts = [f"{json.dumps(c.name, ensure_ascii=False)}:{json_value(c, c.tokens[i])}" for c in columns]
        lines.append("{" + ",".join(parts) + "}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# Cases: each returns (reference columns or raw CSV text, current columns).


def case_iris_nodrift(iris_text):
    header, rows = read_iris_text(iris_text)
    rng = np.random.default_rng(101)
    idx = rng.integers(len(rows), size=120)
    cur = [Column(h, "numerical" if j < 4 else "categorical", [rows[i][j] for i in idx]) for j, h in enumerate(header)]
    return iris_text, cur


def case_iris_drift(iris_text):
    header, rows = read_iris_text(iris_text)
    rng = np.random.default_rng(202)
    # Production sees mostly virginica, and petals measured 0.6 cm longer.
    pool = [r for r in rows if r[4] != "setosa"]
    idx = rng.integers(len(pool), size=100)
    sel = [pool[i] for i in idx]
    sl = [float(r[0]) + rng.normal(0, 0.1) for r in sel]
    sw = [float(r[1]) for r in sel]
    pl = [float(r[2]) + 0.6 + rng.normal(0, 0.1) for r in sel]
    pw = [float(r[3]) for r in sel]
    cur = [
        Column("sepal_length", "numerical", fmt(sl, 1)),
        Column("sepal_width", "numerical", fmt(sw, 1)),
        Column("petal_length", "numerical", fmt(pl, 1)),
        Column("petal_width", "numerical", fmt(pw, 1)),
        Column("species", "categorical", [r[4] for r in sel]),
    ]
    return iris_text, cur


def read_iris_text(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def case_categorical_only():
    rng = np.random.default_rng(303)
    colors = ["red", "green", "blue", "yellow"]
    cities = ["Paris", "São Paulo", "New York, NY", "Zürich", "Tokyo", "Lagos", "Lima"]
    tiers = ["bronze", "silver", "gold"]

    def make(n, city_p):
        return [
            Column("color", "categorical", choice(rng, colors, n, [0.4, 0.3, 0.2, 0.1])),
            Column("city", "categorical", choice(rng, cities, n, city_p)),
            Column("tier", "categorical", choice(rng, tiers, n, [0.6, 0.3, 0.1])),
        ]

    ref = make(400, [0.25, 0.2, 0.15, 0.15, 0.1, 0.1, 0.05])
    cur = make(300, [0.1, 0.1, 0.3, 0.1, 0.2, 0.1, 0.1])
    return ref, cur


def case_missing_values():
    rng = np.random.default_rng(404)
    fill = ["", "NA", "nan", "inf", "-inf"]

    def make(n, shift):
        income = with_missing(rng, fmt(rng.normal(50 + shift, 12, n), 3), 0.12, fill)
        rooms = with_missing(rng, ints(rng.integers(1, 6, n)), 0.05, ["", "NA"])
        score = with_missing(rng, ints(rng.binomial(12, 0.5, n)), 0.03, ["", "nan"])
        segment = with_missing(rng, choice(rng, ["retail", "smb", "enterprise"], n, [0.5, 0.3, 0.2]), 0.08, [""])
        return [
            Column("income", "numerical", income),
            Column("rooms", "numerical", rooms),
            Column("score", "numerical", score),
            Column("segment", "categorical", segment),
        ]

    return make(300, 0.0), make(250, 4.0)


def case_binary():
    rng = np.random.default_rng(505)

    def make(n, p_churn, p_member):
        return [
            Column("churned", "categorical", choice(rng, ["no", "yes"], n, [1 - p_churn, p_churn])),
            Column("flag", "categorical", choice(rng, ["false", "true"], n, [0.7, 0.3])),
            Column("is_member", "numerical", ints(rng.random(n) < p_member)),
            Column("plan", "categorical", choice(rng, ["free", "pro", "team"], n, [0.6, 0.3, 0.1])),
        ]

    return make(600, 0.2, 0.5), make(500, 0.3, 0.45)


def case_large_reference():
    rng = np.random.default_rng(606)

    def make(n, shift, scale, dev_p):
        return [
            Column("latency", "numerical", fmt(rng.lognormal(3.0, 0.5 * scale, n), 2)),
            Column("temp", "numerical", fmt(rng.normal(20 + shift, 3, n), 2)),
            Column("device", "categorical", choice(rng, ["mobile", "desktop", "tablet", "tv"], n, dev_p)),
            Column("level", "numerical", ints(rng.integers(1, 5, n))),
        ]

    ref = make(1500, 0.0, 1.0, [0.5, 0.3, 0.15, 0.05])
    cur = make(600, 0.6, 1.3, [0.3, 0.3, 0.3, 0.1])
    return ref, cur


def case_unseen_category():
    rng = np.random.default_rng(707)
    ref = [
        Column("browser", "categorical", choice(rng, ["chrome", "firefox", "safari"], 200, [0.6, 0.25, 0.15])),
        Column("channel", "categorical", ["web"] * 200),
        Column("x", "numerical", fmt(rng.normal(0, 1, 200), 4)),
    ]
    cur = [
        Column("browser", "categorical", choice(rng, ["chrome", "firefox", "safari", "edge"], 150, [0.55, 0.2, 0.15, 0.1])),
        Column("channel", "categorical", choice(rng, ["web", "app"], 150, [0.9, 0.1])),
        Column("x", "numerical", fmt(rng.normal(0.1, 1, 150), 4)),
    ]
    return ref, cur


def case_constant():
    rng = np.random.default_rng(808)
    ref = [
        Column("const_num", "numerical", ["7"] * 100),
        Column("const_cat", "categorical", ["A"] * 100),
        Column("const_shift", "numerical", ["1.5"] * 100),
        Column("value", "numerical", fmt(rng.normal(10, 2, 100), 3)),
    ]
    cur = [
        Column("const_num", "numerical", ["7"] * 80),
        Column("const_cat", "categorical", ["A"] * 80),
        Column("const_shift", "numerical", ["2.5"] * 80),
        Column("value", "numerical", fmt(rng.normal(10, 2, 80), 3)),
    ]
    return ref, cur


def case_tiny():
    """max(n1, n2) <= 20: exact Cramer-von Mises and small exact KS."""
    rng = np.random.default_rng(909)
    ref = [
        Column("a", "numerical", fmt(rng.normal(0, 1, 15), 3)),
        Column("b", "numerical", fmt(rng.exponential(2.0, 15), 2)),
    ]
    cur = [
        Column("a", "numerical", fmt(rng.normal(0.8, 1, 18), 3)),
        Column("b", "numerical", fmt(rng.exponential(2.0, 18), 2)),
    ]
    return ref, cur


def case_equal_sizes():
    """n1 == n2: the closed-form exact KS distribution."""
    rng = np.random.default_rng(1010)

    def make(shift):
        return [
            Column("u", "numerical", fmt(rng.uniform(0, 10, 250), 3)),
            Column("g", "numerical", fmt(rng.gamma(2.0, 1.5, 250) + shift, 3)),
            Column("t", "numerical", fmt(rng.standard_t(4, 250), 4)),
        ]

    return make(0.0), make(0.4)


def case_ks_asymptotic():
    """max(n1, n2) > 10000: asymptotic KS (kstwo with n_eff) and CvM."""
    rng = np.random.default_rng(1111)
    ref = [Column("d", "numerical", ints(np.clip(rng.normal(50, 15, 10500), 0, 99).round()))]
    cur = [Column("d", "numerical", ints(np.clip(rng.normal(53, 15, 300), 0, 99).round()))]
    return ref, cur


def case_p_on_threshold():
    """An exact KS p-value exactly on the threshold: 2 against 14 rows gives
    p = 1/20 = 0.05, which drifts (Evidently's ks drifts when p <= 0.05)."""
    ref = [Column("x", "numerical", ["1.0", "2.0"])]
    cur = [Column("x", "numerical", ["0.5"] + [f"{v}.0" for v in range(3, 16)])]
    return ref, cur


CASES = {
    "iris_nodrift": case_iris_nodrift,
    "iris_drift": case_iris_drift,
    "categorical_only": case_categorical_only,
    "missing_values": case_missing_values,
    "binary": case_binary,
    "large_reference": case_large_reference,
    "unseen_category": case_unseen_category,
    "constant": case_constant,
    "tiny": case_tiny,
    "equal_sizes": case_equal_sizes,
    "ks_asymptotic": case_ks_asymptotic,
    "p_on_threshold": case_p_on_threshold,
}
IRIS_CASES = {"iris_nodrift", "iris_drift"}


def generate(name, iris_text):
    out = REPORTS / name
    out.mkdir(parents=True, exist_ok=True)
    if name in IRIS_CASES:
        ref, cur = CASES[name](iris_text)
    else:
        ref, cur = CASES[name]()
    if isinstance(ref, str):
        (out / "reference.csv").write_text(ref, encoding="utf-8")
    else:
        write_csv(out / "reference.csv", ref)
    write_csv(out / "current.csv", cur)
    write_ndjson(out / "current.ndjson", cur)
    report = reference_report.build_report(out / "reference.csv", out / "current.csv", None, True)
    (out / "expected.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    d = report["dataset"]
    tests = ", ".join(f"{f['name']}:{f['test']}{'*' if f['drift'] else ''}" for f in report["features"])
    print(f"{name}: drift={d['drift']} {d['drifted_features']}/{d['total_features']}  [{tests}]")


def main(argv=None):
    ap = argparse.ArgumentParser(description="generate tests/golden/reports fixtures")
    ap.add_argument("--iris", help="Iris CSV used as the reference of the iris_* cases")
    ap.add_argument("--only", nargs="*", choices=sorted(CASES), help="generate only these cases")
    args = ap.parse_args(argv)
    iris = args.iris
    if iris is None:
        for p in (REPORTS / "iris_nodrift" / "reference.csv",
                  Path(__file__).resolve().parents[2] / "examples" / "iris" / "train.csv"):
            if p.exists():
                iris = p
                break
    names = args.only or list(CASES)
    iris_text = None
    if IRIS_CASES & set(names):
        if iris is None:
            sys.exit("gen_reports.py: no Iris CSV found; pass --iris FILE")
        iris_text = Path(iris).read_text(encoding="utf-8")
    for name in names:
        generate(name, iris_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
