#!/bin/sh
# `driftd check` keeps a baseline's sample arrays in BASELINE.cache beside
# it (agent/bcache.c) and reads them from there when the cache is one of
# the same bytes: known by the file status recorded, or else by the
# SHA-256. A cache that is stale, damaged, foreign, a link or a directory
# is ignored (and written anew when it can be); --no-cache neither reads
# nor writes it. Every report must be the one without a cache.
# DRIFTD_DEBUG=1 makes check say where the samples came from.
. "$(dirname "$0")/lib.sh"
ex="$SRCDIR/examples/iris"
b="$T/base.json"
c="$b.cache"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$b" 2>/dev/null
cp "$ex/production_drift.csv" "$T/cur.csv"

# check_with NAME [OPTIONS]: run check, report in $T/NAME.out (without its
# time), messages in $T/NAME.err
check_with() {
    name=$1
    shift
    DRIFTD_DEBUG=1 "$DRIFTD" check -b "$b" -i "$T/cur.csv" --json "$@" >"$T/$name.out" 2>"$T/$name.err"
    echo "rc=$?" >>"$T/$name.out"
    sed -i '/generated_at/d' "$T/$name.out"
}

# same_as_uncached NAME WHAT [OPTIONS]: the report is the one --no-cache
# gives now (with the same OPTIONS)
same_as_uncached() {
    check_with plain --no-cache ${3:-}
    if cmp -s "$T/$1.out" "$T/plain.out"; then ok; else
        fail "$2: the report differs from the one without a cache"
        diff "$T/$1.out" "$T/plain.out" | head -10 >&2
    fi
}

# expect_said NAME PATTERN WHAT
expect_said() {
    if grep -Eq -- "$2" "$T/$1.err"; then ok; else
        fail "$3: stderr lacks /$2/"; sed 's/^/  stderr: /' "$T/$1.err" >&2; fi
}

# the baseline two seconds old, so that its status can be trusted
sleep 2

# --no-cache writes nothing
check_with nocache --no-cache
if [ ! -e "$c" ]; then ok; else fail "--no-cache wrote $c"; fi

# the first check writes the cache, the second reads it by file status
check_with first
expect_said first "$c: written" "first check"
if [ -f "$c" ]; then ok; else fail "no cache after the first check"; fi
same_as_uncached first "first check"
check_with second
expect_said second "samples read from $c \(the same baseline by its file status\)" "second check"
same_as_uncached second "second check"
# every metric, the normed Wasserstein distance among them, whose scale
# (the sample's standard deviation) the cache records
check_with second_all --all-metrics
expect_said second_all "samples read from $c" "second check, --all-metrics"
if grep -q '"wasserstein_normed"' "$T/second_all.out"; then ok; else
    fail "--all-metrics: no wasserstein_normed in the report"; fi
same_as_uncached second_all "second check, --all-metrics" --all-metrics

# no more readable than the baseline
chmod 600 "$b"
rm -f "$c"
check_with private
mode=$(stat -c %a "$c" 2>/dev/null)
if [ "$mode" = 600 ]; then ok; else fail "the cache of a 0600 baseline has mode $mode"; fi
chmod 644 "$b"

# touched: the status differs, the bytes do not: found by the hash
touch "$b"
check_with touched
expect_said touched "samples read from $c \(the same baseline by its SHA-256\)" "touched baseline"
same_as_uncached touched "touched baseline"

# a new baseline at the same path: the cache is stale, written anew
head -n 100 "$ex/train.csv" >"$T/short.csv"
"$DRIFTD" baseline -i "$T/short.csv" -o "$b" 2>/dev/null
check_with replaced
expect_said replaced "$c: written" "replaced baseline"
if grep -q "samples read" "$T/replaced.err"; then fail "a stale cache was read"; else ok; fi
same_as_uncached replaced "replaced baseline"

# damage: a flipped byte in the samples' part, in the header; a cut file
size=$(wc -c <"$c")
for at in $((size - 20)) 300 40; do
    check_with warm
    printf 'X' | dd of="$c" bs=1 seek="$at" conv=notrunc 2>/dev/null
    check_with damaged
    if grep -q "samples read" "$T/damaged.err"; then fail "a cache damaged at byte $at was read"; else ok; fi
    expect_said damaged "$c: written" "cache damaged at byte $at"
    same_as_uncached damaged "cache damaged at byte $at"
done
head -c 100 "$c" >"$T/cut" && mv "$T/cut" "$c"
check_with cut
expect_said cut "$c: written" "cut cache"
same_as_uncached cut "cut cache"

# anyone may write it: not read
check_with warm
chmod 666 "$c"
check_with open
if grep -q "samples read" "$T/open.err"; then fail "a world-writable cache was read"; else ok; fi
same_as_uncached open "world-writable cache"

# a link is not followed, read or written through
rm -f "$c"
cp "$b" "$T/target"
ln -s "$T/target" "$c"
check_with link
if grep -q "samples read" "$T/link.err"; then fail "a link was read as the cache"; else ok; fi
if cmp -s "$b" "$T/target"; then ok; else fail "the link's target was written"; fi
same_as_uncached link "link"

# a directory where the cache goes: check works, nothing written
rm -f "$c"
mkdir "$c"
check_with dir
expect_said dir "$c: not written" "directory as cache"
if [ -z "$(ls -A "$c")" ] && [ -z "$(ls "$T" | grep 'base.json.cache.tmp')" ]; then ok; else
    fail "a directory as cache: files left"; ls -la "$c" "$T" >&2; fi
same_as_uncached dir "directory as cache"
rmdir "$c"

# samples out of order (a hand-edited baseline): read, sorted, not cached
/usr/bin/python3 - "$b" <<'EOF'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
for f in d["features"]:
    if f.get("sample"):
        f["sample"].reverse()
        break
json.dump(d, open(p, "w"))
EOF
check_with unsorted
expect_said unsorted "$c: not written: samples unsorted" "unsorted samples"
if [ ! -e "$c" ]; then ok; else fail "unsorted samples were cached"; fi
same_as_uncached unsorted "unsorted samples"
finish
