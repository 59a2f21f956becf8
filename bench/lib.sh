# Shared by the bench scripts (sourced): the repository root as the working
# directory, the build ($B), Debian's python ($PYTHON), bench/gen_data.py's
# data, a temporary directory $T removed at exit together with the daemon
# $dpid if one runs, and $T/base.json, the baseline of the first 50,000
# reference rows.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
B=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -f bench/data/ref.csv ] || "$PYTHON" bench/gen_data.py
T=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; rm -rf "$T"' EXIT
head -n 50001 bench/data/ref.csv >"$T/ref.csv"
"$B/agent/driftd" baseline -i "$T/ref.csv" -o "$T/base.json" 2>/dev/null
