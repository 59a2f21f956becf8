#!/bin/sh
# The HTML report, `driftd check --html FILE` (issue 14 item 1), loaded in
# headless Chromium: a 25-feature data set of which 7 drift, two feature
# names and some categories holding HTML metacharacters (one a script that
# would log a console error if it ran). Checked: the DOM after loading
# (one row and one chart per feature, drifted first, the JSON's numbers,
# the verdict sentence; html_check.py dom), no request from the page
# (Chromium's network log, every host name unresolvable besides), no
# console message, A4 pages when printed, `tidy -e -q` clean. The checks
# are shown to fail on a control page that loads an image and logs an
# error. The screenshot and the PDF stay in $BUILDDIR/test-output/.
# Exit 77 (skip) only when Chromium is missing or cannot start.
. "$(dirname "$0")/lib.sh"
need_python "generating the data and reading the DOM"
here=$(dirname "$0")
out=${BUILDDIR:-$T}/test-output
mkdir -p "$out"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium is not installed (scripts/install-deps test installs it)"
    exit 77
fi
# chrome ARGS...: headless, offline (no host name resolves), no background
# traffic of the browser's own, console messages logged on stderr.
chrome() {
    timeout 120 "$CHROMIUM" --headless --disable-gpu --no-sandbox --hide-scrollbars \
        --user-data-dir="$T/profile" --no-first-run --no-default-browser-check \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --host-resolver-rules="MAP * ~NOTFOUND" \
        --enable-logging=stderr --v=0 "$@"
}
printf '<!DOCTYPE html><html><head><title>probe</title></head><body><p id="probe">ok</p></body></html>\n' >"$T/probe.html"
if ! chrome --dump-dom "file://$T/probe.html" >"$T/probe.dom" 2>"$T/probe.err" ||
    ! grep -q 'id="probe"' "$T/probe.dom"; then
    echo "SKIP: Chromium cannot start here: $(grep -v dbus "$T/probe.err" | tail -n 3)"
    exit 77
fi

# --- the report -------------------------------------------------------------
"$PY" "$here/html_data.py" "$T" 1000
"$DRIFTD" baseline -i "$T/ref.csv" -o "$T/base.json" 2>/dev/null
expect_rc 0 "$DRIFTD" check -b "$T/base.json" -i "$T/cur.csv" --json --output "$T/report.json" \
    --html "$T/report.html"
cp "$T/report.html" "$out/html-report.html"
if [ -s "$T/report.html" ] && cmp -s "$T/out" "$T/report.json"; then ok; else
    fail "--html with --json and --output: the JSON on stdout and in the file differ"; fi
# the same numbers as a run without --html (only the time may differ)
"$DRIFTD" check -b "$T/base.json" -i "$T/cur.csv" --json >"$T/plain.json"
if diff "$T/plain.json" "$T/report.json" | grep '^[<>]' | grep -qv generated_at; then
    fail "--html changed the JSON report"; else ok; fi
expect_rc 2 "$DRIFTD" check -b "$T/base.json" -i "$T/cur.csv" --html -
expect_err 'a file name'
# a page that cannot be written is an error naming it, not a silent loss
expect_rc 2 "$DRIFTD" check -b "$T/base.json" -i "$T/cur.csv" --html "$T/no/such/dir/r.html"
expect_err "$T/no/such/dir/r.html"

# hostile names: never markup in the file
if grep -qi '<script' "$T/report.html"; then fail "a <script> in the page"; else ok; fi
if grep -q '&lt;script&gt;console.error(&quot;escaped? no&quot;)&lt;/script&gt;' "$T/report.html" &&
    grep -q 'a&quot;b&#39;c&amp;d&lt;e&gt;' "$T/report.html"; then ok; else
    fail "the hostile feature names are not in the page, escaped"; fi

# --- tidy ---------------------------------------------------------------------
if command -v tidy >/dev/null 2>&1; then
    if tidy -e -q "$T/report.html" >"$T/tidy.out" 2>&1; then ok; else
        fail "tidy -e -q: $(head -n 5 "$T/tidy.out")"; fi
else
    fail "tidy is not installed (scripts/install-deps test installs it)"
fi

# --- Chromium: DOM, network, console, screenshot, print ----------------------
chrome --virtual-time-budget=5000 --log-net-log="$T/net.json" \
    --dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/chrome.err"
if "$PY" "$here/html_check.py" dom "$T/report.json" "$T/dom.html" >"$T/check.out" 2>&1; then ok; else
    fail "DOM: $(cat "$T/check.out")"; fi
cat "$T/check.out"
if "$PY" "$here/html_check.py" net "$T/net.json" >"$T/net.out" 2>&1; then ok; else
    fail "network: $(cat "$T/net.out")"; fi
if grep -q 'CONSOLE' "$T/chrome.err"; then
    fail "console messages: $(grep CONSOLE "$T/chrome.err" | head -n 5)"; else ok; fi
rm -f "$out/html-report.png"
chrome --window-size=1280,2000 --screenshot="$out/html-report.png" \
    "file://$T/report.html" >/dev/null 2>&1
if [ -s "$out/html-report.png" ] && head -c 8 "$out/html-report.png" | grep -q PNG; then ok; else
    fail "no screenshot"; fi
rm -f "$out/html-report.pdf"
chrome --no-pdf-header-footer --print-to-pdf="$out/html-report.pdf" \
    "file://$T/report.html" >/dev/null 2>&1
if "$PY" "$here/html_check.py" pdf "$out/html-report.pdf" >"$T/pdf.out" 2>&1; then ok; else
    fail "print: $(cat "$T/pdf.out")"; fi
cat "$T/pdf.out"
echo "screenshot: $out/html-report.png, print: $out/html-report.pdf"

# --- the checks can fail: a page that loads an image and logs an error ------
printf '<!DOCTYPE html><html><head><title>control</title></head><body><img src="http://127.0.0.1:9/x.png" alt=""><script>console.error("control")</script></body></html>\n' >"$T/control.html"
chrome --virtual-time-budget=3000 --log-net-log="$T/cnet.json" \
    --dump-dom "file://$T/control.html" >"$T/cdom.html" 2>"$T/cchrome.err"
if "$PY" "$here/html_check.py" net "$T/cnet.json" >/dev/null 2>&1; then
    fail "the network check missed the control page's image"; else ok; fi
if grep -q 'CONSOLE.*control' "$T/cchrome.err"; then ok; else
    fail "the console check missed the control page's error"; fi
if "$PY" "$here/html_check.py" dom "$T/report.json" "$T/cdom.html" >/dev/null 2>&1; then
    fail "the DOM check passed the control page"; else ok; fi
# ... and the report's DOM with its first drifted row said not to drift
sed '0,/data-drift="true"/{s/class="feat drift" data-drift="true"/class="feat ok" data-drift="false"/}' \
    "$T/dom.html" >"$T/mdom.html"
if cmp -s "$T/dom.html" "$T/mdom.html"; then fail "the DOM has no drifted row to change"
elif "$PY" "$here/html_check.py" dom "$T/report.json" "$T/mdom.html" >/dev/null 2>&1; then
    fail "the DOM check passed a row whose drift flag differs from the JSON's"; else ok; fi

finish
