#!/usr/bin/python3
"""bench/data/cur.csv as NDJSON for the ingest benchmarks: numbers as JSON
numbers, categories as strings, one compact object per line.

usage: bench/cur_ndjson.py OUT [LINES]
LINES (default: the file's rows) repeats the rows from the start as often
as needed.
"""
import csv
import json
import sys


def val(v):
    try:
        return float(v)
    except ValueError:
        return v


def main():
    out = sys.argv[1]
    rows = list(csv.DictReader(open("bench/data/cur.csv")))
    want = int(sys.argv[2]) if len(sys.argv) > 2 else len(rows)
    lines = [json.dumps({k: val(v) for k, v in r.items()}, separators=(",", ":")) + "\n"
             for r in rows[:want]]
    block = "".join(lines)
    with open(out, "w") as f:
        n = 0
        while n + len(lines) <= want:
            f.write(block)
            n += len(lines)
        f.write("".join(lines[: want - n]))


if __name__ == "__main__":
    main()
