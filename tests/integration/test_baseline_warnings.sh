#!/bin/sh
# `driftd baseline` says when its schema is probably wrong (issue 13, item
# 7): a CSV header of one field holding ';', a tab or '|', and a column
# numerical but for a few values, which inference makes categorical with a
# category per number; --schema takes a file or the JSON itself, and the
# README's inline example works as written.
. "$(dirname "$0")/lib.sh"

# A file separated by something else than commas: read with its header's
# separator (and said so); with the comma forced, one field in the header,
# and a warning that names the option to use.
printf 'a;b;c\n1;2;3\n4;5;6\n' >"$T/semi.csv"
printf 'a\tb\n1\t2\n' >"$T/tab.csv"
printf 'a|b\n1|2\n' >"$T/pipe.csv"
for f in semi:"';'":"';'" tab:'a tab':tab pipe:"'|'":"'|'"; do
    name=${f%%:*} rest=${f#*:} sep=${rest%%:*} opt=${rest#*:}
    expect_rc 0 "$DRIFTD" baseline -i "$T/$name.csv" -o "$T/$name.json"
    expect_err "$name\.csv: the header has no ',' but"
    expect_json "$T/$name.json" 'len(features)>=2'
    expect_rc 0 "$DRIFTD" baseline -i "$T/$name.csv" -d , -o "$T/$name.json"
    expect_err "$name\.csv: warning: the header is one field, .* that contains $sep: the file looks separated by $sep"
    expect_err 'one categorical feature named after the whole line'
    expect_err "--delimiter $opt"
    expect_err '--schema'
done
# A header of one field without those characters, and a comma file whose
# names hold a ';', are not warned about.
printf 'v\n1\n2\n' >"$T/one.csv"
printf 'a;x,b\n1,2\n' >"$T/comma.csv"
for f in one comma; do
    expect_rc 0 "$DRIFTD" baseline -i "$T/$f.csv" -o "$T/$f.json"
    if grep -q 'warning' "$T/err"; then fail "$f.csv: warned: $(cat "$T/err")"; else ok; fi
done

# One stray "?" in a numerical column of 60 values: the warning names the
# value, its line and column, the categories it made and the --schema.
awk 'BEGIN { print "id,age"; for (i = 0; i < 60; i++) print i "," (i == 17 ? "?" : 20 + i) }' \
    >"$T/stray.csv"
expect_rc 0 "$DRIFTD" baseline -i "$T/stray.csv" -o "$T/stray.json"
expect_err 'stray\.csv: warning: feature "age" is numerical except for 1 value, so it was made categorical \(60 categories\): "\?" on line 19 column 2\.'
expect_err "say so: --schema '\\{\"features\": \\{\"age\": \"numerical\"\\}\\}'"
expect_json "$T/stray.json" 'features[name=age].kind=categorical' 'features[name=id].kind=numerical'

# Five strays: the first three shown with their places, the rest counted.
awk 'BEGIN { print "v"; for (i = 0; i < 200; i++) print (i % 40 == 5 ? "n/a?" : i / 4) }' \
    >"$T/strays.csv"
expect_rc 0 "$DRIFTD" baseline -i "$T/strays.csv" -o "$T/strays.json"
expect_err 'feature "v" is numerical except for 5 values, .*: "n/a\?" on line 7 column 1, "n/a\?" on line 47 column 1, "n/a\?" on line 87 column 1, and 2 more\.'

# NDJSON: the line, no column.
{ printf '{"x": 1}\n{"x": "?"}\n'; i=2; while [ $i -le 40 ]; do printf '{"x": %d}\n' $i; i=$((i + 1)); done; } \
    >"$T/stray.ndjson"
expect_rc 0 "$DRIFTD" baseline -i "$T/stray.ndjson" -o "$T/ndjson.json"
expect_err 'feature "x" is numerical except for 1 value, .*: "\?" on line 2\. If'

# A categorical column is not warned about, nor one with 10% text.
awk 'BEGIN { print "c,m"; for (i = 0; i < 100; i++) print (i % 2 ? "red" : 7) "," (i % 10 ? i : "x") }' \
    >"$T/cat.csv"
expect_rc 0 "$DRIFTD" baseline -i "$T/cat.csv" -o "$T/cat.json"
if grep -q 'warning' "$T/err"; then fail "cat.csv: warned: $(cat "$T/err")"; else ok; fi

# The kind given inline: numerical, the stray counted as missing, no
# warning but the count of values that are not numbers (one: singular).
expect_rc 0 "$DRIFTD" baseline -i "$T/stray.csv" -o "$T/inline.json" \
    --schema '{"features": {"age": "numerical"}}'
expect_json "$T/inline.json" 'features[name=age].kind=numerical' 'features[name=age].missing=1'
expect_err 'stray\.csv:19: feature "age": 1 value is not a number'
if grep -q 'warning' "$T/err"; then fail "warned despite --schema: $(cat "$T/err")"; else ok; fi
# ... and from a file, as before.
printf '{"features": {"age": "numerical"}}\n' >"$T/kinds.json"
expect_rc 0 "$DRIFTD" baseline -i "$T/stray.csv" -o "$T/file.json" --schema "$T/kinds.json"
expect_json "$T/file.json" 'features[name=age].kind=numerical'
# Bad inline JSON is an error naming --schema; a missing file names the file.
expect_rc 2 "$DRIFTD" baseline -i "$T/stray.csv" -o "$T/bad.json" --schema '{"features": {"age": '
expect_err '^driftd: --schema: invalid JSON at byte [0-9]+'
expect_rc 2 "$DRIFTD" baseline -i "$T/stray.csv" -o "$T/bad.json" --schema "$T/nothere.json"
expect_err "nothere\.json: No such file"

# The README's --schema example runs as written.
example=$(sed -n "s/.*\`\(--schema '{[^\`]*}'\)\`.*/\1/p" "$SRCDIR/README.md" | head -1)
if [ -z "$example" ]; then fail "README.md has no inline --schema example"; else
    ok
    printf 'zip,v\n10115,1\n80331,2\n' >"$T/zip.csv"
    eval "set -- $example"
    expect_rc 0 "$DRIFTD" baseline -i "$T/zip.csv" -o "$T/zip.json" "$@"
    expect_json "$T/zip.json" 'features[name=zip].kind=categorical'
fi

finish
