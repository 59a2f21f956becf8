#!/usr/bin/python3
"""Write scikit-learn's bundled breast-cancer and wine data sets as CSV
files with a header, the way a user brings their own data: training rows,
production rows, a semicolon-separated copy, and another model's data.

Needs Debian's python3-sklearn (only for the feature names; the data are
the CSV files it ships in sklearn/datasets/data/).
Usage: /usr/bin/python3 prepare.py OUTDIR
"""
import csv
import os
import sys

import sklearn.datasets as ds

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def write(name, header, rows, delimiter=","):
    with open(os.path.join(out, name), "w", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)


bc = ds.load_breast_cancer()
names = [n.replace(" ", "_") for n in bc.feature_names]
rows = [list(map(float, r)) for r in bc.data]
# training: two patients of every three; production: the third (the file
# is sorted by diagnosis, so a cut by position would compare two populations)
train = [r for i, r in enumerate(rows) if i % 3 != 2]
prod = [r for i, r in enumerate(rows) if i % 3 == 2]
write("bc_train.csv", names, train)
write("bc_prod.csv", names, prod)
# the same production rows as a European spreadsheet exports them
write("bc_prod_semicolon.csv", names, prod, delimiter=";")
# production where an upstream change renamed three columns
renamed = list(names)
for i in (0, 1, 2):
    renamed[i] = renamed[i].upper()
write("bc_prod_renamed.csv", renamed, prod)
# production that drifted: the measurements of larger tumours only
big = sorted(rows, key=lambda r: r[3])[-len(prod):]
write("bc_prod_drifted.csv", names, big)

wine = ds.load_wine()
write("wine.csv", [n.replace("/", "_") for n in wine.feature_names],
      [list(map(float, r)) for r in wine.data])
print("wrote", ", ".join(sorted(os.listdir(out))), "in", out)
