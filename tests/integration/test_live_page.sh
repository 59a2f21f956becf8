#!/bin/sh
# The live page, GET / on the daemon (issue 14 item 2), loaded in headless
# Chromium from a daemon that fired, dispatched, adopted the run's
# baseline and resolved (the closed loop against mock_github.py, mode
# on_success, as in test_loop.sh). Checked: tidy -e -q; the DOM after the
# page's script ran (html_check.py live: one summary row and one chart per
# feature, drifted first, the JSON report's numbers, the verdict, one
# heatmap row per feature, the share chart and its threshold, the status
# tiles, the timeline's fired, dispatched, run_completed, baseline_adopted
# and resolved entries, the script's refresh from the daemon); no request
# but to the daemon (network log); no console message; the page without
# JavaScript holds the same parts. The checks are shown to fail. The
# screenshot stays in $BUILDDIR/test-output/live-page.png.
# Exit 77 (skip) only when Chromium is missing or cannot start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
here=$(cd "$(dirname "$0")" && pwd)
ex="$SRCDIR/examples/iris"
need_python "the mock GitHub API and reading the DOM"
GH_PID=
trap 'for p in $DAEMON_PID $GH_PID; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
out=${BUILDDIR:-$T}/test-output
mkdir -p "$out"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium is not installed (scripts/install-deps test installs it)"
    exit 77
fi
chrome() {
    timeout 120 "$CHROMIUM" --headless --disable-gpu --no-sandbox --hide-scrollbars \
        --user-data-dir="$T/profile" --no-first-run --no-default-browser-check \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions \
        --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
        --enable-logging=stderr --v=0 "$@"
}
printf '<!DOCTYPE html><html><head><title>probe</title></head><body><p id="probe">ok</p></body></html>\n' >"$T/probe.html"
if ! chrome --dump-dom "file://$T/probe.html" >"$T/probe.dom" 2>"$T/probe.err" ||
    ! grep -q 'id="probe"' "$T/probe.dom"; then
    echo "SKIP: Chromium cannot start here: $(grep -v dbus "$T/probe.err" | tail -n 3)"
    exit 77
fi

# --- a daemon that fired, dispatched, adopted and resolved -------------------
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null || fail "baseline"
"$DRIFTD" baseline -i "$ex/production_drift.csv" -o "$T/new.json" --label model_version=run-7 \
    2>/dev/null || fail "new baseline"
"$PY" - "$T/good.zip" "$T/new.json" <<'P'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[2], "baseline.json")
P
printf 'TOKEN-live-test\n' >"$T/gh-token"
"$PY" "$here/mock_github.py" --port-file "$T/gh.port" --storage-port-file "$T/st.port" \
    --log "$T/gh.log" --token-file "$T/gh-token" --ref main --artifact-zip "$T/good.zip" &
GH_PID=$!
wait_until 10 test -s "$T/gh.port" || { fail "mock GitHub did not start"; finish; exit 1; }
GH_URL="http://127.0.0.1:$(cat "$T/gh.port")"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/st", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 5000},
 "alerts": {"sinks": [{"type": "log"}]},
 "retrain": {"github": {"api_url": "$GH_URL", "repository": "owner/repo",
                        "workflow": "retrain.yml", "ref": "main", "token_file": "$T/gh-token"},
             "consecutive": 1, "cooldown_seconds": 86400, "follow_seconds": 1,
             "adopt": {"mode": "on_success"}}}
J
start_daemon "$T/c.json" || { finish; exit 1; }
window() { # window FILE WANT_DRIFT: one window of FILE's records
    http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$1"
    expect_code 202 "ingest $(basename "$1")"
    http POST /v1/evaluate
    expect_code 200 "evaluate $(basename "$1")"
    expect_body_json "dataset.drift=$2"
}
window "$ex/production_clean.csv" false
window "$ex/production_drift.csv" true
wait_until 15 status_is retrain.run.adoption.status=staged && ok ||
    fail "the run's baseline was not staged: $(curl -s "$URL/v1/status" | json_in retrain.run)"
window "$ex/production_drift.csv" true # the boundary: adopted after it
wait_until 10 status_is retrain.run.adoption.status=adopted && ok || fail "not adopted"
window "$ex/production_drift.csv" false # clean against the adopted baseline: resolved

# --- the page as the server renders it ----------------------------------------
http GET /
expect_code 200 "GET /"
cp "$T/body" "$T/page.html"
cp "$T/page.html" "$out/live-page.html"
curl -s -D "$T/hdr" -o /dev/null "$URL/"
grep -qi "^Content-Type: text/html; charset=utf-8" "$T/hdr" && ok || fail "Content-Type of /"
grep -i "^Content-Security-Policy:" "$T/hdr" | grep -q "default-src 'none'.*script-src 'sha256-" &&
    ok || fail "CSP of /: $(grep -i security "$T/hdr")"
if command -v tidy >/dev/null 2>&1; then
    if tidy -e -q "$T/page.html" >"$T/tidy.out" 2>&1; then ok; else
        fail "tidy -e -q: $(head -n 5 "$T/tidy.out")"; fi
else
    fail "tidy is not installed (scripts/install-deps test installs it)"
fi
curl -s "$URL/v1/report/latest" >"$T/report.json"
expect_json "$T/report.json" "dataset.drift=false" "dataset.total_features=5"
KINDS=fired,dispatched,run_completed,baseline_adopted,resolved
# the runs the timeline links to (the mock names them as GitHub does; links, not requests)
RUNS=https://github.com/owner/repo/actions/runs/
# without JavaScript: the server's page has every part already (the
# refresh count aside, which only the script sets)
"$PY" "$here/html_check.py" live "$T/report.json" "$T/page.html" "$KINDS" "$RUNS" \
    >"$T/nojs.out" 2>&1
if grep -v "data-refreshes" "$T/nojs.out" | grep -q '^FAIL'; then
    fail "the page without JavaScript: $(grep FAIL "$T/nojs.out")"; else ok; fi

# --- Chromium: DOM after the script, network, console, screenshot -----------
chrome --virtual-time-budget=12000 --log-net-log="$T/net.json" \
    --dump-dom "$URL/" >"$T/dom.html" 2>"$T/chrome.err"
if "$PY" "$here/html_check.py" live "$T/report.json" "$T/dom.html" "$KINDS" "$RUNS" \
    >"$T/check.out" 2>&1; then ok; else fail "DOM: $(cat "$T/check.out")"; fi
cat "$T/check.out"
if "$PY" "$here/html_check.py" net "$T/net.json" "$URL" >"$T/net.out" 2>&1; then ok; else
    fail "network: $(cat "$T/net.out")"; fi
cat "$T/net.out"
if grep -q 'CONSOLE' "$T/chrome.err"; then
    fail "console messages: $(grep CONSOLE "$T/chrome.err" | head -n 5)"; else ok; fi
rm -f "$out/live-page.png"
chrome --window-size=1280,2400 --screenshot="$out/live-page.png" "$URL/" >/dev/null 2>&1
if [ -s "$out/live-page.png" ] && head -c 8 "$out/live-page.png" | grep -q PNG; then ok; else
    fail "no screenshot"; fi
echo "screenshot: $out/live-page.png"

# --- the checks can fail --------------------------------------------------------
if "$PY" "$here/html_check.py" live "$T/report.json" "$T/dom.html" "$KINDS,baseline_rolled_back" \
    "$GH_URL" >/dev/null 2>&1; then fail "the timeline check passed a missing event"; else ok; fi
if "$PY" "$here/html_check.py" live "$T/report.json" "$T/page.html" "$KINDS" "$RUNS" \
    >/dev/null 2>&1; then fail "the refresh check passed a page no script ran on"; else ok; fi
if "$PY" "$here/html_check.py" net "$T/net.json" "http://127.0.0.1:9" >/dev/null 2>&1; then
    fail "the network check passed requests to another origin"; else ok; fi
sed 's/<g class="hrow[^"]*" data-name="petal_length"/<g data-name="petal_length"/' "$T/dom.html" >"$T/mdom.html"
if cmp -s "$T/dom.html" "$T/mdom.html"; then fail "no heatmap row to remove"
elif "$PY" "$here/html_check.py" live "$T/report.json" "$T/mdom.html" "$KINDS" "$RUNS" \
    >/dev/null 2>&1; then fail "the heatmap check passed a missing row"; else ok; fi
stop_daemon
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi
finish
