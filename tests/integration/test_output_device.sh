#!/bin/sh
# `--output` names a file written atomically (temp file, rename), except
# a device or a FIFO, which is written to in place: `check -o /dev/null`
# once renamed a regular file over /dev/null. A FIFO stands in for the
# device here: it must still be a FIFO afterwards and its reader must get
# the report.
. "$(dirname "$0")/lib.sh"
ex="$SRCDIR/examples/iris"
mkfifo "$T/fifo"
timeout 10 cat "$T/fifo" >"$T/got" &
reader=$!
expect_rc 0 "$DRIFTD" check -b "$ex/baseline.json" -i "$ex/production_clean.csv" --json -o "$T/fifo"
wait "$reader"
[ -p "$T/fifo" ] && ok || fail "the FIFO was replaced by $(ls -l "$T/fifo")"
expect_json "$T/got" dataset.drift=false
# a regular file is still replaced whole
printf 'old and longer than the report could ever be? no, but replaced' >"$T/r.json"
expect_rc 0 "$DRIFTD" check -b "$ex/baseline.json" -i "$ex/production_clean.csv" --json -o "$T/r.json"
expect_json "$T/r.json" dataset.drift=false
finish
