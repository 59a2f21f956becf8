#!/bin/sh
# `driftd check` and the daemon decide alike (issue 13, item 2): the same
# CSV and the same configuration, given to `check --config --json` and
# posted to a daemon whose window keeps every record, give the same report,
# field by field, for a column absent from the data, a renamed column, a
# column all missing and a column with type errors (and the unchanged data);
# then over every golden data set of tests/golden/reports (its reference
# the baseline, its current data given to both, the daemon reloaded).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
need_python "the comparison of two reports"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
src="$ex/production_clean.csv"
cp "$src" "$T/same.csv"
cut -d, -f1-3,5 "$src" >"$T/absent.csv"                       # petal_width absent
sed '1s/sepal_length/sl/' "$src" >"$T/renamed.csv"             # sepal_length renamed
awk -F, 'BEGIN{OFS=","} NR>1{$2=""} {print}' "$src" >"$T/allmissing.csv" # sepal_width empty
awk -F, 'BEGIN{OFS=","} NR>1 && NR%7==0{$3="?"} {print}' "$src" >"$T/typeerr.csv"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 1, "sample": 100000},
 "drift": {"quality": {"missing_rate": 0.2, "type_error_rate": 0.1}}}
J
# agree CASE CHECK.json DAEMON.json: the two reports are equal member by
# member, but for the daemon's own "window" and when and from what each was made.
agree() {
    if "$PY" - "$2" "$3" >"$T/$1.diff" 2>&1 <<'P'
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
b.pop("window", None)
for k in ("generated_at", "input"):  # when and from what: each its own
    a.pop(k, None), b.pop(k, None)
diffs = []
def walk(x, y, path):
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            if k not in x or k not in y:
                diffs.append("%s.%s: only in %s" % (path, k, "check" if k in x else "daemon"))
            else:
                walk(x[k], y[k], "%s.%s" % (path, k))
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (u, v) in enumerate(zip(x, y)):
            walk(u, v, "%s[%d]" % (path, i))
    elif x != y:
        diffs.append("%s: check %r, daemon %r" % (path, x, y))
walk(a, b, "")
print("\n".join(diffs))
sys.exit(1 if diffs else 0)
P
    then ok; else fail "$1: check and daemon disagree: $(head -5 "$T/$1.diff")"; fi
}
start_daemon "$T/c.json" || { finish; exit 1; }
for case in same absent renamed allmissing typeerr; do
    "$DRIFTD" check --config "$T/c.json" -b "$T/base.json" -i "$T/$case.csv" --json \
        >"$T/$case.check.json" 2>"$T/$case.check.err"
    http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/$case.csv"
    expect_code 202 "$case: ingest"
    http POST /v1/evaluate
    expect_code 200 "$case: evaluate"
    cp "$T/body" "$T/$case.daemon.json"
    agree "$case" "$T/$case.check.json" "$T/$case.daemon.json"
done
# what each case is about, as both say it
expect_json "$T/absent.check.json" 'features[name=petal_width].missing_rate=1' \
    'features[name=petal_width].quality.drift=true'
expect_json "$T/renamed.check.json" 'features[name=sepal_length].missing_rate=1'
grep -q 'not in the data' "$T/renamed.check.err" && ok || fail "check does not name the absent feature"
grep -q '"sl"' "$T/renamed.check.err" && ok || fail "check does not name the unknown column sl: $(cat "$T/renamed.check.err")"
expect_json "$T/typeerr.check.json" 'features[name=petal_length].quality.type_error_rate>0'
# with no quality threshold at all, a feature with no value still fires
"$DRIFTD" check -b "$T/base.json" -i "$T/absent.csv" --json >"$T/absent.default.json" 2>/dev/null
expect_json "$T/absent.default.json" 'features[name=petal_width].quality.drift=true' \
    'features[name=petal_width].drift=true' 'features[name=sepal_length].drift=false'
grep -q 'no value at all for 1 feature (petal_width): absent from the data or renamed' \
    "$T/daemon.log" && ok || fail "the daemon does not say a feature was absent"

# and over every golden data set (reference -> baseline, current -> both),
# the daemon switched to each baseline by a reload
for dir in "$TESTDATA"/golden/reports/*/; do
    case=golden_$(basename "$dir")
    "$DRIFTD" baseline -i "$dir/reference.csv" -o "$T/base.json" 2>/dev/null
    "$DRIFTD" check --config "$T/c.json" -b "$T/base.json" -i "$dir/current.csv" --json \
        >"$T/$case.check.json" 2>/dev/null
    http POST /v1/reload
    expect_code 200 "$case: reload"
    http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$dir/current.csv"
    expect_code 202 "$case: ingest"
    http POST /v1/evaluate
    expect_code 200 "$case: evaluate"
    agree "$case" "$T/$case.check.json" "$T/body"
done
stop_daemon
finish
