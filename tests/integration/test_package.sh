#!/bin/sh
# The .deb built by CPack installs, into a temp root (dpkg-deb -x), the
# binary, the units, the configuration and the man pages where Debian puts
# them; the binary in it runs.
. "$(dirname "$0")/lib.sh"
: "${BUILDDIR:?BUILDDIR must point at the build tree}"
if ! command -v cpack >/dev/null || ! command -v dpkg-deb >/dev/null; then
    fail "cpack and dpkg-deb are needed (scripts/install-deps test installs them)"; finish; exit 1
fi
(cd "$BUILDDIR" && cpack -G DEB -B "$T/pkg") >"$T/cpack.log" 2>&1 && ok || { fail "cpack"; cat "$T/cpack.log" >&2; }
deb=$(ls "$T"/pkg/driftd_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && ok || { fail "no .deb produced"; finish; exit 1; }
dpkg-deb -x "$deb" "$T/root" && ok || fail "dpkg-deb -x"
for f in usr/bin/driftd usr/lib/systemd/system/driftd.service usr/lib/systemd/system/driftd@.service \
         etc/driftd/driftd.json usr/share/man/man8/driftd.8 usr/share/man/man5/driftd.json.5 \
         usr/share/doc/driftd/README.md usr/share/doc/driftd/examples/driftd.json; do
    [ -e "$T/root/$f" ] && ok || fail "missing /$f in the package"
done
[ -x "$T/root/usr/bin/driftd" ] && ok || fail "driftd is not executable"
"$T/root/usr/bin/driftd" version | grep -q '^driftd [0-9]' && ok || fail "packaged binary does not run"
dpkg-deb -I "$deb" >"$T/info"
grep -q 'Depends:.*libevent' "$T/info" && grep -q 'libcurl' "$T/info" && grep -q 'libgsl' "$T/info" \
    && grep -q 'libcjson' "$T/info" && ok || { fail "Depends lacks a library"; cat "$T/info" >&2; }
dpkg-deb -e "$deb" "$T/ctl"
grep -qx '/etc/driftd/driftd.json' "$T/ctl/conffiles" && ok || fail "the configuration is not a conffile"
grep -q '^ExecStart=/usr/bin/driftd run --config /etc/driftd/driftd.json' \
    "$T/root/usr/lib/systemd/system/driftd.service" && ok || fail "unit ExecStart"
grep -q '^StateDirectory=driftd/%i' "$T/root/usr/lib/systemd/system/driftd@.service" && ok || fail "template StateDirectory"
finish
