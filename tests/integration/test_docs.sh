#!/bin/sh
# The docs say what the code does. docs/configuration.md is generated from
# the configuration table and must match what this binary prints; the keys
# of the documented example configuration must be in the table. And every
# name a user or an integrator meets must be documented: each endpoint of
# the route table in docs/api.md, each configuration key in
# docs/configuration.md, each metric the code exports in docs/api.md, each
# test name in docs/statistics.md, each field of the webhook body and each
# template variable of the GitHub inputs in docs/alerts.md; and each
# endpoint, metric, test name and rejection reason in docs/man/driftd.8.
# Nothing in the repository may point at spec files outside it.
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
    retrain.github.api_version retrain.consecutive retrain.cooldown_seconds retrain.dry_run \
    history.keep; do
    grep -qF "| \`$key\` |" "$T/ref.md" && ok || fail "key $key missing from the table"
done
"$DRIFTD" help >"$T/help" && grep -q "driftd baseline" "$T/help" && ok || fail "driftd help"
for c in baseline check run validate version; do
    "$DRIFTD" $c --help >"$T/h" 2>&1 && grep -q "Usage: driftd $c" "$T/h" && ok || fail "driftd $c --help"
done
# examples/iris/baseline.json is what driftd baseline writes today, byte for
# byte (same input and seed, same bytes; and not stale after a format change
# or a new version). Its provenance records the input's path as given: the
# one relative to the top of the tree, as it was made.
(cd "$SRCDIR" && env -u SOURCE_DATE_EPOCH "$DRIFTD" baseline -i examples/iris/train.csv -o -) 2>/dev/null \
    >"$T/iris.json"
cmp -s "$T/iris.json" "$SRCDIR/examples/iris/baseline.json" && ok || fail "examples/iris/baseline.json is stale"
"$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" --max-sample 50 --seed 7 -o "$T/s1.json" 2>/dev/null
"$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" --max-sample 50 --seed 7 -o "$T/s2.json" 2>/dev/null
"$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" --max-sample 50 --seed 8 -o "$T/s3.json" 2>/dev/null
cmp -s "$T/s1.json" "$T/s2.json" && ok || fail "same input and seed gave different baselines"
cmp -s "$T/s1.json" "$T/s3.json" && fail "another seed gave the same sample" || ok
json_is "$T/s1.json" sample_rows=50 && ok || fail "max-sample 50 not honoured"


# --- every name in the code is in the docs ----------------------------------
D="$SRCDIR/docs"
# documented FILE TEXT WHAT: FILE (under docs/) holds TEXT, a fixed string.
documented() {
    if grep -qF -- "$2" "$D/$1"; then ok; else fail "$3 is not documented in docs/$1 (looked for: $2)"; fi
}
# at_least N FILE WHAT: FILE has N lines or more (a parser found its names).
at_least() {
    if [ "$(grep -c . "$2")" -ge "$1" ]; then ok; else
        fail "found fewer than $1 $3 in the code: has the source moved? update this test"; fi
}

# Endpoints: the routes[] table of the HTTP API ({"/path", R_GET} rows),
# wherever it lives in agent/ (http.c, api.c).
grep -l 'routes\[\] *=' "$SRCDIR"/agent/*.c >"$T/routefiles" 2>/dev/null
at_least 1 "$T/routefiles" "route tables (routes[] in agent/*.c)"
xargs cat <"$T/routefiles" | tr '\n' ' ' | grep -oE '\{ *"/[^"]*", *R_(GET|POST)' |
    sed -E 's/\{ *"([^"]*)", *R_(GET|POST)/\2 \1/' | sort -u >"$T/routes"
at_least 7 "$T/routes" "endpoints"
while read -r method path; do
    documented api.md "\`$method $path\`" "endpoint $method $path"
done <"$T/routes"

# Configuration keys: every row `driftd help config` prints.
grep -oE '^\| `[^`]+`' "$T/ref.md" | sed 's/^| `//; s/`$//' >"$T/keys"
at_least 60 "$T/keys" "configuration keys"
while read -r key; do
    documented configuration.md "| \`$key\` |" "configuration key $key"
done <"$T/keys"

# Metrics: every "driftd_..." name the agent, alerts and lib code writes.
cat "$SRCDIR"/agent/*.c "$SRCDIR"/alerts/*.c "$SRCDIR"/lib/*.c |
    grep -oE '"driftd_[a-z0-9_]+' | tr -d '"' | sort -u >"$T/metrics"
at_least 20 "$T/metrics" "metric names"
while read -r m; do
    documented api.md "| \`$m\` |" "metric $m"
done <"$T/metrics"

# Test names: the table behind stats_test_info (stats/evaluate.c) and the
# list the binary prints for an unknown one, each a row of statistics.md.
grep -oE '\[STATS_[A-Z_]+\] *= *\{ *"[a-z_]+"' "$SRCDIR/stats/evaluate.c" |
    sed -E 's/.*"([a-z_]+)"/\1/' >"$T/tests"
printf '{"drift": {"method": "no-such-test"}}\n' >"$T/badtest.json"
"$DRIFTD" validate --config "$T/badtest.json" 2>&1 | grep 'no-such-test' |
    sed -n 's/.*(\(.*\)).*/\1/p' | tr ',' '\n' | tr -d ' ' | grep -v '^auto$' >>"$T/tests"
sort -u "$T/tests" -o "$T/tests"
at_least 13 "$T/tests" "test names"
while read -r t; do
    documented statistics.md "| \`$t\` |" "test $t"
done <"$T/tests"
documented statistics.md '`auto`' "the auto rule"

# The webhook body: every key webhook_body writes (alerts/), in alerts.md.
sed -n '/^void webhook_body(/,/^}/p' "$SRCDIR"/alerts/*.c | grep -oE '\\"[a-z_]+\\": ' |
    sed -E 's/\\"([a-z_]+)\\": /\1/' | sort -u >"$T/fields"
at_least 15 "$T/fields" "webhook body fields (webhook_body in alerts/)"
while read -r f; do # `f`, `parent.f` or `f.child`
    grep -qE "\`([a-z_]+\.)?$f(\.[a-z_]+)?\`" "$D/alerts.md" && ok ||
        fail "webhook field $f is not documented in docs/alerts.md"
done <"$T/fields"
documented alerts.md '| `id` |' 'the webhook id (for de-duplication)'
documented alerts.md '| `fingerprint` |' 'the webhook fingerprint'

# Template variables of retrain.github.inputs, as the binary lists them.
grep '^| `retrain.github.inputs` |' "$T/ref.md" | grep -oE '\$\{[a-z_]+\}' | sort -u >"$T/vars"
at_least 5 "$T/vars" "template variables"
while read -r v; do
    documented alerts.md "| \`$v\` |" "template variable $v"
done <"$T/vars"

# The man page carries the same facts: driftd(8) has an entry (a .TP
# item) for each endpoint, metric and test name found above, each reason a
# record is rejected, and the webhook's id and fingerprint. An entry, not a
# mention: a test called "z" is a letter found anywhere.
M="$SRCDIR/docs/man/driftd.8"
awk 'prev == ".TP" && /^\.[A-Z]+ / { sub(/^\.[A-Z]+ /, ""); gsub(/"/, ""); print } { prev = $0 }' \
    "$M" >"$T/manlabels"
# in_man KEY WHAT: an entry of driftd(8) begins with KEY (one or two words).
in_man() {
    if cut -d' ' -f1-"$(echo "$1" | wc -w)" "$T/manlabels" | grep -qxF -- "$1"; then ok; else
        fail "$2 has no entry in docs/man/driftd.8 (a .TP item starting with: $1)"; fi
}
while read -r method path; do in_man "$method $path" "endpoint $method $path"; done <"$T/routes"
while read -r m; do in_man "$m" "metric $m"; done <"$T/metrics"
while read -r t; do in_man "$t" "test $t"; done <"$T/tests"
# the reasons a record is rejected: reader_error_name's table (agent/)
sed -n '/^const char \*reader_error_name(/,/^}/p' "$SRCDIR"/agent/*.c | grep -oE '"[a-z_]+"' |
    tr -d '"' | sort -u >"$T/reasons"
at_least 7 "$T/reasons" "rejection reasons (reader_error_name in agent/)"
while read -r r; do in_man "$r" "rejection reason $r"; done <"$T/reasons"
in_man id "the webhook id (for de-duplication)"
in_man fingerprint "the webhook fingerprint"

# Nothing cites the spec files that live outside the repository (a user's
# clone does not have them): interface.md, integrations.md, loop.md, ...
# anywhere, and a bare statistics.md in code where docs/statistics.md is
# meant. agent/ and alerts/ are not checked yet: their comments are being
# moved to docs/ (add them to the list below once they are).
outside='(^|[^a-z/_])(interface|integrations|loop|scale|views)\.md|\.\./shared/|/work/shared/spec'
: >"$T/outside"
for dir in agent alerts stats lib scripts tests docs; do
    grep -rnE "$outside" --include='*.c' --include='*.h' --include='*.py' --include='*.sh' \
        --include='*.md' "$SRCDIR/$dir" >>"$T/outside" 2>/dev/null
    grep -rnE '(^|[^/a-z_])statistics\.md' --include='*.c' --include='*.h' --include='*.py' \
        --include='*.sh' "$SRCDIR/$dir" >>"$T/outside" 2>/dev/null
done
grep -nE "$outside" "$SRCDIR/README.md" >>"$T/outside"
grep -v '/tests/integration/test_docs.sh:' "$T/outside" >"$T/outside2"
if [ -s "$T/outside2" ]; then
    fail "these cite spec files outside the repository (cite docs/ instead):"; cat "$T/outside2" >&2
else ok; fi
finish
