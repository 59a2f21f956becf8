#!/bin/sh
# docs/configuration.md is generated from the configuration table; it must
# match what this binary prints, and every key in interface.md's example
# must be in the table.
. "$(dirname "$0")/lib.sh"
"$DRIFTD" help config >"$T/ref.md"
if tail -n +5 "$SRCDIR/docs/configuration.md" | diff -u - "$T/ref.md" >"$T/diff"; then ok; else
    fail "docs/configuration.md is stale: regenerate it (see its first lines)"; head -20 "$T/diff" >&2
fi
for key in model baseline state_dir listen auth.token_file inputs features.include features.exclude \
    features.overrides window.records window.seconds window.min_records window.sample drift.method \
    drift.drift_share drift.correction drift.alpha drift.min_effect alerts.resolve_after \
    alerts.repeat_seconds alerts.sinks alerts.sinks\[\].url_file alerts.sinks\[\].headers \
    alerts.sinks\[\].resend_seconds retrain.github.api_url retrain.github.repository \
    retrain.github.workflow retrain.github.ref retrain.github.token_file retrain.github.inputs \
    retrain.github.api_version retrain.consecutive retrain.cooldown_seconds retrain.dry_run; do
    grep -qF "| \`$key\` |" "$T/ref.md" && ok || fail "key $key missing from the table"
done
"$DRIFTD" help >"$T/help" && grep -q "driftd baseline" "$T/help" && ok || fail "driftd help"
for c in baseline check run validate version; do
    "$DRIFTD" $c --help >"$T/h" 2>&1 && grep -q "Usage: driftd $c" "$T/h" && ok || fail "driftd $c --help"
done
# examples/iris/baseline.json is what driftd baseline writes today, byte for
# byte (same input and seed, same bytes; and not stale after a format change)
"$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" -o - 2>/dev/null >"$T/iris.json"
cmp -s "$T/iris.json" "$SRCDIR/examples/iris/baseline.json" && ok || fail "examples/iris/baseline.json is stale"
"$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" --max-sample 50 --seed 7 -o "$T/s1.json" 2>/dev/null
"$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" --max-sample 50 --seed 7 -o "$T/s2.json" 2>/dev/null
"$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" --max-sample 50 --seed 8 -o "$T/s3.json" 2>/dev/null
cmp -s "$T/s1.json" "$T/s2.json" && ok || fail "same input and seed gave different baselines"
cmp -s "$T/s1.json" "$T/s3.json" && fail "another seed gave the same sample" || ok
grep -q '"sample_rows": 50' "$T/s1.json" && ok || fail "max-sample 50 not honoured"
finish
