#!/bin/sh
# GET /v1/history (docs/api.md): bounded at history.keep windows across
# 10,000 windows, in memory and in state_dir/history.ndjson (its size and
# the daemon's RSS at 2,000 and 10,000 windows: flat); newest first with
# ?limit=; survives a restart and kill -9 (every line whole, an incomplete
# last line cut off at the next start); GET /v1/report/latest and
# latest.html before and after the first window; history.keep's range.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
need_python "making the data and reading JSON"
trap 'kill "$DAEMON_PID" 2>/dev/null; rm -rf "$T"' EXIT
# ASan holds freed memory in its quarantine (up to 256 MB): without it, RSS
# means what it means in a plain build (as test_reload_leak.sh does).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
ex="$SRCDIR/examples/iris"
"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null || fail "baseline"
# 500 records a body: 100 windows of 5 records each
"$PY" - "$ex/production_clean.csv" "$T/body.csv" <<'P'
import sys
lines = open(sys.argv[1]).read().splitlines()
head, rows = lines[0], lines[1:]
with open(sys.argv[2], "w") as f:
    f.write(head + "\n")
    for i in range(500):
        f.write(rows[i % len(rows)] + "\n")
P
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/st", "listen": "127.0.0.1:0",
 "inputs": [{"type": "http"}],
 "window": {"records": 5, "seconds": 3600, "min_records": 1, "sample": 5},
 "history": {"keep": 2000}}
J
FILE=$T/st/history.ndjson
start_daemon "$T/c.json" || { finish; exit 1; }

# before the first window: 404 with a JSON error, an empty history
http GET /v1/report/latest
expect_code 404 "report before any window"
expect_body_json "error~no window"
http GET /v1/report/latest.html
expect_code 404 "report page before any window"
http GET /v1/history
expect_code 200 "history before any window"
expect_body_json "count=0" "keep=2000"
http GET "/v1/history?limit=0"
expect_code 400 "limit=0"

# posts N: N bodies of 100 windows each
posts() {
    _i=0
    while [ $_i -lt "$1" ]; do
        curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/csv' \
            --data-binary @"$T/body.csv" "$URL/v1/ingest" >"$T/code"
        [ "$(cat "$T/code")" = 202 ] || { fail "ingest: HTTP $(cat "$T/code")"; return 1; }
        _i=$((_i + 1))
    done
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$DAEMON_PID/status"; }
lines() { wc -l <"$FILE" | tr -d ' '; }
evaluated() { status_is "windows_evaluated=$1"; }

t0=$(date +%s)
posts 20
wait_until 20 evaluated 2000 || fail "2,000 windows: $(curl -s "$URL/v1/status" | json_in windows_evaluated)"
rss2=$(rss)
size2=$(stat -c %s "$FILE")
lines2=$(lines)
most=$lines2
i=0
while [ $i -lt 8 ]; do
    posts 10
    n=$(lines)
    [ "$n" -gt "$most" ] && most=$n
    i=$((i + 1))
done
wait_until 20 evaluated 10000 || fail "10,000 windows: $(curl -s "$URL/v1/status" | json_in windows_evaluated)"
t1=$(date +%s)
rss10=$(rss)
size10=$(stat -c %s "$FILE")
lines10=$(lines)
echo "10,000 windows in $((t1 - t0)) s; history.ndjson: $lines2 lines, $size2 bytes at 2,000 windows;" \
    "$lines10 lines, $size10 bytes at 10,000 (at most $most lines seen); RSS ${rss2} kB at 2,000," \
    "${rss10} kB at 10,000"
[ "$most" -le 4000 ] && ok || fail "the file held $most lines, over 2 * history.keep"
[ "$lines10" -ge 2000 ] && [ "$lines10" -le 4000 ] && ok || fail "$lines10 lines at 10,000 windows"
[ "$size10" -le $((size2 * 2 + 4096)) ] && ok || fail "file size not flat: $size2 -> $size10 bytes"
# RSS: flat (the allocator's slack, not 8,000 more windows)
[ "$rss10" -le $((rss2 + rss2 / 5 + 4096)) ] && ok || fail "RSS grew: $rss2 -> $rss10 kB"

http GET /v1/history
expect_code 200 "history"
expect_body_json "count=2000" "keep=2000" "windows[0].id=10000" "windows[99].id=9901" \
    "windows[0].records=5" "windows[0].sampled=5" "windows[0].features[0].name=sepal_length" \
    "windows[0].features[0].test=ks" "windows[0].features[0].p_value>=0" "windows[0].drift=false" \
    "windows[0].share>=0" "windows[0].end~^20"
http GET "/v1/history?limit=3"
expect_body_json "windows[2].id=9998" "count=2000"
expect_body_json "len(windows)=3"
http GET "/v1/history?limit=100000"
"$PY" -c '
import json, sys
w = json.load(open(sys.argv[1]))["windows"]
ids = [x["id"] for x in w]
assert len(ids) == 2000, len(ids)
assert ids == sorted(ids, reverse=True), "not newest first"
assert ids[-1] == 8001, ids[-1]
' "$T/body" && ok || fail "all 2,000 windows newest first"
http GET /v1/report/latest
expect_code 200 "latest report"
expect_body_json "window.id=10000" "dataset.total_features=5"
http GET /v1/report/latest.html
expect_code 200 "latest report page"
expect_body 'Dataset drift: 0 of 5 features'
curl -s -D "$T/hdr" -o /dev/null "$URL/v1/report/latest.html"
grep -qi "^Content-Type: text/html; charset=utf-8" "$T/hdr" &&
    grep -qi "^Content-Security-Policy: default-src 'none'" "$T/hdr" && ok ||
    fail "latest.html headers: $(cat "$T/hdr")"

# kill -9 while windows are being written: every line of the file whole
flood() { # bodies until the daemon is gone
    while curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @"$T/body.csv" \
        "$URL/v1/ingest"; do :; done
}
flood &
poster=$!
sleep 0.5
stop_daemon KILL
wait $poster 2>/dev/null
"$PY" - "$FILE" <<'P' && ok || fail "the file after kill -9"
import json, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n") or data == b"", "torn last line after kill -9"
for n, line in enumerate(data.splitlines(), 1):
    json.loads(line)
P
# a crash mid-append (simulated: an incomplete last line): cut off at the start
last=$(tail -n 1 "$FILE" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
printf '{"id": 999999, "start": "2026-' >>"$FILE"
start_daemon "$T/c.json" || { finish; exit 1; }
http GET "/v1/history?limit=1"
expect_body_json "windows[0].id=$last" "count=2000"
tail -c 1 "$FILE" | od -c | grep -q '\\n' && ok || fail "the incomplete line was not cut off"
grep -q '"id": 999999,' "$FILE" && fail "the incomplete line is still in the file" || ok
# the next window starts on a line of its own (ids jump ahead after a
# crash: the state reserves them, so that none is used twice)
posts 1
newest() { curl -s "$URL/v1/history?limit=1" | json_is - "windows[0].id>$last"; }
wait_until 10 newest || fail "no window after the restart"
"$PY" -c '
import json, sys
for l in open(sys.argv[1]): json.loads(l)
' "$FILE" && ok || fail "a window appended after the cut is not a line of its own"
http GET "/v1/history?limit=100"
expect_body_json "windows[99].id>$last" "windows[0].id>$last" "count=2000"
# after a restart (no window since) the JSON report is the state's; the page has no pictures
stop_daemon
start_daemon "$T/c.json" || { finish; exit 1; }
http GET /v1/report/latest
expect_code 200 "latest report restored from the state"
http GET /v1/report/latest.html
expect_code 404 "report page after a restart"
expect_body_json "error~since the daemon started"
http GET /
expect_code 200 "live page"
expect_body 'driftd live'
# a reload that lowers history.keep applies at once, newest kept
sed 's/"keep": 2000/"keep": 10/' "$T/c.json" >"$T/c10.json" && mv "$T/c10.json" "$T/c.json"
http POST /v1/reload
expect_code 200 "reload with history.keep 10"
http GET "/v1/history?limit=100"
expect_body_json "count=10" "keep=10" "len(windows)=10" "windows[0].id>$last"
stop_daemon

# history.keep: range 10..100000
sed 's/"keep": 10/"keep": 9/' "$T/c.json" >"$T/bad.json"
expect_rc 2 "$DRIFTD" validate --config "$T/bad.json"
expect_err 'history.keep'
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi
finish
