#!/bin/sh
# The Alertmanager sink against a real Alertmanager (Debian's
# prometheus-alertmanager, API v2) on a free loopback port with its own
# storage and no clustering, routing everything to a webhook receiver (a
# small python3 server here that keeps every notification). Expected: a
# drifted window makes DataDrift and one FeatureDrift per drifted feature
# appear in GET /api/v2/alerts with exactly the labels of docs/alerts.md and
# the annotations and generatorURL; Alertmanager notifies the receiver of
# both; re-posting every resend_seconds keeps them active past
# Alertmanager's resolve_timeout (set to 5 s here, so a missed re-post
# shows); a clean window resolves them (they leave the active list and the
# receiver gets "resolved" for each) and nothing re-fires them afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
ex="$SRCDIR/examples/iris"
AM_BIN=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
AM_PID=
RX_PID=

cleanup() {
    for p in $DAEMON_PID $AM_PID $RX_PID; do kill "$p" 2>/dev/null; done
    for p in $DAEMON_PID $AM_PID $RX_PID; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ ! -x "$AM_BIN" ]; then
    fail "prometheus-alertmanager is not installed ($AM_BIN missing; scripts/install-deps test installs it)"
    finish; exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    fail "python3 is not installed (the webhook receiver; scripts/install-deps test installs it)"
    finish; exit 1
fi

# wait_for SECONDS CMD...: poll CMD every 100 ms until SECONDS have passed.
wait_for() {
    _end=$(($(date +%s) + $1)); shift
    while :; do
        "$@" && return 0
        [ "$(date +%s)" -ge "$_end" ] && return 1
        sleep 0.1
    done
}

# --- the webhook receiver: one line per POST body, port in $T/rx.port -----
cat >"$T/rx.py" <<'PY'
import http.server, json, os, sys
out, portfile = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            line = json.dumps(json.loads(body), sort_keys=True)
        except ValueError:
            line = "UNPARSEABLE " + body.decode("utf-8", "replace").replace("\n", " ")
        with open(out, "a") as f:
            f.write(line + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.server_address[1])
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
# amq.py alerts|hooks FILE: one line per alert, for grep.
#   alerts (GET /api/v2/alerts): "<sorted labels> state=S ends=past|future"
#   hooks (receiver file):       "<status> <alertname> <feature or -> <endsAt, epoch s>"
cat >"$T/amq.py" <<'PY'
import datetime, json, re, sys
mode, path = sys.argv[1], sys.argv[2]
# "now" is when the shell asked (python may start much later on a busy host)
now = datetime.datetime.fromtimestamp(float(sys.argv[3]) if len(sys.argv) > 3 else 0,
                                      datetime.timezone.utc)
def when(s):
    # Go prints up to nanoseconds; fromisoformat takes at most microseconds
    m = re.match(r"(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", s)
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(
        m.group(1) + "." + (m.group(2) or "0")[:6].ljust(6, "0") + tz)
if mode == "alerts":
    for a in json.load(open(path)):
        labels = ",".join("%s=%s" % kv for kv in sorted(a["labels"].items()))
        ends = "past" if when(a["endsAt"]) <= now else "future"
        ann = a.get("annotations", {})
        print(labels, "state=" + a["status"]["state"], "ends=" + ends,
              "summary=" + ("yes" if ann.get("summary") else "no"),
              "description=" + ("yes" if ann.get("description") else "no"),
              "gen=" + a.get("generatorURL", ""))
else:
    for line in open(path):
        if line.startswith("UNPARSEABLE"):
            print("unparseable")
            continue
        n = json.loads(line)
        for a in n["alerts"]:
            print(a["status"], a["labels"].get("alertname"), a["labels"].get("feature", "-"),
                  int(when(a["endsAt"]).timestamp()))
PY

python3 "$T/rx.py" "$T/hooks" "$T/rx.port" 2>"$T/rx.err" &
RX_PID=$!
if ! wait_for 10 test -s "$T/rx.port"; then
    fail "the webhook receiver did not start"; cat "$T/rx.err" >&2; finish; exit 1
fi
RXPORT=$(cat "$T/rx.port")
: >"$T/hooks"

# --- Alertmanager on a free port (a few tries: the port can be taken) ------
cat >"$T/am.yml" <<Y
global:
  resolve_timeout: 5s
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$RXPORT/hook
        send_resolved: true
Y
am_ready() { curl -sf -o /dev/null "http://127.0.0.1:$AMPORT/-/ready"; }
am_up() { kill -0 "$AM_PID" 2>/dev/null && am_ready; }
tries=0
while :; do
    tries=$((tries + 1))
    AMPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -rf "$T/am"
    "$AM_BIN" --config.file="$T/am.yml" --storage.path="$T/am" \
        --web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= \
        --log.level=warn >>"$T/am.log" 2>&1 &
    AM_PID=$!
    if wait_for 15 am_up; then break; fi
    kill "$AM_PID" 2>/dev/null; wait "$AM_PID" 2>/dev/null; AM_PID=
    if [ $tries -ge 3 ]; then
        fail "Alertmanager did not become ready"; tail -20 "$T/am.log" >&2; finish; exit 1
    fi
done
AM="http://127.0.0.1:$AMPORT"

# am_get [QUERY]: Alertmanager's alerts, one line each, in $T/am.lines.
am_get() {
    _t=$(date +%s.%N)
    curl -sf -o "$T/am.json" "$AM/api/v2/alerts$1" &&
        { python3 "$T/amq.py" alerts "$T/am.json" "$_t" >"$T/am.lines" 2>"$T/amq.err" ||
            { cat "$T/amq.err" >"$T/am.lines"; false; }; }
}
# hooks: the receiver's notifications, one line per alert, in $T/hooks.lines.
hooks() {
    python3 "$T/amq.py" hooks "$T/hooks" >"$T/hooks.lines" 2>"$T/amq.err" ||
        { cat "$T/amq.err" >"$T/hooks.lines"; false; }
}
# line_in FILE REGEX
line_in() { grep -Eq -- "$2" "$1"; }

features="sepal_length sepal_width petal_length petal_width species"
# all_active: DataDrift and every FeatureDrift listed as active.
all_active() {
    am_get "?active=true" || return 1
    line_in "$T/am.lines" '^alertname=DataDrift,model=iris,service=driftd,severity=warning state=active ends=future' || return 1
    for f in $features; do
        line_in "$T/am.lines" "^alertname=FeatureDrift,feature=$f,model=iris,service=driftd,severity=warning state=active ends=future" || return 1
    done
}
# none_active: no driftd alert left in the active list.
none_active() {
    am_get "?active=true" || return 1
    ! line_in "$T/am.lines" 'service=driftd'
}
# hooked STATUS [LATEST]: the receiver has STATUS for DataDrift and every
# feature (with endsAt no later than LATEST, epoch seconds, when given).
hooked() {
    hooks || return 1
    for _f in - $features; do
        if [ "$_f" = - ]; then _a="DataDrift -"; else _a="FeatureDrift $_f"; fi
        awk -v st="$1" -v a="$_a" -v lim="${2:-}" '
            $1 == st && $2 " " $3 == a && (lim == "" || $4 <= lim + 0) { f = 1 }
            END { exit !f }' "$T/hooks.lines" || return 1
    done
}
show() { sed 's/^/  /' "$1" >&2; }

# --- driftd ------------------------------------------------------------------
expect_rc 0 "$DRIFTD" baseline -i "$ex/train.csv" -o "$T/base.json"
cat >"$T/c.json" <<J
{"model": "iris", "baseline": "$T/base.json", "state_dir": "$T/state",
 "listen": "127.0.0.1:0",
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 5000},
 "alerts": {"resolve_after": 1, "repeat_seconds": 3600,
            "sinks": [{"type": "log"},
                      {"type": "alertmanager", "url": "$AM", "resend_seconds": 2}]}}
J
start_daemon "$T/c.json" || { tail -20 "$T/daemon.log" >&2; finish; exit 1; }

# am_sent: the alertmanager sink's "sent" count from /v1/status.
am_sent() {
    http GET /v1/status
    json "$T/body" 'alerts.sinks[name=alertmanager-1].sent'
}

# --- a drifted window fires -------------------------------------------------
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_drift.csv"
expect_code 202 "drifted csv"
http POST /v1/evaluate
expect_code 200 "evaluate drifted"
expect_body_json dataset.drift=true dataset.drifted_features=5
if wait_for 10 all_active; then ok; else
    fail "DataDrift and 5 FeatureDrift alerts not active in Alertmanager"; show "$T/am.lines"
    tail -5 "$T/daemon.log" >&2
fi
n=$(grep -c 'service=driftd' "$T/am.lines")
[ "$n" -eq 6 ] && ok || { fail "$n driftd alerts in Alertmanager, want 6"; show "$T/am.lines"; }
if grep 'service=driftd' "$T/am.lines" | grep -vq "summary=yes description=yes gen=$URL/v1/status\$"; then
    fail "annotations or generatorURL ($URL/v1/status) missing"; show "$T/am.lines"
else ok; fi
if wait_for 10 hooked firing; then ok; else
    fail "the receiver got no firing notification for every alert"; show "$T/hooks.lines"
fi

# --- re-posting keeps them alive past resolve_timeout (5 s) -----------------
sent0=$(am_sent)
sleep 8
if all_active; then ok; else
    fail "alerts not active 8 s after firing (re-post every 2 s missing?)"; show "$T/am.lines"
fi
sent1=$(am_sent)
if [ "${sent1:-0}" -ge $((${sent0:-0} + 2)) ]; then ok; else
    fail "alertmanager-1 sent $sent0 then $sent1 posts in 8 s, want at least 2 re-posts"
fi
expect_body_json 'alerts.sinks[name=alertmanager-1].sent>=0' 'alerts.sinks[name=alertmanager-1].retried>=0' \
    'alerts.sinks[name=alertmanager-1].failed=0'
hooks
if line_in "$T/hooks.lines" '^resolved'; then
    fail "a resolved notification while still firing"; show "$T/hooks.lines"
else ok; fi

# --- a clean window resolves -------------------------------------------------
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_clean.csv"
expect_code 202 "clean csv"
http POST /v1/evaluate
resolved_by=$(date +%s)
expect_code 200 "evaluate clean"
expect_body_json dataset.drift=false

if wait_for 10 none_active; then ok; else
    fail "driftd alerts still active after the clean window"; show "$T/am.lines"
fi
# Resolved alerts drop out of the list (or show endsAt in the past).
am_get ""
if grep 'service=driftd' "$T/am.lines" | grep -q 'ends=future'; then
    fail "a driftd alert with endsAt in the future after resolving"; show "$T/am.lines"
else ok; fi
# endsAt is driftd's resolve time, not Alertmanager's resolve_timeout expiry
# (which comes 3 s or more after the clean evaluation: the last re-post + 5 s).
if wait_for 10 hooked resolved "$resolved_by"; then ok; else
    fail "the receiver got no resolved notification, with endsAt <= $resolved_by, for every alert"
    show "$T/hooks.lines"
fi
grep -q 'alert resolved: ' "$T/daemon.log" && ok || fail "no resolved line from the log sink"

# Nothing re-fires them: the re-post timer stopped with the resolve.
sent2=$(am_sent)
sleep 4
if none_active; then ok; else
    fail "driftd alerts active again after resolving"; show "$T/am.lines"
fi
sent3=$(am_sent)
[ "${sent3:-x}" = "${sent2:-y}" ] && ok || fail "alertmanager-1 kept posting after resolve ($sent2 -> $sent3)"
expect_body_json 'alerts.sinks[name=alertmanager-1].sent>=0' 'alerts.sinks[name=alertmanager-1].retried>=0' \
    'alerts.sinks[name=alertmanager-1].failed=0'
hooks
n=$(grep -c '^firing DataDrift' "$T/hooks.lines")
# one firing notification (repeat_interval 4h): a second means a gap in the
# re-posts made Alertmanager resolve and re-open the alert
[ "$n" -eq 1 ] && ok || { fail "$n firing DataDrift notifications, want 1"; show "$T/hooks.lines"; }
if grep -q unparseable "$T/hooks.lines"; then fail "unparseable notification"; else ok; fi

# Alertmanager down while an alert fires: reminders do not pile up in the
# spool (one waiting post is enough; resend_seconds is 2, so ~4 would queue)
kill "$AM_PID" 2>/dev/null; wait "$AM_PID" 2>/dev/null; AM_PID=
http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$ex/production_drift.csv"
http POST /v1/evaluate
expect_code 200 "drifted window with Alertmanager down"
sleep 8
queued=$(ls "$T/state/spool" 2>/dev/null | grep -c 'alertmanager-1.json$' || true)
[ "$queued" -ge 1 ] && [ "$queued" -le 2 ] && ok ||
    fail "$queued Alertmanager posts spooled while it was down, want 1 or 2"

stop_daemon TERM
[ "$DAEMON_RC" -eq 0 ] && ok || fail "SIGTERM exit status $DAEMON_RC"
DAEMON_PID=
if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi
# e.g. a rejected post (component=api) or a failed notification
if grep -q 'level=error' "$T/am.log"; then
    fail "Alertmanager logged errors"; grep 'level=error' "$T/am.log" | head -10 >&2
else ok; fi

finish
