#!/bin/sh
# Bad input to `driftd baseline` and `driftd check`: every case gets a clear
# message naming the file and line, what can be skipped is skipped, and the
# exit status is 2 only when nothing usable is left. Never a crash.
. "$(dirname "$0")/lib.sh"
ex="$SRCDIR/examples/iris"

expect_rc 0 "$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json"

# Ragged rows: skipped with the line, the rest is used.
printf 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4\n4.7,3.2,1.3,0.2,setosa,extra\n5.0,3.6,1.4,0.2,setosa\n' >"$T/ragged.csv"
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/ragged.csv" --json
expect_err "ragged.csv:3: record 2: expected 5 fields, found 3 \(skipped\)"
expect_err "ragged.csv:4: record 3: expected 5 fields, found 6 \(skipped\)"
expect_json "$T/out" 'features[name=sepal_length].current_count=2'
expect_no_crash ragged

# Unterminated quote: the open record is reported with the line it began on.
printf 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,"setosa\n4.7,3.2,1.3,0.2,setosa\n' >"$T/quote.csv"
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/quote.csv"
expect_err "quote.csv:3: record 2: unterminated quoted field \(opened on line 3"
expect_no_crash quote

# Quoted fields with commas, escaped quotes and CRLF are fine.
printf 'sepal_length,sepal_width,petal_length,petal_width,species\r\n"5.1",3.5,1.4,0.2,"se""to,sa"\r\n' >"$T/crlf.csv"
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/crlf.csv" --json
expect_json "$T/out" 'features[name=species].quality.unseen_rate=1'

# Invalid JSON lines, arrays, trailing garbage: each named by line.
cat >"$T/bad.ndjson" <<'J'
{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "species": "setosa"}
{"sepal_length": 4.9, "sepal_width": 
[1, 2, 3]
{"sepal_length": 4.7} trailing
{"sepal_length": {"nested": 1}, "sepal_width": 3.2, "petal_length": 1.3, "petal_width": 0.2, "species": "setosa"}
J
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/bad.ndjson" --json
expect_err "bad.ndjson:2: record 2: invalid JSON"
expect_err "bad.ndjson:3: record 3: expected a JSON object, found an array"
expect_err "bad.ndjson:4: record 4: unexpected text after the JSON value"
expect_json "$T/out" 'features[name=sepal_length].quality.type_error_rate=0.5'
expect_no_crash ndjson

# Strings in a numerical column: a type error with its line, not a crash.
printf 'sepal_length,sepal_width,petal_length,petal_width,species\nabc,3.5,1.4,0.2,setosa\n5.0,3.6,1.4,0.2,setosa\n' >"$T/types.csv"
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/types.csv" --json
expect_err 'types.csv:2: record 1: feature "sepal_length": value is not a number'
expect_no_crash types

# Empty file and header only: nothing usable, exit 2.
: >"$T/empty.csv"
expect_rc 2 "$DRIFTD" check -b "$T/base.json" -i "$T/empty.csv"
expect_err "empty.csv: no usable records \(the file is empty\)"
printf 'sepal_length,sepal_width,petal_length,petal_width,species\n' >"$T/header.csv"
expect_rc 2 "$DRIFTD" check -b "$T/base.json" -i "$T/header.csv"
expect_err "header.csv: no usable records \(only a header\)"
expect_rc 2 "$DRIFTD" baseline -i "$T/header.csv" -o "$T/x.json"
expect_err "header.csv: no usable records \(only a header\)"
expect_rc 2 "$DRIFTD" baseline -i "$T/empty.csv" -o "$T/x.json"
expect_err "empty.csv: no usable records"
[ ! -e "$T/x.json" ] && ok || fail "a failed baseline left an output file"

# No known column at all: exit 2 with the reason.
printf 'a,b\n1,2\n' >"$T/other.csv"
expect_rc 2 "$DRIFTD" check -b "$T/base.json" -i "$T/other.csv"
expect_err "none of its columns is a feature of the baseline"

# Unknown feature in the schema: named, ignored, the baseline is built.
printf '{"features": {"petal_length": "numerical", "colour": "categorical", "species": "categorical"}}' >"$T/schema.json"
expect_rc 0 "$DRIFTD" baseline -i "$ex/train.csv" --schema "$T/schema.json" -o "$T/b2.json"
expect_err 'schema.json: feature "colour" is not a column of'
printf '{"features": {"petal_length": "numeric"}}' >"$T/badschema.json"
expect_rc 2 "$DRIFTD" baseline -i "$ex/train.csv" --schema "$T/badschema.json" -o "$T/b3.json"
expect_err 'badschema.json: features.petal_length: expected "numerical" or "categorical"'

# A schema can make a numeric-looking column categorical.
printf '{"features": {"petal_width": "categorical"}}' >"$T/cat.json"
expect_rc 0 "$DRIFTD" baseline -i "$ex/train.csv" --schema "$T/cat.json" -o "$T/b4.json"
json_is "$T/b4.json" 'features[name=petal_width].kind=categorical' && ok || fail "schema kind ignored"


# Corrupted baselines: syntax (line:column) and meaning (key path).
head -c 300 "$T/base.json" >"$T/trunc.json"
expect_rc 2 "$DRIFTD" check -b "$T/trunc.json" -i "$ex/production_clean.csv"
expect_err "trunc.json:[0-9]+:[0-9]+: invalid JSON"
sed 's/"rows": 150/"rows": 151/' "$T/base.json" >"$T/rows.json"
expect_rc 2 "$DRIFTD" check -b "$T/rows.json" -i "$ex/production_clean.csv"
expect_err "rows.json: features\[0\]: count \+ missing = 150 but the baseline has 151 rows"
sed 's/"kind": "numerical"/"kind": "number"/' "$T/base.json" >"$T/kind.json"
expect_rc 2 "$DRIFTD" check -b "$T/kind.json" -i "$ex/production_clean.csv"
expect_err 'kind.json: features\[0\].kind: expected "numerical" or "categorical"'
sed 's/"format": "driftd-baseline"/"format": "other"/' "$T/base.json" >"$T/fmt.json"
expect_rc 2 "$DRIFTD" check -b "$T/fmt.json" -i "$ex/production_clean.csv"
expect_err "fmt.json: not a driftd baseline"
sed 's/"version": 1/"version": 99/' "$T/base.json" >"$T/ver.json"
expect_rc 2 "$DRIFTD" check -b "$T/ver.json" -i "$ex/production_clean.csv"
expect_err "ver.json: version: unsupported baseline version"
sed 's/\[4.3,4.4/[4.3,"x"/' "$T/base.json" >"$T/val.json"
expect_rc 2 "$DRIFTD" check -b "$T/val.json" -i "$ex/production_clean.csv"
expect_err 'val.json: features\[0\].sample\[1\]: expected a finite number'
expect_rc 2 "$DRIFTD" check -b "$T/missing.json" -i "$ex/production_clean.csv"
expect_err "missing.json: No such file or directory"

# Usage errors: exit 2 with a hint.
expect_rc 2 "$DRIFTD" check -b "$T/base.json"
expect_err "--baseline and --input are required"
expect_rc 2 "$DRIFTD" check -b "$T/base.json" -i "$T/data.txt"
expect_err "cannot tell the format from the name"
expect_rc 2 "$DRIFTD" frobnicate
expect_err 'unknown subcommand "frobnicate"'
expect_rc 0 "$DRIFTD" check --help
expect_out "Usage: driftd check"

# Binary garbage is rejected record by record, never a crash.
head -c 65536 /dev/urandom >"$T/garbage.csv"
"$DRIFTD" check -b "$T/base.json" -i "$T/garbage.csv" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -le 2 ] && ok || fail "garbage: exit $rc"
expect_no_crash garbage
head -c 65536 /dev/urandom >"$T/garbage.ndjson"
"$DRIFTD" check -b "$T/base.json" -i "$T/garbage.ndjson" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -le 2 ] && ok || fail "garbage ndjson: exit $rc"
expect_no_crash garbage-ndjson

finish
