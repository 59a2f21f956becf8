#!/bin/sh
# The .deb built by CPack installs, into a temp root (dpkg-deb -x), the
# binary, the units, the configuration and the man pages where Debian puts
# them; the binary in it runs. The unit's LoadCredential= directory is in
# it (root's, 0700), and the shipped configuration validates once the
# baseline is where the README's quick start puts it (/etc/driftd/baseline.json).
# (test_systemd.sh starts the unit from this package under a real systemd.)
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
         usr/share/doc/driftd/README.md usr/share/doc/driftd/examples/driftd.json \
         usr/share/doc/driftd/examples/nats/nats-a.conf usr/share/doc/driftd/examples/nats/nats-b.conf \
         usr/share/doc/driftd/examples/nats/nats-c.conf usr/share/doc/driftd/examples/nats/driftd.env.example \
         usr/share/doc/driftd/examples/nats/nats-server-driftd.service; do
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
# A missing LoadCredential= directory fails the unit with 243/CREDENTIALS.
dpkg-deb -c "$deb" >"$T/contents"
if grep -Eq '^drwx------ root/root +0 .* \./etc/driftd/credentials/$' "$T/contents"; then ok; else
    fail "no /etc/driftd/credentials/ (drwx------ root) in the package"; grep etc/ "$T/contents" >&2; fi
cred=$(sed -n 's|^LoadCredential=driftd:\(/[^ ]*\)$|\1|p' "$T/root/usr/lib/systemd/system/driftd.service")
[ "$cred" = /etc/driftd/credentials ] && ok || fail "driftd.service LoadCredential= names '$cred'"
# The shipped configuration, its baseline where the README puts it.
cfg=$T/root/etc/driftd/driftd.json
if json_is "$cfg" baseline=/etc/driftd/baseline.json; then ok; else fail "shipped baseline path"; fi
grep -q '^sudo driftd baseline -i train.csv -o /etc/driftd/baseline.json$' "$SRCDIR/README.md" && ok ||
    fail "README's quick start does not write the baseline to /etc/driftd/baseline.json"
"$T/root/usr/bin/driftd" baseline -i "$SRCDIR/examples/iris/train.csv" -o "$T/root/etc/driftd/baseline.json" \
    >/dev/null 2>&1 && ok || fail "driftd baseline"
sed "s|\"/etc/driftd/baseline.json\"|\"$T/root/etc/driftd/baseline.json\"|" "$cfg" >"$T/shipped.json"
expect_rc 0 "$T/root/usr/bin/driftd" validate --config "$T/shipped.json"
grep -q '^StateDirectory=driftd/%i' "$T/root/usr/lib/systemd/system/driftd@.service" && ok || fail "template StateDirectory"
finish
