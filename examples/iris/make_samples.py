#!/usr/bin/python3
"""Make the Iris production samples used by `make demo` and the tests.

production_clean.csv: 300 rows drawn with replacement from the training
rows (the same distribution: no drift expected).
production_drift.csv: 300 rows where the flowers grew: petal length +1.2 cm,
petal width x1.4, sepal length +0.6 cm, and mostly virginica arrive.
Fixed seed, so the files are reproducible: /usr/bin/python3 make_samples.py
"""
import csv
import os
import random

here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261126)

with open(os.path.join(here, "train.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
fields = list(rows[0].keys())


def write(name, out):
    with open(os.path.join(here, name), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(out)


clean = [dict(rng.choice(rows)) for _ in range(300)]
write("production_clean.csv", clean)

virginica = [r for r in rows if r["species"] == "virginica"]
drift = []
for _ in range(300):
    r = dict(rng.choice(virginica if rng.random() < 0.7 else rows))
    r["petal_length"] = "%.1f" % (float(r["petal_length"]) + 1.2)
    r["petal_width"] = "%.1f" % (float(r["petal_width"]) * 1.4)
    r["sepal_length"] = "%.1f" % (float(r["sepal_length"]) + 0.6)
    drift.append(r)
write("production_drift.csv", drift)
