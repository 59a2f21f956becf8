# Shared helpers of the integration tests (POSIX sh). The tests run the real
# binary ($DRIFTD) in a temp directory and count checks like the unit tests.
: "${DRIFTD:?DRIFTD must point at the driftd binary}"
: "${SRCDIR:?SRCDIR must point at the source tree}"
passed=0
failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/driftd-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

# scripts/valgrind-check sets VALGRIND_LOGDIR: then every driftd a test
# starts runs under memcheck, each process's report in a file of its own
# there (empty: clean).
if [ -n "${VALGRIND_LOGDIR:-}" ]; then
    printf '#!/bin/sh\nexec valgrind -q --leak-check=full --errors-for-leak-kinds=definite --log-file="%s/%s-%%p.log" "%s" "$@"\n' \
        "$VALGRIND_LOGDIR" "$(basename "$0" .sh)" "$DRIFTD" >"$T/driftd"
    chmod +x "$T/driftd"
    DRIFTD=$T/driftd
fi

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*" >&2; }

# expect_rc WANT CMD...: run CMD, keep stdout/stderr in $T/out, $T/err.
expect_rc() {
    want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        fail "exit $rc, want $want: $*"; sed 's/^/  stderr: /' "$T/err" >&2; fi
}

# expect_err PATTERN: the last command's stderr matches the extended regex.
expect_err() {
    if grep -Eq -- "$1" "$T/err"; then ok; else
        fail "stderr lacks /$1/"; sed 's/^/  stderr: /' "$T/err" >&2; fi
}

expect_out() {
    if grep -Eq -- "$1" "$T/out"; then ok; else
        fail "stdout lacks /$1/"; sed 's/^/  stdout: /' "$T/out" | head -20 >&2; fi
}

# A crash is never an answer: sanitizer reports and signals fail the test.
expect_no_crash() {
    if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/err" || [ "${rc:-0}" -ge 128 ]; then
        fail "crash or sanitizer report: $*"; head -30 "$T/err" >&2
    else ok; fi
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
    _n=$(($1 * 10)); shift
    while ! "$@" 2>/dev/null; do
        _n=$((_n - 1)); [ $_n -le 0 ] && return 1; sleep 0.1
    done
}

# need_python WHAT: set PY to Debian's python3 (the mocks use only its
# standard library), or fail the test naming what needed it.
need_python() {
    if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3 || true); fi
    if [ -z "$PY" ]; then fail "python3 not found: $1 needs it"; finish; exit 1; fi
}

# artifact_zip OUT MEMBER-FILE [ARCNAME]: a zip as the retrain workflow
# uploads it (the baseline as ARCNAME, default baseline.json, beside a
# model and its metrics), for the GitHub mock's --artifact-zip.
artifact_zip() {
    [ -n "${PY:-}" ] || need_python "making an artifact zip"
    "$PY" - "$1" "$2" "${3:-baseline.json}" <<'P'
import sys, zipfile
out, member, arcname = sys.argv[1:4]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(member, arcname)
    z.writestr("model.joblib", b"\x80\x04not really a model")
    z.writestr("metrics.json", '{"accuracy": 0.97}')
P
}

# JSON is read through jsonq.py (its header has the path syntax), never with
# a regex: a member that moves or a change of spacing must not break a test,
# nor a member of the same name elsewhere make it pass.
JSONQ=$(dirname "$0")/jsonq.py
_jsonq() {
    [ -n "${PY:-}" ] || need_python "reading JSON (jsonq.py)"
    "$PY" "$JSONQ" "$@"
}

# json FILE EXPR...: print each value (strings unquoted, the rest as compact
# JSON); exit 1 naming the path when it does not exist. FILE - is stdin.
json() { _f=$1; shift; _jsonq get "$_f" "$@"; }

# json_in EXPR...: the same for the document on stdin.
json_in() { _jsonq get - "$@"; }

# json_is FILE COND...: silently, whether every COND (EXPR=VALUE, !=, ~
# regex, >= <= > < numbers, bare EXPR: exists) holds; for wait_until and if.
json_is() { _f=$1; shift; _jsonq test "$_f" "$@" 2>/dev/null; }

# expect_json FILE COND...: a check: every COND holds, or the test fails
# naming each one that does not and showing the start of FILE.
expect_json() {
    _f=$1; shift
    if _jsonq expect "$_f" "$@" 2>"$T/jsonq.err"; then ok; else
        fail "JSON in $(basename "$_f"): $*"; sed 's/^/  /' "$T/jsonq.err" >&2
        head -c 600 "$_f" | sed 's/^/  | /' >&2; echo >&2
    fi
}

# jsonl_count FILE COND...: how many lines of an NDJSON log (the mocks'
# gh.log, rcv.log) meet every COND; a line without the path does not.
jsonl_count() { _f=$1; shift; _jsonq count "$_f" "$@"; }

# jsonl FILE COND... [-- EXPR...]: those lines, whole or as EXPR's values
# (tab-separated, one line each).
jsonl() { _f=$1; shift; _jsonq lines "$_f" "$@"; }

# same_check_output A B WHAT: the check runs kept in $T/A.out, $T/A.err
# and $T/B.out, $T/B.err gave the same report and exit status, and the same
# messages in any order (a parallel read hands over a segment's reader
# messages before the type errors of its records).
same_check_output() {
    if cmp -s "$T/$1.out" "$T/$2.out"; then ok; else
        fail "$3: reports differ"; diff "$T/$1.out" "$T/$2.out" | head -20 >&2; fi
    sort "$T/$1.err" >"$T/$1.sorted"
    sort "$T/$2.err" >"$T/$2.sorted"
    if cmp -s "$T/$1.sorted" "$T/$2.sorted"; then ok; else
        fail "$3: messages differ"; diff "$T/$1.sorted" "$T/$2.sorted" | head -20 >&2; fi
}

finish() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
