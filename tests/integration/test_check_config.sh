#!/bin/sh
# The CLI side of issue 13, item 9: `check --config` takes the baseline from
# the configuration when --baseline is absent (the daemon's baseline and
# tests, one option), and `validate` fails when retrain.github has no token
# and retrain.dry_run is false, instead of `run` only warning and every
# dispatch failing later.
. "$(dirname "$0")/lib.sh"
ex="$SRCDIR/examples/iris"

# same_report A B: the verdicts of two JSON reports are the same (the
# dataset and every feature; not when or from which path they were made).
same_report() {
    json "$1" dataset features >"$T/a.cmp" && json "$2" dataset features >"$T/b.cmp" &&
        cmp -s "$T/a.cmp" "$T/b.cmp"
}
unset DRIFTD_GITHUB_TOKEN

mkdir "$T/cfg" "$T/other"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/cfg/base.json" 2>/dev/null

# --- check --config without --baseline ------------------------------------
# The configuration's baseline and its drift section (psi everywhere).
printf '{"baseline": "%s", "drift": {"method": "psi"}}\n' "$T/cfg/base.json" >"$T/cfg/abs.json"
expect_rc 1 "$DRIFTD" check --config "$T/cfg/abs.json" --input "$ex/production_drift.csv" --json
cp "$T/out" "$T/abs.report"
expect_json "$T/abs.report" 'dataset.drift=true' 'features[name=petal_length].test=psi' \
    'len(features)=5'
# ... the same report as with the baseline given on the command line.
expect_rc 1 "$DRIFTD" check --baseline "$T/cfg/base.json" --config "$T/cfg/abs.json" \
    --input "$ex/production_drift.csv" --json
if same_report "$T/out" "$T/abs.report"; then ok; else
    fail "check --config alone and with --baseline give different reports"; fi
# The table too, and a clean sample: exit 0.
expect_rc 0 "$DRIFTD" check -c "$T/cfg/abs.json" -i "$ex/production_clean.csv"
expect_out '^petal_length +numerical +psi '
# A relative baseline, run from the configuration's directory.
printf '{"baseline": "base.json"}\n' >"$T/cfg/rel.json"
(cd "$T/cfg" && exec "$DRIFTD" check -c rel.json -i "$ex/production_clean.csv" --json) \
    >"$T/rel.report" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ]; then ok; else fail "check -c rel.json: exit $rc, want 0: $(cat "$T/err")"; fi
expect_json "$T/rel.report" 'dataset.drift=false' 'features[name=species].kind=categorical'
# ... and from elsewhere: relative to the configuration's directory, as
# run and validate read it.
(cd "$T/other" && exec "$DRIFTD" check -c ../cfg/rel.json -i "$ex/production_clean.csv" --json) \
    >"$T/rel2.report" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ]; then ok; else fail "check -c ../cfg/rel.json: exit $rc, want 0: $(cat "$T/err")"; fi
if same_report "$T/rel.report" "$T/rel2.report"; then ok; else
    fail "check --config from another directory gives another report"; fi

# --baseline wins over the configuration's (which need not exist then).
printf '{"baseline": "%s/nothere.json", "drift": {"method": "psi"}}\n' "$T" >"$T/cfg/gone.json"
expect_rc 1 "$DRIFTD" check -b "$T/cfg/base.json" -c "$T/cfg/gone.json" -i "$ex/production_drift.csv"
expect_out '^petal_length +numerical +psi '
# Without --baseline, a baseline that cannot be read names the key and the
# configuration; a configuration without one says it is missing.
expect_rc 2 "$DRIFTD" check -c "$T/cfg/gone.json" -i "$ex/production_drift.csv"
expect_err 'gone\.json: baseline: cannot read ".*nothere\.json"'
expect_no_crash "check --config with a missing baseline"
printf '{"drift": {"method": "psi"}}\n' >"$T/cfg/none.json"
expect_rc 2 "$DRIFTD" check -c "$T/cfg/none.json" -i "$ex/production_drift.csv"
expect_err 'none\.json: baseline: missing'
# A bad configuration is reported once, with its key.
printf '{"baseline": "%s", "drift": {"methd": "psi"}}\n' "$T/cfg/base.json" >"$T/cfg/typo.json"
expect_rc 2 "$DRIFTD" check -c "$T/cfg/typo.json" -i "$ex/production_drift.csv"
expect_err 'typo\.json:1:[0-9]+: drift\.methd: unknown key'
n=$(grep -c 'drift\.methd' "$T/err")
if [ "$n" -eq 1 ]; then ok; else fail "the unknown key is reported $n times, want once"; fi
# Neither --baseline nor --config: a usage error naming both.
expect_rc 2 "$DRIFTD" check -i "$ex/production_drift.csv"
expect_err '--baseline and --input are required \(or --config instead of --baseline'
expect_rc 2 "$DRIFTD" check -c "$T/cfg/abs.json"
expect_err '--input are required'
# The help says so.
expect_rc 0 "$DRIFTD" check --help
expect_out '^       driftd check --config FILE --input FILE'

# --- validate: a GitHub retrain needs a token unless dry_run -------------
gh() { # gh NAME GITHUB-EXTRA RETRAIN-EXTRA
    printf '{"baseline": "%s", "retrain": {"github": {"repository": "o/r", "workflow": "retrain.yml"%s}%s}}\n' \
        "$T/cfg/base.json" "$2" "$3" >"$T/cfg/$1.json"
}
gh notoken '' ''
expect_rc 2 "$DRIFTD" validate --config "$T/cfg/notoken.json"
expect_err 'notoken\.json: retrain\.github: no GitHub token: set retrain\.github\.token_file, or \$DRIFTD_GITHUB_TOKEN'
expect_err 'notoken\.json: 1 error$'
if grep -q ': ok' "$T/out"; then fail "validate printed ok without a token"; else ok; fi
# explicitly not a dry run: the same
gh notoken2 '' ', "dry_run": false'
expect_rc 2 "$DRIFTD" validate --config "$T/cfg/notoken2.json"
expect_err 'retrain\.github: no GitHub token'
# The token from the environment, as `run` reads it; an empty one is none.
expect_rc 0 env DRIFTD_GITHUB_TOKEN=ghp_test "$DRIFTD" validate --config "$T/cfg/notoken.json"
expect_out 'notoken\.json: ok'
expect_rc 2 env DRIFTD_GITHUB_TOKEN= "$DRIFTD" validate --config "$T/cfg/notoken.json"
# A dry run sends nothing: no token needed.
gh dry '' ', "dry_run": true'
expect_rc 0 "$DRIFTD" validate --config "$T/cfg/dry.json"
# From token_file: readable is valid; missing is an error naming that key.
printf 'ghp_file\n' >"$T/cfg/token"
chmod 600 "$T/cfg/token"
gh tokfile ", \"token_file\": \"$T/cfg/token\"" ''
expect_rc 0 "$DRIFTD" validate --config "$T/cfg/tokfile.json"
gh tokgone ", \"token_file\": \"$T/cfg/nothere\"" ''
expect_rc 2 "$DRIFTD" validate --config "$T/cfg/tokgone.json"
expect_err 'retrain\.github\.token_file: cannot read'
if grep -q 'no GitHub token' "$T/err"; then fail "a missing token_file reported twice"; else ok; fi
# No retrain.github: nothing to say about tokens.
printf '{"baseline": "%s", "retrain": {"consecutive": 3}}\n' "$T/cfg/base.json" >"$T/cfg/nogh.json"
expect_rc 0 "$DRIFTD" validate --config "$T/cfg/nogh.json"

finish
