#!/usr/bin/env python3
"""Train the Iris classifier (the model driftd watches in the examples).

A scikit-learn random forest on the four measurements, evaluated on a
stratified hold-out split; writes the model (joblib) and its metrics (JSON).
The retrain workflow (.github/workflows/retrain.yml) gates on the accuracy.
"""
import argparse
import json
import os

import joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "train.csv"))
    ap.add_argument("--model", default="out/model.joblib")
    ap.add_argument("--metrics", default="out/metrics.json")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    df = pd.read_csv(args.data)
    x_train, x_test, y_train, y_test = train_test_split(
        df[FEATURES], df["species"], test_size=0.25, random_state=args.seed,
        stratify=df["species"])
    model = RandomForestClassifier(n_estimators=100, random_state=args.seed)
    model.fit(x_train, y_train)
    accuracy = accuracy_score(y_test, model.predict(x_test))

    for path in (args.model, args.metrics):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    joblib.dump(model, args.model)
    with open(args.metrics, "w") as f:
        json.dump({"accuracy": accuracy, "train_rows": len(x_train), "test_rows": len(x_test)}, f)
    print(f"accuracy {accuracy:.4f} on {len(x_test)} held-out rows; model in {args.model}")


if __name__ == "__main__":
    main()
