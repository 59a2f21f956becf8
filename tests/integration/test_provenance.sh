#!/bin/sh
# driftd baseline records where a baseline came from (docs/statistics.md,
# "Provenance"): the input's path, SHA-256 of its bytes as read (stdin
# too), size, rows and format; the sampler; the version; the time only when
# asked for (SOURCE_DATE_EPOCH or --created-at), so the same input and
# seed still give the same bytes; the labels. Bad options and bad
# provenance are refused with what is wrong; a baseline written before
# provenance still loads in check and validate; check --json shows the
# labels.
. "$(dirname "$0")/lib.sh"
need_python "reading JSON"
JSONQ=$(cd "$(dirname "$JSONQ")" && pwd)/jsonq.py # the test works in $T
ex="$SRCDIR/examples/iris"
unset SOURCE_DATE_EPOCH
cp "$ex/train.csv" "$T/train.csv"
cd "$T" || exit 1
want_sha=$("$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' train.csv)
want_bytes=$(wc -c <train.csv | tr -d ' ')

# --- what is recorded --------------------------------------------------------
expect_rc 0 "$DRIFTD" baseline -i train.csv -o b1.json --label model_version=run-9001 \
    --label git_sha=0123abc --seed 3 --max-sample 100
expect_json b1.json provenance.input.path=train.csv "provenance.input.sha256=$want_sha" \
    "provenance.input.bytes=$want_bytes" provenance.input.rows=150 provenance.input.format=csv \
    provenance.sample.max_sample=100 provenance.sample.seed=3 provenance.sample.rows=100 \
    sample_rows=100 "provenance.driftd_version=$("$DRIFTD" version | cut -d' ' -f2)" \
    provenance.labels.model_version=run-9001 provenance.labels.git_sha=0123abc \
    'len(provenance.labels)=2' 'len(provenance)=4'
# (4 members: no created_at without being asked for)

# same input, seed and options: the same bytes, labels in any order
expect_rc 0 "$DRIFTD" baseline -i train.csv -o b2.json --label git_sha=0123abc \
    --label model_version=run-9001 --seed 3 --max-sample 100
cmp -s b1.json b2.json && ok || fail "same input and seed gave different baselines"

# standard input: the same digest and size, path "-"
expect_rc 0 sh -c "\"$DRIFTD\" baseline -i - -f csv -o - <train.csv >stdin.json"
expect_json stdin.json provenance.input.path=- "provenance.input.sha256=$want_sha" \
    "provenance.input.bytes=$want_bytes" provenance.input.format=csv
# another input gives another digest
sed 's/5\.1,3\.5/5.2,3.5/' train.csv >other.csv
"$DRIFTD" baseline -i other.csv -o other.json 2>/dev/null
expect_json other.json "provenance.input.sha256!=$want_sha"

# NDJSON, with a bad record: rows counts it, the baseline does not
printf '{"a": 1}\n{"a": 2}\nnot json\n{"a": 3}\n' >in.ndjson
expect_rc 0 "$DRIFTD" baseline -i in.ndjson -o nd.json
expect_json nd.json provenance.input.format=ndjson provenance.input.rows=4 rows=3 \
    provenance.sample.rows=3

# --- the time ------------------------------------------------------------------
SOURCE_DATE_EPOCH=1764842400 "$DRIFTD" baseline -i train.csv -o t1.json 2>/dev/null
SOURCE_DATE_EPOCH=1764842400 "$DRIFTD" baseline -i train.csv -o t2.json 2>/dev/null
expect_json t1.json provenance.created_at=2025-12-04T10:00:00Z
cmp -s t1.json t2.json && ok || fail "SOURCE_DATE_EPOCH: same input, different bytes"
# --created-at wins over SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH=1764842400 "$DRIFTD" baseline -i train.csv --created-at 2026-12-04T10:00:00Z \
    -o t3.json 2>/dev/null
expect_json t3.json provenance.created_at=2026-12-04T10:00:00Z
SOURCE_DATE_EPOCH= "$DRIFTD" baseline -i train.csv -o t4.json 2>/dev/null
expect_json t4.json 'len(provenance)=4' # an empty SOURCE_DATE_EPOCH is none

# --- bad options, each named -------------------------------------------------
expect_rc 2 "$DRIFTD" baseline -i train.csv -o bad.json --created-at 2026-02-30T10:00:00Z
expect_err '--created-at: "2026-02-30T10:00:00Z": day 30 is not in 2026-02'
expect_rc 2 "$DRIFTD" baseline -i train.csv -o bad.json --created-at 2026-12-04T10:00:00+01:00
expect_err '--created-at: .*not UTC'
expect_rc 2 "$DRIFTD" baseline -i train.csv -o bad.json --created-at yesterday
expect_err '--created-at: "yesterday": expected an RFC 3339 time in UTC'
expect_rc 2 env SOURCE_DATE_EPOCH=soon "$DRIFTD" baseline -i train.csv -o bad.json
expect_err 'SOURCE_DATE_EPOCH: expected seconds since .* got "soon"'
expect_rc 2 env SOURCE_DATE_EPOCH=-5 "$DRIFTD" baseline -i train.csv -o bad.json
expect_err 'SOURCE_DATE_EPOCH: .*got "-5"'
expect_rc 2 "$DRIFTD" baseline -i train.csv -o bad.json --label a=1 --label a=2
expect_err '--label: the key "a" is given twice'
expect_rc 2 "$DRIFTD" baseline -i train.csv -o bad.json --label 'team name=ml'
expect_err '--label team name=ml: the key "team name" is not a label key'
expect_rc 2 "$DRIFTD" baseline -i train.csv -o bad.json --label =x
expect_err 'the key "" is not a label key'
expect_rc 2 "$DRIFTD" baseline -i train.csv -o bad.json --label model_version
expect_err '--label: expected KEY=VALUE, got "model_version"'
[ -e bad.json ] && fail "a refused command wrote its output" || ok
# a value may hold anything, "=" included
expect_rc 0 "$DRIFTD" baseline -i train.csv -o eq.json --label 'expr=a=b, c' --label empty=
expect_json eq.json 'provenance.labels.expr=a=b, c' 'provenance.labels.empty='

# --- check --json shows the labels ------------------------------------------------
expect_rc 0 "$DRIFTD" check -b b1.json -i "$ex/production_clean.csv" --json
expect_json "$T/out" baseline.labels.model_version=run-9001 baseline.labels.git_sha=0123abc
expect_rc 0 "$DRIFTD" check -b t4.json -i "$ex/production_clean.csv" --json
expect_json "$T/out" 'len(baseline)=2' # path and sha256: no labels to show

# --- old baselines and bad provenance -----------------------------------------------
old="$TESTDATA/fixtures/baseline-before-provenance.json"
expect_rc 0 "$DRIFTD" check -b "$old" -i "$ex/production_clean.csv" --json
expect_json "$T/out" baseline.path="$old" dataset.drift=false
printf '{"baseline": "%s"}\n' "$old" >old.conf
expect_rc 0 "$DRIFTD" validate --config old.conf
# a wrong type in the provenance: validate names its key path
"$PY" -c '
import json, sys
d = json.load(open("b1.json"))
d["provenance"]["labels"]["model_version"] = 9001
json.dump(d, open("badprov.json", "w"))
d = json.load(open("b1.json"))
d["provenance"]["input"]["bytes"] = "4551"
json.dump(d, open("badbytes.json", "w"))
'
printf '{"baseline": "%s/badprov.json"}\n' "$T" >badprov.conf
expect_rc 2 "$DRIFTD" validate --config badprov.conf
expect_err 'badprov.json: provenance.labels.model_version: expected a string'
expect_rc 2 "$DRIFTD" check -b badbytes.json -i "$ex/production_clean.csv"
expect_err 'badbytes.json: provenance.input.bytes: expected a non-negative integer'

# --- documented --------------------------------------------------------------------
"$DRIFTD" baseline --help >help.txt
grep -q -- '--label KEY=VALUE' help.txt && grep -q -- '--created-at TIME' help.txt && ok ||
    fail "baseline --help lacks --label or --created-at"
grep -q 'created\\-at' "$SRCDIR/docs/man/driftd.8" && grep -q 'SOURCE_DATE_EPOCH' "$SRCDIR/docs/man/driftd.8" &&
    ok || fail "driftd.8 lacks --created-at or SOURCE_DATE_EPOCH"
grep -q '^## Provenance' "$SRCDIR/docs/statistics.md" && ok || fail "docs/statistics.md lacks Provenance"
finish
