#!/bin/sh
# A large NDJSON file is read in segments on several threads
# (agent/prefetch.c), each segment's reader numbering the keys it meets
# itself; handed over, the columns are renumbered as one reader of the
# whole file numbers them. The parallel read must give what one thread
# gives (DRIFTD_THREADS=1): the same report, the same messages with the
# same line and record numbers, and the same list of keys that are not
# features, in the order the file first has them.
. "$(dirname "$0")/lib.sh"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null

# About 7 MB of iris rows as NDJSON (several 1 MiB segments, the parallel
# threshold at 4 MiB). $1: line ending; $2: a UTF-8 BOM first; $3: wide:
# 100 rows of 50 keys never seen before at row 118,000, more than a reader
# keeps columns (4,096), and petal_width absent from row 10 to row 118,500,
# so that the segment meeting those keys would drop petal_width, a column
# one reader of the whole file has known since row 0.
#  - keys in another order in every seventh row;
#  - petal_width absent from the first 2,000 rows (the first segment meets
#    it late) and null in some rows;
#  - keys that are not features, first met in later segments: "zeta" at
#    row 90,000, "alpha" at row 60,000, "mid" in every 5,000th row;
#  - numbers as strings, a nested value, true for a category;
#  - a blank line, invalid JSON, an array, a scalar, in several segments.
make_ndjson() {
    awk -F, -v eol="$1" -v bom="$2" -v wide="$3" 'NR == 1 { next } { rows[n++] = $0 }
    END {
        if (bom) printf "\357\273\277"
        for (i = 0; i < 120000; i++) {
            split(rows[i % n], f, ",")
            sl = "\"sepal_length\": " f[1]
            sw = "\"sepal_width\": " f[2]
            pl = "\"petal_length\": " f[3]
            pw = "\"petal_width\": " f[4]
            sp = "\"species\": \"" f[5] "\""
            if (wide ? i >= 10 && i < 118500 : i < 2000) pw = ""
            else if (i % 1013 == 3) pw = "\"petal_width\": null"
            if (i % 3001 == 5) sl = "\"sepal_length\": \"" f[1] "\""
            if (i % 4001 == 6) sw = "\"sepal_width\": [1, 2]"
            if (i % 5003 == 7) sp = "\"species\": true"
            extra = ""
            if (i == 90000) extra = "\"zeta\": 1"
            else if (i == 60000) extra = "\"alpha\": \"x\""
            else if (i % 5000 == 11) extra = "\"mid\": 2"
            if (wide && i >= 118000 && i < 118100)
                for (k = 0; k < 50; k++)
                    extra = extra (extra == "" ? "" : ", ") "\"k" i "_" k "\": 0"
            if (i % 7 == 1) line = join(sp, pw, pl, sw, sl, extra)
            else line = join(extra, sl, sw, pl, pw, sp)
            if (i == 5) line = ""
            else if (i == 30001) line = "{\"sepal_length\": 5.1,"
            else if (i == 70002) line = "[1, 2, 3]"
            else if (i == 110003) line = "42"
            printf "%s%s", line, eol
        }
    }
    function join(a, b, c, d, e, f,    s) {
        s = "{"
        s = add(s, a); s = add(s, b); s = add(s, c)
        s = add(s, d); s = add(s, e); s = add(s, f)
        return s "}"
    }
    function add(s, x) {
        if (x == "") return s
        return s (s == "{" ? "" : ", ") x
    }' "$ex/train.csv"
}

for variant in lf crlf bom wide; do
    e='\n'
    b=0
    w=0
    [ "$variant" = crlf ] && e='\r\n'
    [ "$variant" = bom ] && b=1
    [ "$variant" = wide ] && w=1
    make_ndjson "$e" $b $w >"$T/in.ndjson"
    size=$(wc -c <"$T/in.ndjson")
    if [ "$size" -lt 5000000 ]; then fail "$variant: the file is too small to be split ($size bytes)"; fi
    for t in 1 2; do
        DRIFTD_THREADS=$t "$DRIFTD" check -b "$T/base.json" -i "$T/in.ndjson" --json \
            >"$T/t$t.out" 2>"$T/t$t.err"
        echo "rc=$?" >>"$T/t$t.out"
        sed -i "/generated_at/d" "$T/t$t.out"
    done
    same_check_output t1 t2 "$variant"
    # the numbers are the file's: line 30002 (record 30001 after the blank line)
    if grep -q "in.ndjson:30002: record 30001: invalid JSON" "$T/t2.err"; then ok; else
        fail "$variant: the invalid line's line and record"; cat "$T/t2.err" >&2; fi
    if grep -q "in.ndjson:110004: record 110003: expected a JSON object, found a scalar" \
        "$T/t2.err"; then ok; else
        fail "$variant: the scalar's line and record"; cat "$T/t2.err" >&2; fi
    # keys that are not features, in the order the file first has them
    if [ "$variant" = wide ]; then
        unknown='4091 columns are not a feature of the baseline, ignored: "mid", "alpha", "zeta", "k118000_0",'
    else
        unknown='not a feature of the baseline, ignored: "mid", "alpha", "zeta"'
    fi
    if grep -q "$unknown" "$T/t2.err"; then ok; else
        fail "$variant: the keys that are not features"; grep 'not a feature' "$T/t2.err" >&2; fi
    # and every record is counted
    if grep -q '"current_count": 119' "$T/t2.out"; then ok; else
        fail "$variant: counts"; head -c 600 "$T/t2.out" >&2; fi
done
finish
