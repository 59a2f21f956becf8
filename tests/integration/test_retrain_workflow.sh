#!/bin/sh
# The shipped retrain workflow (.github/workflows/retrain.yml, docs/alerts.md
# "The retrain workflow"), its steps run here by run_workflow.py: training
# on the training_data input (the default path, and an https URL served on
# loopback), the accuracy gate, `driftd baseline` with the run's labels on
# the same bytes, and ONE artifact ${model}-${correlation_id} holding
# model.joblib, metrics.json and baseline.json at its top. Refused
# training_data values (a path out of the repository, http, a missing file,
# a symbolic link out, a 404) and a model below the gate upload nothing; an
# input cannot become a command.
. "$(dirname "$0")/lib.sh"
need_python "running the workflow's steps"
JSONQ=$(cd "$(dirname "$JSONQ")" && pwd)/jsonq.py
for m in yaml sklearn pandas joblib; do
    "$PY" -c "import $m" 2>/dev/null && ok ||
        fail "$PY lacks the module $m (scripts/install-deps test installs it)"
done
command -v openssl >/dev/null && ok || fail "openssl is needed for the https server"
[ "$failed" -eq 0 ] || { finish; exit 1; }
RUN="$PY $SRCDIR/tests/integration/run_workflow.py"
WF="$SRCDIR/.github/workflows/retrain.yml"
SHA=4f2c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e

# A checkout as the workflow sees it: the example, and driftd where the
# "Build driftd" step (skipped) puts it; `python` is Debian's python3.
ws() {
    rm -rf "$T/ws" "$T/art"
    mkdir -p "$T/ws/examples/iris" "$T/ws/build/agent" "$T/bin"
    cp "$SRCDIR/examples/iris/train.py" "$SRCDIR/examples/iris/train.csv" "$T/ws/examples/iris/"
    ln -sf "$DRIFTD" "$T/ws/build/agent/driftd"
    ln -sf "$PY" "$T/bin/python"
}
# run_wf [--input K=V]...: the workflow, its log in $T/log
run_wf() {
    PATH="$T/bin:$PATH" $RUN "$WF" "$T/ws" "$T/art" --github run_id=9001 --github sha=$SHA \
        --skip "Install training dependencies" --skip "Build driftd" \
        --input model=iris-classifier --input correlation_id=driftd-7-abc123 "$@" >"$T/log" 2>&1
}
ART="$T/art/iris-classifier-driftd-7-abc123.zip"
# unpack: the artifact's members, one a line, sorted, in $T/members; the
# files in $T/unz
unpack() {
    rm -rf "$T/unz"
    "$PY" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2]); print("\n".join(sorted(z.namelist())))' \
        "$ART" "$T/unz" >"$T/members"
}

# --- the default: the repository's training CSV -------------------------------
ws
if run_wf; then ok; else fail "the workflow failed on its defaults"; sed 's/^/  | /' "$T/log" >&2; fi
[ -f "$ART" ] && ok || fail "no artifact iris-classifier-driftd-7-abc123"
[ "$(find "$T/art" -name '*.zip' | wc -l)" -eq 1 ] && ok || fail "more than one artifact"
unpack
printf 'baseline.json\nmetrics.json\nmodel.joblib\n' | cmp -s - "$T/members" && ok ||
    { fail "artifact members are not the three files at its top:"; cat "$T/members" >&2; }
B="$T/unz/baseline.json"
train_sha=$(sha256sum "$SRCDIR/examples/iris/train.csv" | cut -d' ' -f1)
expect_json "$B" provenance.labels.model_version=run-9001 "provenance.labels.git_sha=$SHA" \
    provenance.labels.model=iris-classifier provenance.labels.correlation_id=driftd-7-abc123 \
    provenance.labels.training_data=examples/iris/train.csv "provenance.input.sha256=$train_sha" \
    provenance.input.path=data/train.csv provenance.input.format=csv \
    'provenance.created_at~^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$' rows=150
expect_json "$T/unz/metrics.json" 'accuracy>=0.9' train_rows=112
# the same features as the example baseline made from the same file
[ "$(json "$B" features)" = "$(json "$SRCDIR/examples/iris/baseline.json" features)" ] && ok ||
    fail "the workflow's baseline differs from examples/iris/baseline.json in its features"
expect_rc 0 "$DRIFTD" check -b "$B" -i "$SRCDIR/examples/iris/production_clean.csv"
expect_rc 1 "$DRIFTD" check -b "$B" -i "$SRCDIR/examples/iris/production_drift.csv"
grep -q 'baseline sha256' "$T/art/step-summary.md" && ok || fail "no step summary"

# the data already where the workflow puts it: used in place
ws
mkdir -p "$T/ws/data"
cp "$SRCDIR/examples/iris/train.csv" "$T/ws/data/train.csv"
if run_wf --input training_data=data/train.csv; then ok; else
    fail "training_data=data/train.csv failed"; sed 's/^/  | /' "$T/log" >&2; fi
unpack
expect_json "$B" "provenance.input.sha256=$train_sha" provenance.labels.training_data=data/train.csv

# --- an https URL (loopback, a CA of the test's own): the drifted data -----------
mkdir -p "$T/www"
cp "$SRCDIR/examples/iris/production_drift.csv" "$T/www/drifted.csv"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
cat >"$T/serve.py" <<'EOF'
import http.server, ssl, sys, functools
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
with open(sys.argv[4] + ".tmp", "w") as f:
    f.write(str(httpd.server_address[1]))
import os; os.rename(sys.argv[4] + ".tmp", sys.argv[4])
httpd.serve_forever()
EOF
"$PY" "$T/serve.py" "$T/www" "$T/cert.pem" "$T/key.pem" "$T/port" 2>"$T/serve.log" &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
wait_until 10 test -s "$T/port" || fail "the https server did not start"
URL="https://127.0.0.1:$(cat "$T/port")/drifted.csv"
ws
if CURL_CA_BUNDLE="$T/cert.pem" run_wf --input "training_data=$URL?sig=SECRET#x"; then ok; else
    fail "the workflow failed on an https URL"; sed 's/^/  | /' "$T/log" >&2; fi
unpack
drift_sha=$(sha256sum "$T/www/drifted.csv" | cut -d' ' -f1)
expect_json "$B" "provenance.input.sha256=$drift_sha" "provenance.labels.training_data=$URL" rows=300
grep -q SECRET "$B" && fail "a URL's query reached the baseline" || ok
# the baseline of the drifted data: the drifted traffic is now clean
expect_rc 0 "$DRIFTD" check -b "$B" -i "$SRCDIR/examples/iris/production_drift.csv"

# --- refused: nothing is uploaded, the step says why --------------------------------
# refused VALUE STEP PATTERN: training_data=VALUE fails at STEP, its log
# matching PATTERN, and no artifact is made
refused() {
    ws
    ln -s /etc/hostname "$T/ws/outside.csv"
    if run_wf --input "training_data=$1"; then fail "training_data=$1 was accepted"; return; fi
    grep -qx "FAILED: $2" "$T/log" && grep -Eq -- "$3" "$T/log" && ok ||
        { fail "training_data=$1: want a failure at \"$2\" saying /$3/"; sed 's/^/  | /' "$T/log" >&2; }
    [ ! -e "$ART" ] && ok || fail "training_data=$1: an artifact was uploaded"
}
refused ../../etc/hostname "Training data" "expected a path inside the repository"
refused /etc/hostname "Training data" "expected a path inside the repository"
refused examples/../../x.csv "Training data" "expected a path inside the repository"
refused "" "Training data" "expected a path inside the repository"
refused outside.csv "Training data" "leads out of the repository"
refused examples/iris "Training data" "is not a file"
refused no/such.csv "Training data" "is not in the repository"
refused "http://127.0.0.1:$(cat "$T/port")/drifted.csv" "Training data" "only https:// URLs"
refused "file:///etc/hostname" "Training data" "only https:// URLs"
CURL_CA_BUNDLE="$T/cert.pem" refused "https://127.0.0.1:$(cat "$T/port")/nothere.csv" "Training data" "404"
# an input is data, never a command
refused 'x.csv"; touch "$GITHUB_WORKSPACE/pwned' "Training data" "is not in the repository"
[ ! -e "$T/ws/pwned" ] && ok || fail "an input ran as a command"
ws
run_wf --input 'model=m$(touch pwned)' >/dev/null 2>&1
[ ! -e "$T/ws/pwned" ] && ok || fail "the model input ran as a command"

# the accuracy gate: labels shuffled, the model is no better than chance
ws
"$PY" -c '
import csv, random, sys
rows = list(csv.reader(open(sys.argv[1])))
labels = [r[-1] for r in rows[1:]]
random.Random(5).shuffle(labels)
w = csv.writer(open(sys.argv[2], "w", newline=""))
w.writerow(rows[0])
for r, l in zip(rows[1:], labels):
    w.writerow(r[:-1] + [l])
' "$SRCDIR/examples/iris/train.csv" "$T/ws/noise.csv"
if run_wf --input training_data=noise.csv; then fail "a model below the gate passed"; fi
grep -qx "FAILED: Accuracy gate" "$T/log" && ok || { fail "no failure at the gate"; cat "$T/log" >&2; }
[ ! -e "$ART" ] && ok || fail "a model below the gate was uploaded"

# an input the workflow does not declare is refused, as GitHub answers 422
ws
run_wf --input nope=1 && fail "an undeclared input was accepted" || ok
grep -q "Unexpected inputs provided" "$T/log" && ok || fail "undeclared input: no 422-like message"
kill $srv 2>/dev/null
finish
