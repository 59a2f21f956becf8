#!/bin/sh
# The include picture: agent -> alerts -> stats -> lib, no include running
# back up and no circle between modules (scripts/check-includes). Then the
# check itself must be able to fail: a copy of the tree with one include
# pointing up, and one with a circle, are refused.
. "$(dirname "$0")/lib.sh"
if "$SRCDIR/scripts/check-includes" >"$T/out" 2>&1; then ok; else
    fail "include picture: $(cat "$T/out")"
fi
mkdir -p "$T/tree"
cp -r "$SRCDIR/scripts" "$SRCDIR/lib" "$SRCDIR/stats" "$SRCDIR/alerts" "$SRCDIR/agent" "$T/tree/"
printf '#include "agent/daemon.h"\n' >>"$T/tree/stats/sort.c"
if "$T/tree/scripts/check-includes" >"$T/up" 2>&1; then fail "an include up the layers passed"; else
    grep -q 'stats/sort.c includes agent/daemon.h' "$T/up" && ok || fail "wrong message: $(cat "$T/up")"
fi
cp "$SRCDIR/stats/sort.c" "$T/tree/stats/sort.c"
printf '#include "agent/api.h"\n' >>"$T/tree/agent/source.h"
if "$T/tree/scripts/check-includes" >"$T/circle" 2>&1; then fail "a circle passed"; else
    grep -q 'circle' "$T/circle" && ok || fail "wrong message: $(cat "$T/circle")"
fi
finish
