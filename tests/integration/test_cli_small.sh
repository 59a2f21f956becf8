#!/bin/sh
# The small things of the command line a new user meets first (issue 13,
# items 13 and 5 for check): a p-value too small for a double, the help of
# help, run and validate, the singular of one, the --all-metrics table's
# columns, type errors counted per feature, and a quiet `make demo`.
. "$(dirname "$0")/lib.sh"

# A numerical column whose current values are all far above the reference
# (ks: p underflows to 0; wasserstein about 1e5, wider than fixed point
# fits), and a categorical one.
awk 'BEGIN { print "v,c"; for (i = 0; i < 1000; i++) print i "," (i % 2 ? "a" : "b") }' >"$T/ref.csv"
awk 'BEGIN { print "v,c"; for (i = 0; i < 1000; i++) print 100000 + i "," (i % 3 ? "a" : "b") }' >"$T/cur.csv"
expect_rc 0 "$DRIFTD" baseline -i "$T/ref.csv" -o "$T/base.json"

# An underflowed p-value reads <1e-300, never 0.0000.
expect_rc 1 "$DRIFTD" check -b "$T/base.json" -i "$T/cur.csv"
expect_out '^v +numerical +ks +1\.0000 +<1e-300 '
if grep -Eq '^v .* 0\.0000 ' "$T/out"; then fail "a p-value of 0 shown as 0.0000"; else ok; fi

# --all-metrics: every metric row has its name under "test" and its
# numbers ending where "statistic" and "p-value" end.
expect_rc 1 "$DRIFTD" check -b "$T/base.json" -i "$T/cur.csv" --all-metrics
expect_out '^ +ks +1\.0000 +<1e-300$|^ +wasserstein '
awk '
function toks(line,   pos, n, rest) {
    n = 0; pos = 1; rest = line
    while (match(rest, /[^ ]+/)) {
        n++; ts[n] = pos + RSTART - 1; te[n] = pos + RSTART + RLENGTH - 2
        pos += RSTART + RLENGTH - 1; rest = substr(rest, RSTART + RLENGTH)
    }
    return n
}
NR == 1 { toks($0); t = ts[3]; s = te[4]; p = te[5]; next }
/^$/ || /^Dataset drift/ { next }
{
    toks($0); k = substr($0, 1, 1) == " " ? 1 : 3; rows++
    if (ts[k] != t || te[k + 1] != s || te[k + 2] != p) { print "misaligned: " $0; bad = 1 }
}
END { exit bad || rows < 10 }' "$T/out" >"$T/align" && ok ||
    { fail "--all-metrics table columns do not line up"; cat "$T/align" "$T/out" >&2; }

# help --help, and the help of run and validate: their options and where
# the configuration keys are.
expect_rc 0 "$DRIFTD" help --help
expect_out '^Usage: driftd help '
expect_rc 0 "$DRIFTD" help -h
expect_out '^Usage: driftd help '
for c in run validate; do
    expect_rc 0 "$DRIFTD" $c --help
    expect_out "^Usage: driftd $c --config FILE"
    expect_out '^ +-c, --config FILE +[a-z]'
    expect_out "driftd help config"
done
expect_out 'Exit status: 0 valid'
expect_rc 0 "$DRIFTD" run --help
expect_out 'SIGHUP reloads'

# One of a thing is singular: the baseline's summary, the skipped records,
# the dataset line.
printf 'v\n1\n' >"$T/one.csv"
expect_rc 0 "$DRIFTD" baseline -i "$T/one.csv" -o "$T/one.json"
expect_err 'wrote .*one\.json: 1 feature, 1 row, sample of 1 row$'
printf 'v\n1\n2,3\n' >"$T/skip.csv"
expect_rc 0 "$DRIFTD" check -b "$T/one.json" -i "$T/skip.csv"
expect_out '^\(1 record skipped; '
expect_out '\(0 of 1 feature drifted, '

# check_ran FILE: check against base.json, any verdict (exit 0 or 1).
check_ran() {
    "$DRIFTD" check -b "$T/base.json" -i "$1" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" -le 1 ] && ok || { fail "check $1: exit $rc"; cat "$T/err" >&2; }
}

# Type errors in check: five "?" in a numerical column give the first three
# with line and column, then the total of the feature.
printf 'c,v\na,1\na,?\na,?\nb,2\na,?\na,?\na,?\n' >"$T/types.csv"
check_ran "$T/types.csv"
expect_err 'types\.csv:3: record 2: feature "v": value is not a number \(column 2: "\?"; '
expect_err 'types\.csv:6: record 5: feature "v": value is not a number \(column 2: "\?"; '
n=$(grep -c 'feature "v": value is not a number' "$T/err")
[ "$n" -eq 3 ] && ok || fail "$n type errors shown, want the first 3"
expect_err 'types\.csv: feature "v": 5 type errors in all \(the first 3 shown above\)$'
# In NDJSON the value names the feature (no column); one is singular.
printf '{"v": "x", "c": "a"}\n{"v": 1, "c": [1]}\n' >"$T/types.ndjson"
check_ran "$T/types.ndjson"
expect_err 'types\.ndjson:1: record 1: feature "v": value is not a number \("x"; '
expect_err 'types\.ndjson:2: record 2: feature "c": value is a JSON object or array, not a category'
expect_err 'types\.ndjson: feature "v": 1 type error in all$'

# make demo: only the build packages, the build quiet (one line, none of
# the sub-makes' Entering/Leaving directory lines), and the demo works.
# It builds driftd afresh in $T: skipped under valgrind, and without make.
if [ -n "${VALGRIND_LOGDIR:-}" ] || ! command -v make >/dev/null 2>&1; then
    ok
else
    (cd "$SRCDIR" && unset MAKEFLAGS MAKELEVEL MFLAGS &&
        make -n demo BUILD="$T/b" CMAKE_ARGS= JOBS=2) >"$T/plan" 2>&1
    if grep -q 'install-deps' "$T/plan" && ! grep 'install-deps' "$T/plan" | grep -Eq ' (test|all)( |$)'; then
        ok
    else
        fail "make demo installs more than the build group"; cat "$T/plan" >&2
    fi
    (cd "$SRCDIR" && unset MAKEFLAGS MAKELEVEL MFLAGS &&
        make demo BUILD="$T/b" CMAKE_ARGS= JOBS=2) >"$T/demo" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q 'Done: drift detected' "$T/demo"; then ok; else
        fail "make demo exited $rc"; tail -30 "$T/demo" >&2; fi
    if grep -Eq 'Entering directory|Leaving directory|Building C object|Linking C' "$T/demo"; then
        fail "make demo shows the build's output"; grep -E 'directory|Building|Linking' "$T/demo" | head >&2
    else ok; fi
    head -1 "$T/demo" | grep -q '^demo: building driftd in ' && ok ||
        { fail "make demo does not start with its one build line"; head -3 "$T/demo" >&2; }
fi

finish
