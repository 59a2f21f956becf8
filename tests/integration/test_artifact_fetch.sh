#!/bin/sh
# The fetch of a retraining run's baseline artifact (docs/integrations.md,
# "The run's baseline artifact"), GitHub's side of the adoption loop,
# driven through alerts/github.c by the artifact_fetch helper against
# mock_github.py, whose 302 points to a second loopback server standing
# in for the storage host (any Authorization header there is an error the
# mock records). Zips are made here with Python's zipfile.
#  1. dispatch -> queued -> in_progress -> completed/success seen through
#     the run hook; the member fetched is the zip's baseline.json byte for
#     byte; the digest matched; GitHub's headers went to the API and none
#     of them to the storage host.
#  2. a run that concludes "failure" is not fetched.
#  3. with the run's id: no artifact, expired, over max_bytes by the
#     listing (nothing downloaded) and by the bytes, digest mismatch, 404:
#     permanent, and so are a 401 on /zip and a 404 at the storage host;
#     5xx on the listing, a rate-limited /zip, a 5xx and a 403 (expired
#     signature) at the storage host: retried, then fetched; dry_run
#     refuses.
#  4. hostile zips: a bomb whose header says 10 GB, one whose header says
#     1 KB and which inflates to 10 GB, a member named ../../x, 10,000
#     members, a truncated zip, an HTML page served as application/zip:
#     each fails with its reason, within seconds, and nothing is written
#     to disk.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
need_python "the mock GitHub API and the zips"
: "${ARTIFACT_FETCH:=${BUILDDIR:-build}/tests/artifact_fetch}"
case "$ARTIFACT_FETCH" in /*) ;; *) ARTIFACT_FETCH=$PWD/$ARTIFACT_FETCH ;; esac # run from elsewhere
[ -x "$ARTIFACT_FETCH" ] || { fail "no artifact_fetch helper at $ARTIFACT_FETCH"; finish; exit 1; }
GH_PID=
trap 'kill $GH_PID 2>/dev/null; rm -rf "$T"' EXIT

TOKEN="ghp_artifactTest$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$TOKEN" >"$T/gh-token"
mkdir -p "$T/state" "$T/cwd" "$T/zips"

# The zips: the run's good one, and the hostile set.
"$PY" - "$T/zips" <<'PY'
import os, struct, sys, zipfile, zlib
d = sys.argv[1]
base = b'{"format": "driftd-baseline", "version": 1, "rows": 150, "features": []}\n'
with zipfile.ZipFile(os.path.join(d, "good.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("model.joblib", b"\x80\x04joblib" * 100)
    z.writestr("metrics.json", b'{"accuracy": 0.97}')
    z.writestr("baseline.json", base)
open(os.path.join(d, "baseline.json"), "wb").write(base)
with zipfile.ZipFile(os.path.join(d, "dotdot.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("../../x", base)
    z.writestr("metrics.json", b"{}")
with zipfile.ZipFile(os.path.join(d, "many.zip"), "w", zipfile.ZIP_STORED) as z:
    for i in range(10000):
        z.writestr("f%05d" % i, b"x")
    z.writestr("baseline.json", base)
good = open(os.path.join(d, "good.zip"), "rb").read()
open(os.path.join(d, "truncated.zip"), "wb").write(good[: len(good) // 2])
open(os.path.join(d, "page.zip"), "wb").write(b"<html><body>Sign in to continue</body></html>\n")

# 10 GiB of zeros as raw deflate, in about 10 MB: after a full flush the
# compressor's state is the same before each 1 MiB of zeros, so one block
# repeats (checked).
c = zlib.compressobj(9, zlib.DEFLATED, -15)
mib = b"\0" * (1 << 20)
first = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
blk = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
assert c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH) == blk
total = 10 << 30
stream = first + blk * (total // (1 << 20) - 2) + c.compress(mib) + c.flush()

def bomb(path, declared):
    """One deflated member baseline.json declaring `declared` bytes (zip64)."""
    name = b"baseline.json"
    comp = len(stream)
    z64 = struct.pack("<HHQQ", 1, 16, declared, comp)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0x21, 0,
                        0xFFFFFFFF, 0xFFFFFFFF, len(name), len(z64)) + name + z64
    cz64 = struct.pack("<HHQQQ", 1, 24, declared, comp, 0)
    cd = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0x21, 0,
                     0xFFFFFFFF, 0xFFFFFFFF, len(name), len(cz64), 0, 0, 0, 0,
                     0xFFFFFFFF) + name + cz64
    cd_off = len(local) + comp
    e64_off = cd_off + len(cd)
    e64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(cd), cd_off)
    loc = struct.pack("<IIQI", 0x07064B50, 0, e64_off, 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cd), cd_off, 0)
    with open(path, "wb") as f:
        f.write(local); f.write(stream); f.write(cd); f.write(e64); f.write(loc); f.write(eocd)

bomb(os.path.join(d, "bomb-declared.zip"), total)
bomb(os.path.join(d, "bomb-lying.zip"), 1000)
PY
[ $? -eq 0 ] && [ -s "$T/zips/bomb-lying.zip" ] || { fail "cannot make the zips"; finish; exit 1; }

"$PY" "$here/mock_github.py" --port-file "$T/gh.port" --log "$T/gh.log" \
    --token-file "$T/gh-token" --ref main --run-polls 2 \
    --artifact-zip "$T/zips/good.zip" &
GH_PID=$!
wait_until 10 test -s "$T/gh.port" || { fail "mock GitHub did not start"; finish; exit 1; }
GH_URL="http://127.0.0.1:$(cat "$T/gh.port")"

# ctl PATH JSON: a control request to the mock.
ctl() { curl -s -o /dev/null -w '%{http_code}' -X POST -d "$2" "$GH_URL/_mock/$1"; }
# fetch [OPTIONS]: run the helper from an empty directory, its result in
# $T/out (the run lines, then one JSON line) and its last line in $T/res.
fetch() {
    (cd "$T/cwd" && "$ARTIFACT_FETCH" "$GH_URL" "$T/gh-token" "$T/state" "$@") \
        >"$T/out" 2>"$T/err"
    rc=$?
    tail -n 1 "$T/out" >"$T/res"
    expect_no_crash "artifact_fetch $*" # sanitizer reports (the ASan build) and signals
}
# expect_fail WHAT PERMANENT REASON_REGEX
expect_fail() {
    if [ "$rc" -eq 1 ]; then ok; else fail "$1: exit $rc, want 1"; sed 's/^/  /' "$T/err" >&2; fi
    expect_json "$T/res" ok=false "permanent=$2" "reason~$3"
}
no_errors() {
    curl -s "$GH_URL/_mock/errors" >"$T/errors"
    expect_json "$T/errors" 'len(errors)=0'
}

# --- 1. the whole way, from the dispatch --------------------------------
fetch --out "$T/got.json"
[ "$rc" -eq 0 ] && ok || { fail "fetch: exit $rc"; cat "$T/out" "$T/err" >&2; }
[ "$(grep -c '^run ' "$T/out")" -eq 4 ] && ok || fail "run hook lines: $(grep '^run ' "$T/out" | tr '\n' '|')"
grep '^run ' "$T/out" | tr '\n' '|' | grep -qx 'run requested -|run queued -|run in_progress -|run completed success|' &&
    ok || fail "run status order: $(grep '^run ' "$T/out" | tr '\n' '|')"
zsha=$(sha256sum "$T/zips/good.zip" | cut -d' ' -f1)
expect_json "$T/res" ok=true run_id=7001 artifact_id=70011 artifact_name=iris-c1 \
    member=baseline.json "zip_sha256=$zsha" "digest=sha256:$zsha" attempts=1 \
    "run_url=https://github.com/owner/repo/actions/runs/7001"
cmp -s "$T/got.json" "$T/zips/baseline.json" && ok || fail "the member is not the zip's baseline.json"
# GitHub's headers to the API, none of them to the storage host
[ "$(jsonl_count "$T/gh.log" kind=artifacts status=200 valid=true auth_ok=true 'query.name=["iris-c1"]')" -eq 1 ] &&
    ok || fail "listing request"
[ "$(jsonl_count "$T/gh.log" kind=zip status=302 valid=true auth_ok=true)" -eq 1 ] && ok || fail "zip request"
[ "$(jsonl_count "$T/gh.log" kind=storage status=200 auth_seen=false)" -eq 1 ] && ok || fail "storage request"
[ "$(jsonl_count "$T/gh.log" kind=storage 'headers.Accept=application/vnd.github+json')" -eq 0 ] &&
    ok || fail "GitHub's Accept sent to the storage host"
[ "$(jsonl_count "$T/gh.log" kind=storage 'headers.X-GitHub-Api-Version~.')" -eq 0 ] &&
    ok || fail "X-GitHub-Api-Version sent to the storage host"
[ "$(jsonl_count "$T/gh.log" kind=storage 'headers.User-Agent~^driftd/')" -eq 1 ] &&
    ok || fail "no User-Agent at the storage host"
no_errors
# the mock's storage check bites: a request with the token is refused and listed
loc=$(jsonl "$T/gh.log" kind=zip status=302 -- location | tail -n 1)
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$loc")" = 400 ] &&
    ok || fail "the storage host accepted an Authorization header"
curl -s "$GH_URL/_mock/errors" >"$T/errors"
expect_json "$T/errors" 'len(errors)=1' 'errors[0]~^Authorization header sent to the storage host'
if grep -q "$TOKEN" "$T/gh.log" "$T/out" "$T/err"; then fail "the token was written somewhere"; else ok; fi

# --- 2. a failed run is not fetched --------------------------------------
[ "$(ctl runs '{"conclusion": "failure", "polls": 1}')" = 204 ] && ok || fail "control runs"
: >"$T/gh.log"
fetch
expect_json "$T/res" ok=false run_failed=true reason=failure
[ "$(jsonl_count "$T/gh.log" kind=artifacts)" -eq 0 ] && ok || fail "a failed run's artifact was listed"
ctl runs '{"conclusion": "success"}' >/dev/null

# --- 3. failures of the fetch, on run 7001 -------------------------------
# fetch7001 [OPTIONS]: from run 7001 without a dispatch; the mock's log anew
fetch7001() { : >"$T/gh.log"; fetch --run-id 7001 "$@"; }
ctl artifact '{"run_id": 7001, "missing": true}' >/dev/null
fetch7001
expect_fail "no artifact" true '^run 7001 has no artifact named iris-c1$'
ctl artifact '{"run_id": 7001, "missing": false, "expired": true}' >/dev/null
fetch7001
expect_fail "expired" true '^artifact iris-c1 of run 7001 has expired$'
ctl artifact '{"run_id": 7001, "expired": false}' >/dev/null
size=$(wc -c <"$T/zips/good.zip")
fetch7001 --max-bytes $((size - 1))
expect_fail "listed over max_bytes" true "is $size bytes, more than max_bytes $((size - 1))"
[ "$(jsonl_count "$T/gh.log" kind=zip)" -eq 0 ] && [ "$(jsonl_count "$T/gh.log" kind=storage)" -eq 0 ] &&
    ok || fail "downloaded although the listing was over max_bytes"
ctl artifact '{"run_id": 7001, "size_in_bytes": 100}' >/dev/null
fetch7001 --max-bytes $((size - 1))
expect_fail "bytes over max_bytes" true 'from the storage host: larger than max_bytes'
ctl artifact "{\"run_id\": 7001, \"size_in_bytes\": null, \"digest\": \"sha256:$(printf '%064d' 0)\"}" >/dev/null
fetch7001
expect_fail "digest mismatch" true "zip sha256 $zsha does not match the listing's sha256:0000"
ctl artifact '{"run_id": 7001, "digest": "auto"}' >/dev/null
fetch --run-id 999
expect_fail "unknown run" true '^artifact listing of run 999: HTTP 404: Not Found$'
ctl faults '{"artifacts": [{"status": 502}, {"status": 503}]}' >/dev/null
fetch7001
[ "$rc" -eq 0 ] && ok || fail "5xx twice, then: exit $rc"
expect_json "$T/res" ok=true attempts=3
ctl faults '{"zip": [{"status": 403, "reset_in": 1, "body": {"message": "API rate limit exceeded"}}], "storage": [{"status": 500}]}' >/dev/null
fetch7001
expect_json "$T/res" ok=true attempts=3
[ "$(jsonl_count "$T/gh.log" kind=zip fault=true status=403)" -eq 1 ] &&
    [ "$(jsonl_count "$T/gh.log" kind=storage fault=true status=500)" -eq 1 ] && ok ||
    fail "the scripted rate limit and 500 were not both met"
# the storage host's 403 (a signature expired): a new URL from the start
ctl faults '{"storage": [{"status": 403, "body": "AuthenticationFailed"}]}' >/dev/null
fetch7001
expect_json "$T/res" ok=true attempts=2
[ "$(jsonl_count "$T/gh.log" kind=zip status=302)" -eq 2 ] && ok || fail "no second /zip after the storage 403"
ctl faults '{"storage": [{"status": 404, "body": "BlobNotFound"}]}' >/dev/null
fetch7001
expect_fail "storage 404" true 'from the storage host: HTTP 404: BlobNotFound$'
ctl faults '{"zip": [{"status": 401, "body": {"message": "Bad credentials"}}]}' >/dev/null
fetch7001
expect_fail "401 on /zip" true 'download: HTTP 401: Bad credentials$'
fetch7001 --dry-run
expect_json "$T/res" ok=false refused=true 'reason~dry run: the artifact is not fetched'
[ "$(jsonl_count "$T/gh.log" 'kind!=control')" -eq 0 ] && ok || fail "dry run sent a request"

# --- 4. hostile zips ------------------------------------------------------
# hostile FILE REASON_REGEX [OPTIONS]: served as run 7001's zip, it fails
# with the reason, and nothing lands in the working or state directory.
hostile() {
    ctl artifact "{\"run_id\": 7001, \"zip_path\": \"$T/zips/$1\"}" >/dev/null
    _f=$1 _re=$2
    shift 2
    fetch7001 "$@"
    expect_fail "$_f" true "$_re"
    [ -z "$(ls -A "$T/cwd")" ] && ok || fail "$_f: files appeared in the working directory: $(ls -A "$T/cwd")"
    [ -z "$(find "$T/state" -type f)" ] && ok || fail "$_f: files in the state directory: $(find "$T/state" -type f)"
    [ ! -e "$T/x" ] && [ ! -e "$T/state/x" ] && ok || fail "$_f: ../../x was written"
}
hostile bomb-declared.zip 'zip: member baseline.json is larger than 67108864 bytes \(its header says 10737418240\)'
hostile bomb-lying.zip 'zip: member baseline.json inflates past the 1000 bytes its header says'
hostile dotdot.zip 'zip: member baseline.json not found \(2 members\)'
hostile many.zip 'zip: 10001 members, at most 1000 are read'
hostile truncated.zip 'zip: truncated'
ctl artifact '{"run_id": 7001, "content_type": "application/zip"}' >/dev/null
hostile page.zip 'zip: not a zip file'
# the storage host saw no Authorization header besides the test's own in part 1
curl -s "$GH_URL/_mock/errors" >"$T/errors"
expect_json "$T/errors" 'len(errors)=1'

finish
