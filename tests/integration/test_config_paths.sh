#!/bin/sh
# Relative paths in a configuration resolve from the configuration file's
# directory, not from the directory driftd is started in (issue 13, item 9):
# `validate` and `run` started elsewhere, with the configuration named by an
# absolute or a relative path, find the baseline, the state_dir, the tailed
# file and the token file beside the configuration; a reload resolves the
# same way; `validate` and the errors show the resolved paths; absolute
# paths are used as written; a relative secret file is taken from
# $CREDENTIALS_DIRECTORY first (systemd LoadCredential), then from the
# configuration's directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
trap '[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null; rm -rf "$T"' EXIT

case $DRIFTD in /*) ;; *) DRIFTD=$(pwd)/$DRIFTD ;; esac
conf=$T/conf
away=$T/away
mkdir -p "$conf/models" "$conf/data" "$away" "$T/creds" "$T/abs"
expect_rc 0 "$DRIFTD" baseline -i "$SRCDIR/examples/iris/train.csv" -o "$conf/models/base.json"
cp "$conf/models/base.json" "$conf/models/base2.json"
cp "$conf/models/base.json" "$T/abs/base.json"
head -n 21 "$SRCDIR/examples/iris/train.csv" >"$conf/data/in.csv" # a header and 20 records
(umask 077 && printf 'token-beside-the-config\n' >"$conf/ingest-token")

# cfg BASELINE: the configuration, every path in it relative.
cfg() {
    cat <<EOF
{"model": "iris", "baseline": "$1", "state_dir": "state", "listen": "127.0.0.1:0",
 "auth": {"token_file": "ingest-token"},
 "inputs": [{"type": "http"}, {"type": "tail", "path": "./data/in.csv", "start": "beginning"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 1, "sample": 1000}}
EOF
}
cfg models/base.json >"$conf/driftd.json"

# in_away CMD...: expect_rc's job, run in $away.
in_away() { (cd "$away" && "$@") >"$T/out" 2>"$T/err"; rc=$?; }

# --- validate from another directory ------------------------------------------
in_away "$DRIFTD" validate --config "$conf/driftd.json"
if [ "$rc" -eq 0 ]; then ok; else fail "validate from another directory: exit $rc"; cat "$T/err" >&2; fi
expect_out "ok \\(baseline $conf/models/base\\.json\\)$"
# the configuration named relatively: the same resolved paths
in_away "$DRIFTD" validate --config ../conf/driftd.json
if [ "$rc" -eq 0 ]; then ok; else fail "validate --config ../conf/driftd.json: exit $rc"; cat "$T/err" >&2; fi
expect_out "^\\.\\./conf/driftd\\.json: ok \\(baseline $conf/models/base\\.json\\)$"

# an absolute path is used as written
sed "s|\"models/base.json\"|\"$T/abs/base.json\"|" "$conf/driftd.json" >"$conf/abs.json"
in_away "$DRIFTD" validate --config "$conf/abs.json"
expect_out "ok \\(baseline $T/abs/base\\.json\\)$"

# errors name the resolved path: a relative baseline that is not there, a
# token file that is not there
cfg models/nope.json | sed 's/"ingest-token"/"no-token"/' >"$conf/bad.json"
in_away "$DRIFTD" validate --config ../conf/bad.json
if [ "$rc" -eq 2 ]; then ok; else fail "validate bad.json: exit $rc, want 2"; fi
expect_err "bad\\.json: baseline: cannot read \"models/nope\\.json\" \\(relative to $conf\\): No such file or directory; \`driftd baseline -i TRAINING_DATA -o $conf/models/nope\\.json\` writes it"
expect_err "bad\\.json: auth\\.token_file: cannot read $conf/no-token: No such file or directory"

# --- run from another directory -----------------------------------------------
# start_away CONFIG: `driftd run --config CONFIG` started in $away; CONFIG's
# state_dir is $conf/state. Sets DAEMON_PID, URL (daemon.sh).
start_away() {
    rm -f "$conf/state/listen"
    (cd "$away" && exec "$DRIFTD" run --config "$1") >>"$T/daemon.log" 2>&1 &
    DAEMON_PID=$!
    if wait_until 10 test -s "$conf/state/listen"; then ok; else
        fail "run --config $1 from $away: no $conf/state/listen"; cat "$T/daemon.log" >&2
        return 1
    fi
    URL="http://$(cat "$conf/state/listen")"
}

if start_away ../conf/driftd.json; then
    if [ ! -e "$away/state" ]; then ok; else fail "state_dir made in the current directory"; fi
    http GET /v1/status
    expect_body_json "baseline.path=$conf/models/base.json"
    # the tailed file beside the configuration is read
    if wait_until 10 status_is "inputs[path=$conf/data/in.csv].records=20"; then ok; else
        fail "tail of $conf/data/in.csv: 20 records not read"; head -c 800 "$T/body" >&2; fi
    # the token file beside the configuration guards the POSTs
    printf 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n' >"$T/rec.csv"
    http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$T/rec.csv"
    expect_code 401 "ingest without the token"
    http POST /v1/ingest -H 'Content-Type: text/csv' -H 'Authorization: Bearer token-beside-the-config' \
        --data-binary @"$T/rec.csv"
    expect_code 202 "ingest with the token of $conf/ingest-token"

    # a reload resolves from the same directory
    cfg models/base2.json >"$conf/driftd.json"
    http POST /v1/reload -H 'Authorization: Bearer token-beside-the-config'
    expect_code 200 "reload with a relative baseline"
    http GET /v1/status
    expect_body_json "baseline.path=$conf/models/base2.json"
    cfg models/gone.json >"$conf/driftd.json"
    http POST /v1/reload -H 'Authorization: Bearer token-beside-the-config'
    expect_code 400 "reload with a relative baseline that is not there"
    expect_body_json "errors[0]~baseline: cannot read \"models/gone\\.json\" \\(relative to $conf\\)"
    # the restart-only paths (state_dir, inputs[].path) resolve as before:
    # no "takes effect at the next restart" for an unchanged file
    if grep -q 'changed; it takes effect at the next restart' "$T/daemon.log"; then
        fail "a reload took an unchanged relative path for a change"; grep 'reload:' "$T/daemon.log" >&2
    else ok; fi
    cfg models/base.json >"$conf/driftd.json"
    stop_daemon
fi

# stopped cleanly: exit 0, no sanitizer report (an ASan build)
stopped_clean() {
    if [ "${DAEMON_RC:-1}" -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error' "$T/daemon.log"; then ok; else
        fail "$1: exit ${DAEMON_RC:-?}"; tail -20 "$T/daemon.log" >&2; fi
}
stopped_clean "run from another directory"

# --- $CREDENTIALS_DIRECTORY first ---------------------------------------------
# systemd names each file of LoadCredential=driftd:DIR driftd_NAME
(umask 077 && printf 'token-from-the-credentials\n' >"$T/creds/driftd_ingest-token")
export CREDENTIALS_DIRECTORY="$T/creds"
if start_away "$conf/driftd.json"; then
    http POST /v1/ingest -H 'Content-Type: text/csv' -H 'Authorization: Bearer token-beside-the-config' \
        --data-binary @"$T/rec.csv"
    expect_code 401 "ingest with the configuration directory's token when a credential exists"
    http POST /v1/ingest -H 'Content-Type: text/csv' -H 'Authorization: Bearer token-from-the-credentials' \
        --data-binary @"$T/rec.csv"
    expect_code 202 "ingest with the credential's token"
    stop_daemon
    stopped_clean "run with CREDENTIALS_DIRECTORY"
fi
# a credential the directory lacks comes from beside the configuration
rm "$T/creds/driftd_ingest-token"
in_away "$DRIFTD" validate --config ../conf/driftd.json
if [ "$rc" -eq 0 ]; then ok; else fail "validate with an empty CREDENTIALS_DIRECTORY: exit $rc"; cat "$T/err" >&2; fi
unset CREDENTIALS_DIRECTORY

finish
