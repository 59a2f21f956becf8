#!/bin/sh
# A configuration error says what to change and where (issue 13, item 6):
# an unknown key has its line and column and the known key it is closest to;
# a JSON syntax error says what was expected and what was found, with the
# line and a caret under the column; a missing `baseline` is named even
# when the file has other errors; a baseline file that cannot be read names
# the key and the configuration file. `validate`, `run` and a reload all
# say it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null

# validate_fails FILE: `validate --config FILE` exits 2, no crash.
validate_fails() {
    expect_rc 2 "$DRIFTD" validate --config "$1"
    expect_no_crash "validate $1"
}

# expect_line N TEXT: line N of the last stderr is TEXT, exactly (the
# excerpt and caret lines of a syntax error).
expect_line() {
    _got=$(sed -n "${1}p" "$T/err")
    if [ "$_got" = "$2" ]; then ok; else
        fail "stderr line $1 is \"$_got\", want \"$2\""; sed 's/^/  stderr: /' "$T/err" >&2; fi
}

# --- unknown keys: line:column and a suggestion --------------------------
printf '{\n  "baseline": "%s",\n  "window": {"min_record": 10},\n  "windw": {},\n  "min_records": 5,\n  "alerts": {"sinks": [{"type": "log", "resend_second": 5}]}\n}\n' \
    "$T/base.json" >"$T/unknown.json"
validate_fails "$T/unknown.json"
expect_err 'unknown\.json:3:14: window\.min_record: unknown key; did you mean `window\.min_records`\?'
expect_err 'unknown\.json:4:3: windw: unknown key; did you mean `window`\?'
# the right key in the wrong section
expect_err 'unknown\.json:5:3: min_records: unknown key; did you mean `window\.min_records`\?'
# inside an array: the concrete path
expect_err 'unknown\.json:6:40: alerts\.sinks\[0\]\.resend_second: unknown key; did you mean `alerts\.sinks\[0\]\.resend_seconds`\?'
expect_err 'unknown\.json: 4 errors'

# nothing close: no guess
printf '{"baseline": "%s", "zzzzzzzz": 1}\n' "$T/base.json" >"$T/far.json"
validate_fails "$T/far.json"
expect_err 'far\.json:1:[0-9]+: zzzzzzzz: unknown key$'

# a dotted name is not a path
printf '{"baseline": "%s", "window.records": 5}\n' "$T/base.json" >"$T/dotted.json"
validate_fails "$T/dotted.json"
expect_err 'dotted\.json:1:[0-9]+: window\.records: unknown key; a dot does not nest sections: write \{"window": \{"records": \.\.\.\}\}'

# --- syntax errors: what was expected, the line and a caret ---------------
printf '{\n  "baseline": "%s",\n  "window": {"records": 10,}\n}\n' "$T/base.json" >"$T/comma.json"
validate_fails "$T/comma.json"
expect_err "comma\\.json:3:28: invalid JSON: expected a key in double quotes after ',', found '\\}' \\(JSON allows no ',' before '\\}'\\)"
expect_line 2 '  3 |   "window": {"records": 10,}'
expect_line 3 '    |                            ^'

printf '{\n  "baseline": "%s"\n  "window": {}\n}\n' "$T/base.json" >"$T/nocomma.json"
validate_fails "$T/nocomma.json"
expect_err "nocomma\\.json:3:3: invalid JSON: expected ',' or '\\}' after the value of \"baseline\", found '\"' \\(a ',' is missing before the next key\\)"
expect_line 3 '    |   ^'

printf '{\n  "baseline": "%s",\n  "retrain": {"dry_run": True}\n}\n' "$T/base.json" >"$T/true.json"
validate_fails "$T/true.json"
expect_err "true\\.json:3:26: invalid JSON: expected a value for \"dry_run\", found \`True\` \\(JSON's literals are true, false and null, in lower case\\)"

printf '{\n  "baseline": "%s",\n  "window": {"records": 10\n' "$T/base.json" >"$T/eof.json"
validate_fails "$T/eof.json"
expect_err "eof\\.json:3:27: invalid JSON: expected ',' or '\\}' after the value of \"records\", found the end of the file \\(the '\\{' at line 3, column 13 is not closed\\)"

# text after the object was dropped without a word
printf '{"baseline": "%s"}}\n' "$T/base.json" >"$T/extra.json"
validate_fails "$T/extra.json"
expect_err "extra\\.json:1:[0-9]+: invalid JSON: expected the end of the file after the top-level value, found '\\}'"

# --- baseline: missing key, missing file -----------------------------------
# named beside another error (it used to be said only when the rest was right)
printf '{"model": "m", "windw": {}}\n' >"$T/nobase.json"
validate_fails "$T/nobase.json"
expect_err 'nobase\.json: baseline: missing; run, validate and a reload need it'
expect_err 'nobase\.json:1:16: windw: unknown key'
expect_err 'nobase\.json: 2 errors'

printf '{"baseline": "%s/nope.json"}\n' "$T" >"$T/gone.json"
validate_fails "$T/gone.json"
expect_err "gone\\.json: baseline: cannot read \"$T/nope\\.json\": No such file or directory; \`driftd baseline -i TRAINING_DATA -o $T/nope\\.json\` writes it"

# relative: where it was looked for
printf '{"baseline": "nope.json"}\n' >"$T/rel.json"
(cd "$T" && "$DRIFTD" validate --config rel.json >"$T/out" 2>"$T/err")
expect_err "rel\\.json: baseline: cannot read \"nope\\.json\" \\(relative to $T\\): No such file or directory"

# `run` says the same before it starts
printf '{"baseline": "%s/nope.json", "state_dir": "%s/state", "listen": "127.0.0.1:0"}\n' "$T" "$T" >"$T/rungone.json"
expect_rc 2 timeout 5 "$DRIFTD" run --config "$T/rungone.json"
expect_err "rungone\\.json: baseline: cannot read \"$T/nope\\.json\": No such file or directory"

# --- a reload answers with the same messages ---------------------------------
printf '{"model": "iris", "baseline": "%s", "state_dir": "%s/state", "listen": "127.0.0.1:0"}\n' \
    "$T/base.json" "$T" >"$T/c.json"
if start_daemon "$T/c.json"; then
    printf '{"model": "iris",\n "baseline": "%s", "state_dir": "%s/state", "listen": "127.0.0.1:0",\n "windw": {}}\n' \
        "$T/base.json" "$T" >"$T/c.json"
    http POST /v1/reload
    expect_code 400 "reload with an unknown key"
    expect_body_json 'errors[0]~c\.json:3:2: windw: unknown key; did you mean `window`\?$'
    printf '{"model": "iris",\n "baseline": "%s",}\n' "$T/base.json" >"$T/c.json"
    http POST /v1/reload
    expect_code 400 "reload with a syntax error"
    expect_body_json "errors[0]~c\\.json:2:[0-9]+: invalid JSON: expected a key in double quotes after ','" \
        'errors[0]~\n  2 \| '
    stop_daemon
fi

# a nats input: a short ack wait, another kind beside it, a bad server URL
printf '{"baseline": "%s", "inputs": [{"type": "nats", "ack_wait_seconds": 1, "servers": ["http://x"]}, {"type": "http"}]}\n' \
    "$T/base.json" >"$T/nats.json"
validate_fails "$T/nats.json"
expect_err 'inputs\[0\]\.ack_wait_seconds: at least 2 \(or 0: computed\), got 1'
expect_err 'inputs\[0\]\.servers\[0\]: expected a nats:// or tls:// URL, got "http://x"'
expect_err 'inputs: a nats input cannot be combined with other kinds'
finish
