#!/bin/sh
# A large CSV without a double quote is read in segments on several threads
# (agent/prefetch.c); the same data with one quoted field is read on one.
# Both must give the same report and the same messages: line and record
# numbers of skipped records and type errors in every segment, the header's
# problems once, CRLF lines and a last line without newline.
. "$(dirname "$0")/lib.sh"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null

# About 6 MB of iris rows (several 4 MiB segments, the parallel threshold
# at 4 MiB), with problems placed in each segment: a short row, a long one,
# a blank line, a value that is not a number. $1: line ending; $2: quote
# one species (the file is then read on one thread); $3: clean, no problem
# but empty and NA cells and a last field left empty (every segment is then
# read without the reader, agent/prefetch.c's segment_plain).
make_csv() {
    awk -v eol="$1" -v quote="$2" -v clean="$3" 'NR == 1 { header = $0; next } { rows[n++] = $0 }
    END {
        printf "%s%s", header, eol
        for (i = 0; i < 200000; i++) {
            r = rows[i % n]
            if (clean) {
                if (i % 997 == 5) sub(/^[^,]*/, "", r)
                else if (i % 1009 == 7) sub(/,[^,]*,/, ",NA,", r)
                else if (i % 2003 == 9) sub(/[^,]*$/, "", r)
                # numbers around the one-pass parse of plain segments: spaces
                # to trim, signs, a bare point, an exponent, an overflow
                # and the infinities and NANs counted missing
                else if (i % 1013 == 11) sub(/^[^,]*/, " 5.1", r)
                else if (i % 1019 == 13) sub(/^[^,]*/, "5.1\t", r)
                else if (i % 1021 == 15) sub(/^[^,]*/, "+5.1", r)
                else if (i % 1031 == 17) sub(/^[^,]*/, "1e999", r)
                else if (i % 1033 == 19) sub(/^[^,]*/, "nan", r)
                else if (i % 1039 == 21) sub(/^[^,]*/, "-inf", r)
                else if (i % 1049 == 23) sub(/^[^,]*/, ".5", r)
                else if (i % 1051 == 25) sub(/^[^,]*/, "5.", r)
                else if (i % 1061 == 27) sub(/^[^,]*/, "51E-1", r)
                else if (i % 1063 == 29) sub(/^[^,]*/, "-0", r)
                # besides: row 7 is also one of the NA rows
                if (quote && i == 7) sub(/setosa/, "\"setosa\"", r)
            }
            else if (i == 3) r = "5.1,3.5"
            else if (i == 90001) r = r ",extra"
            else if (i == 120002) r = ""
            else if (i == 150003) { sub(/^[^,]*/, "abc", r) }
            else if (i == 199998) r = "4.9,oops,1.4,0.2,setosa"
            else if (quote % 2 && i == 7) sub(/setosa/, "\"setosa\"", r)
            # quote >= 2: quotes late in the file, one around a newline
            else if (quote >= 2 && i == 150000) sub(/[a-z]+$/, "\"seto" eol "sa\"", r)
            else if (quote >= 2 && i == 150001) sub(/[a-z]+$/, "\"set,osa\"", r)
            printf "%s%s", r, (i < 199999 ? eol : "")
        }
    }' "$ex/train.csv"
}

# check_both: check par.csv and seq.csv, reports and messages in
# $T/par.{out,err} and $T/seq.{out,err}, the input's name replaced (the one
# difference)
check_both() {
    for f in par seq; do
        "$DRIFTD" check -b "$T/base.json" -i "$T/$f.csv" --json >"$T/$f.out" 2>"$T/$f.err"
        echo "rc=$?" >>"$T/$f.out"
        sed -i "s|$T/$f.csv|INPUT|g; /generated_at/d" "$T/$f.out" "$T/$f.err"
    done
}

for eol in lf crlf clean; do
    e='\n'
    [ "$eol" = crlf ] && e='\r\n'
    c=0
    [ "$eol" = clean ] && c=1
    make_csv "$e" 0 $c >"$T/par.csv"
    make_csv "$e" 1 $c >"$T/seq.csv"
    size=$(wc -c <"$T/par.csv")
    if [ "$size" -lt 5000000 ]; then fail "$eol: the file is too small to be split ($size bytes)"; fi
    check_both
    same_check_output par seq "$eol"
    if [ "$eol" = clean ]; then
        # no message, and the empty and NA cells counted missing
        if [ ! -s "$T/par.err" ] && grep -q '"missing_rate": 0.00' "$T/par.out"; then ok; else
            fail "clean: messages or missing counts"; cat "$T/par.err" >&2; fi
        # the columns are sized from the first batch's bytes: about the
        # 200,000 records (the rows' lengths vary by a few bytes)
        DRIFTD_DEBUG=1 "$DRIFTD" check -b "$T/base.json" -i "$T/par.csv" --json 2>"$T/debug.err" >/dev/null
        n=$(sed -n 's/.*: about \([0-9]*\) records, from the first batch.s bytes$/\1/p' "$T/debug.err")
        if [ -n "$n" ] && [ "$n" -gt 180000 ] && [ "$n" -lt 220000 ]; then ok; else
            fail "clean: records expected from the first batch: '$n'"; cat "$T/debug.err" >&2; fi
        continue
    fi
    # the numbers are the file's: the long row is line 90003, record 90002
    if grep -q "INPUT:90003: record 90002: expected 5 fields, found 6" "$T/par.err"; then ok; else
        fail "$eol: the long row's line and record"; cat "$T/par.err" >&2; fi
    # (the blank line is no record)
    if grep -q "INPUT:200000: record 199998: feature \"sepal_width\"" "$T/par.err"; then ok; else
        fail "$eol: the type error in the last line"; cat "$T/par.err" >&2; fi
    # Quotes only late in the file (a quoted newline at record 150001): the
    # segments before them are read in parallel, the rest by one reader;
    # the same as one reader of it all (the early quote makes that one).
    make_csv "$e" 2 0 >"$T/par.csv"
    make_csv "$e" 3 0 >"$T/seq.csv"
    check_both
    same_check_output par seq "$eol, late quotes"
    # the record after the quoted newline keeps its line: 150003 + 1
    if grep -q "INPUT:200001: record 199998: feature \"sepal_width\"" "$T/par.err"; then ok; else
        fail "$eol, late quotes: the type error in the last line"; cat "$T/par.err" >&2; fi
done
finish
