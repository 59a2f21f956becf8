#!/bin/sh
# Risky settings are not silent: at start, on reload and in `validate`,
# driftd warns about a non-loopback listen address without auth, a secret
# file readable by group or others, and a plain http:// GitHub api_url off
# loopback; the safe defaults warn about nothing. The GitHub token's memory
# is left out of core dumps (a VMA flagged "dd" in /proc/PID/smaps).
# Traffic goes to 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
need_python "the memory scan"
ex="$SRCDIR/examples/iris"

"$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json" 2>/dev/null
umask 077
printf 'ingest-secret\n' >"$T/token"
printf 'ghp_not-a-real-token\n' >"$T/gh-token"
printf 'http://127.0.0.1:9/hook\n' >"$T/url"

# cfg FILE MEMBERS...: a configuration with the given top-level members.
cfg() {
    _f=$1; shift
    printf '{"baseline": "%s", "state_dir": "%s/state"' "$T/base.json" "$T" >"$_f"
    for _m in "$@"; do printf ', %s' "$_m" >>"$_f"; done
    printf '}\n' >>"$_f"
}
W_LISTEN='listen: .* is not a loopback address and auth.token_file is not set'
W_MODE='is readable by group or others'
W_GH='retrain.github.api_url: plain http:// to a host that is not loopback'
risky() { grep -Eq "$W_LISTEN|$W_MODE|$W_GH" "$1"; }
# started CONFIG: a fresh log, the daemon started and done with its setup
# (the listen file is written before the sinks and GitHub are set up).
started() {
    : >"$T/daemon.log"
    start_daemon "$1" || return 1
    wait_until 30 grep -q ' ready: model' "$T/daemon.log" && return 0
    fail "$1: no ready line"; cat "$T/daemon.log" >&2; return 1
}
# stopped NAME: the daemon stopped cleanly, its log without a sanitizer report.
stopped() {
    stop_daemon
    [ "$DAEMON_RC" -eq 0 ] && ok || fail "$1: daemon exit $DAEMON_RC"
    grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" &&
        fail "$1: sanitizer report: $(head -20 "$T/daemon.log")" || ok
}

gh_safe='"retrain": {"dry_run": true, "github": {"repository": "o/r", "workflow": "w.yml", "token_file": "'$T/gh-token'", "api_url": "http://127.0.0.1:9"}}'
hook='"alerts": {"sinks": [{"type": "webhook", "url_file": "'$T/url'"}]}'
auth='"auth": {"token_file": "'$T/token'"}'

# Safe settings (loopback, 0600 files, loopback http GitHub): no warning.
cfg "$T/safe.json" '"listen": "127.0.0.1:0"' "$auth" "$gh_safe" "$hook"
expect_rc 0 "$DRIFTD" validate --config "$T/safe.json"
risky "$T/err" && fail "validate warns about safe settings: $(cat "$T/err")" || ok
cfg "$T/defaults.json" '"listen": "127.0.0.1:0"'
expect_rc 0 "$DRIFTD" validate --config "$T/defaults.json"
risky "$T/err" && fail "validate warns about the defaults: $(cat "$T/err")" || ok

# validate names each risky setting (and still succeeds).
chmod 644 "$T/token"; chmod 640 "$T/gh-token"; chmod 604 "$T/url"
cfg "$T/risky.json" '"listen": "0.0.0.0:0"' \
    '"retrain": {"dry_run": true, "github": {"repository": "o/r", "workflow": "w.yml", "token_file": "'$T/gh-token'", "api_url": "http://drift.invalid:8080"}}' "$hook"
expect_rc 0 "$DRIFTD" validate --config "$T/risky.json"
expect_err "warning: .*$W_LISTEN"
expect_err "warning: .*retrain.github.token_file: .*gh-token $W_MODE \(mode 0640\)"
expect_err "warning: .*alerts.sinks\[0\].url_file: .*url $W_MODE \(mode 0604\)"
expect_err "warning: .*$W_GH"
cfg "$T/risky2.json" '"listen": "127.0.0.1:0"' "$auth"
expect_rc 0 "$DRIFTD" validate --config "$T/risky2.json"
expect_err "warning: .*auth.token_file: .*token $W_MODE \(mode 0644\)"
for u in http://localhost:9 http://127.0.0.2:9 'http://[::1]:9' https://api.github.com; do
    cfg "$T/u.json" '"listen": "127.0.0.1:0"' \
        '"retrain": {"dry_run": true, "github": {"repository": "o/r", "workflow": "w.yml", "api_url": "'"$u"'"}}'
    expect_rc 0 "$DRIFTD" validate --config "$T/u.json"
    grep -q 'api_url' "$T/err" && fail "api_url $u warned: $(cat "$T/err")" || ok
done
for l in 0.0.0.0:0 '[::]:0' 192.0.2.1:0 example.invalid:0; do
    cfg "$T/l.json" '"listen": "'"$l"'"'
    "$DRIFTD" validate --config "$T/l.json" >/dev/null 2>"$T/err"
    expect_err "warning: .*$W_LISTEN"
done
for l in 127.0.0.1:0 localhost:0 '[::1]:0' 127.1.2.3:0; do
    cfg "$T/l.json" '"listen": "'"$l"'"'
    "$DRIFTD" validate --config "$T/l.json" >/dev/null 2>"$T/err"
    grep -q 'not a loopback' "$T/err" && fail "listen $l warned: $(cat "$T/err")" || ok
done

# At start: the daemon logs each warning. It binds 0.0.0.0 but is never sent
# anything; it stops at once.
started "$T/risky.json" || { finish; exit 1; }
stopped "risky settings"
for w in "$W_LISTEN" "retrain.github.token_file: .*$W_MODE" "alerts.sinks\[0\].url_file: .*$W_MODE" "$W_GH"; do
    grep -Eq "warn: .*$w" "$T/daemon.log" && ok || fail "no warning /$w/ at start"
done

# A safe daemon logs none; a reload after `chmod 644` of its token warns.
chmod 600 "$T/token" "$T/gh-token" "$T/url"
cfg "$T/c.json" '"listen": "127.0.0.1:0"' "$auth" "$gh_safe" "$hook"
started "$T/c.json" || { finish; exit 1; }
risky "$T/daemon.log" && fail "warnings for safe settings: $(cat "$T/daemon.log")" || ok
chmod 644 "$T/token"
http POST /v1/reload -H "Authorization: Bearer ingest-secret"
expect_code 200 "reload"
wait_until 5 grep -Eq "warn: .*auth.token_file: .*$W_MODE" "$T/daemon.log" && ok ||
    fail "no warning on reload for a 0644 token file"
stopped "safe settings"

# The listen file is not written through a symlink planted in its place
# (state_dir may be writable by a group): the link is replaced, its target
# untouched.
cfg "$T/link.json" '"listen": "127.0.0.1:0"'
mkdir -p "$T/state"
rm -f "$T/state/listen"
printf 'victim\n' >"$T/victim"
ln -s "$T/victim" "$T/state/listen"
: >"$T/daemon.log"
"$DRIFTD" run --config "$T/link.json" >>"$T/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_until 30 grep -q ' ready: model' "$T/daemon.log" || fail "link.json: no ready line"
[ "$(cat "$T/victim")" = victim ] && ok || fail "the listen file was written through a symlink: $(cat "$T/victim")"
[ -f "$T/state/listen" ] && [ ! -L "$T/state/listen" ] && ok || fail "state_dir/listen is still a symlink"
stopped "listen symlink"

# The GitHub token's page is MADV_DONTDUMP: a small mapping with "dd" among
# its VmFlags ([vvar] and the like have it too, hence the name and size
# test; ASan's shadow is far larger). Without any secret there is none.
dd_maps() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 }
         /^Size:/ { small = $2 <= 1024 }
         /^VmFlags:/ && / dd/ && small && name !~ /^\[(vvar|vvar_vclock|vdso|vsyscall)\]$/ { n++ }
         END { print n + 0 }' "/proc/$1/smaps"
}
gh_only='"retrain": {"dry_run": true, "github": {"repository": "o/r", "workflow": "w.yml", "api_url": "http://127.0.0.1:9"'
cfg "$T/gh.json" '"listen": "127.0.0.1:0"' "$gh_only, \"token_file\": \"$T/gh-token\"}}"
started "$T/gh.json" || { finish; exit 1; }
n=$(dd_maps "$DAEMON_PID")
[ "$n" -ge 1 ] && ok || fail "no MADV_DONTDUMP mapping while a GitHub token (token_file) is loaded"
# ... and no copy of it is anywhere a core dump would take (the GitHub
# client's own copy and its Authorization header were plain heap)
found=$("$PY" - "$DAEMON_PID" "$(cat "$T/gh-token")" <<'PY'
import re, sys
pid, secret = sys.argv[1], sys.argv[2].encode()
maps, found = [], 0
cur = None
for line in open("/proc/%s/smaps" % pid):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
    if m:
        cur = [int(m.group(1), 16), int(m.group(2), 16), m.group(3)]
        maps.append(cur)
    elif line.startswith("VmFlags:"):
        cur.append(" dd" in line)
with open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for lo, hi, perm, dd in maps:
        if dd or "r" not in perm or hi - lo > 1 << 30:
            continue
        try:
            mem.seek(lo)
            found += mem.read(hi - lo).count(secret)
        except OSError:
            pass
print(found)
PY
)
[ "$found" = 0 ] && ok || fail "the GitHub token is in $found places a core dump would hold"
stopped "github token file"
cfg "$T/gh-env.json" '"listen": "127.0.0.1:0"' "$gh_only}}"
DRIFTD_GITHUB_TOKEN=ghp_from-the-environment
export DRIFTD_GITHUB_TOKEN
started "$T/gh-env.json" || { finish; exit 1; }
unset DRIFTD_GITHUB_TOKEN
n=$(dd_maps "$DAEMON_PID")
[ "$n" -ge 1 ] && ok || fail "no MADV_DONTDUMP mapping while a GitHub token (environment) is loaded"
stopped "github token env"
cfg "$T/plain.json" '"listen": "127.0.0.1:0"'
started "$T/plain.json" || { finish; exit 1; }
n=$(dd_maps "$DAEMON_PID")
[ "$n" -eq 0 ] && ok || fail "$n dd mappings without a secret"
stopped "no secret"
finish
