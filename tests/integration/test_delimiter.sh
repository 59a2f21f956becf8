#!/bin/sh
# Other separators than the comma (issue 13, item 4): `--delimiter` for
# baseline and check, a header with no comma but a ';', tab or '|' read
# with it (and said so), a decimal comma named in the type error, and for
# the daemon `"delimiter"` on tail/stdin inputs and `?delimiter=` (or the
# header) for HTTP CSV bodies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
tr ',' ';' <"$ex/train.csv" >"$T/train_semi.csv"
tr ',' ';' <"$ex/production_clean.csv" >"$T/prod_semi.csv"
tr ',' '\t' <"$ex/production_clean.csv" >"$T/prod.tsv"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null

# baseline and check find the semicolon in the header and say so
expect_rc 0 "$DRIFTD" baseline -i "$T/train_semi.csv" -o "$T/base_semi.json"
grep -q "the header has no ',' but ';': read as ;-separated" "$T/err" && ok || fail "no detection line: $(cat "$T/err")"
expect_json "$T/base_semi.json" 'len(features)=5'
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/prod_semi.csv" --json
cp "$T/out" "$T/r1.json"
"$DRIFTD" check -b "$T/base.json" -i "$ex/production_clean.csv" --json >"$T/r0.json" 2>/dev/null
expect_json "$T/r1.json" "dataset.drifted_features=$(json "$T/r0.json" dataset.drifted_features)" \
    "features[name=sepal_length].statistic=$(json "$T/r0.json" 'features[name=sepal_length].statistic')"
# explicit: a tab file, and ';' chosen by hand
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/prod.tsv" -f csv --delimiter tab --json
cp "$T/out" "$T/r2.json"
expect_json "$T/r2.json" "dataset.drifted_features=$(json "$T/r0.json" dataset.drifted_features)"
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/prod_semi.csv" -d ';' --json
grep -q 'read as' "$T/err" && fail "a chosen delimiter is still detected" || ok
# a comma forced on a ';' file: nothing matches, and the error says so
expect_rc 2 "$DRIFTD" check -b "$T/base.json" -i "$T/prod_semi.csv" -d ,
expect_rc 2 "$DRIFTD" check -b "$T/base.json" -i "$T/prod_semi.csv" -d ab
grep -q -- '--delimiter: one character or tab, not "ab"' "$T/err" && ok || fail "bad delimiter message: $(cat "$T/err")"
# a decimal comma in a ';' file is a type error that says what it probably is
printf 'sepal_length;sepal_width;petal_length;petal_width;species\n5,1;3.5;1.4;0.2;setosa\n' >"$T/dec.csv"
"$DRIFTD" check -b "$T/base.json" -i "$T/dec.csv" >/dev/null 2>"$T/err"
grep -q '"5,1"; counted as a type error; a decimal comma?' "$T/err" && ok || fail "no decimal-comma hint: $(cat "$T/err")"

# the daemon: an http input (body header, or ?delimiter=) and a tail input
: >"$T/log.csv"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}, {"type": "tail", "path": "$T/log.csv", "start": "beginning", "delimiter": ";"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 10, "sample": 1000}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/prod_semi.csv"
expect_code 202 "a ';' CSV body"
expect_body_json accepted=300 rejected=0
http POST '/v1/ingest?delimiter=tab' -H 'Content-Type: text/csv' --data-binary @"$T/prod.tsv"
expect_code 202 "?delimiter=tab"
expect_body_json accepted=300
http POST '/v1/ingest?delimiter=%3B' -H 'Content-Type: text/csv' --data-binary @"$T/prod_semi.csv"
expect_code 202 "?delimiter=%3B"
http POST '/v1/ingest?delimiter=xy' -H 'Content-Type: text/csv' --data-binary @"$T/prod_semi.csv"
expect_code 400 "?delimiter=xy"
cat "$T/prod_semi.csv" >>"$T/log.csv"
wait_until 10 status_is 'inputs[type=tail].records=300' 'inputs[type=tail].unknown_columns=0' && ok ||
    fail "tail with delimiter ';': $(curl -s "$URL/v1/status" | json_in 'inputs[type=tail]')"
stop_daemon
[ "$DAEMON_RC" -eq 0 ] && ok || fail "exit $DAEMON_RC"
sed 's/"delimiter": ";"/"delimiter": "x"/' "$T/c.json" >"$T/bad.json"
expect_rc 2 "$DRIFTD" validate --config "$T/bad.json"
grep -q 'inputs\[1\].delimiter' "$T/err" && ok || fail "no key in the error: $(cat "$T/err")"
finish
