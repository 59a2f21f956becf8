#!/bin/sh
# Alert bodies are valid UTF-8 JSON whatever the feature names: 120 features
# with long Cyrillic, CJK and emoji names (more than Slack's 22-character
# column in bytes, and together far more than the 1,024-byte summary) drift;
# the webhook, Slack and Alertmanager bodies that reach the mock receiver
# must each decode as strict UTF-8 and parse as JSON, with every name whole
# where it is given whole and cut at a character where it is cut. Each
# notification (firing, repeat, resolved) carries an id of its own: the
# webhook's "id", Slack's first block_id. The GitHub dispatch, whose
# ${drifted_features} the daemon cuts to 4,095 bytes, is valid UTF-8 too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
here=$(cd "$(dirname "$0")" && pwd)
need_python "the mock receiver and the checks"
RCV_PID=
GH_PID=
trap 'for p in $DAEMON_PID $RCV_PID $GH_PID; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

# train.csv, drift.csv (every feature shifted), clean.csv; names.txt
"$PY" - "$T" <<'P'
import random, sys
d = sys.argv[1]
words = ["температура_двигателя_датчик", "温度传感器读数平均值", "📈📉🔥_нагрузка_🚀",
         "давление_масла_кПа", "用户会话时长秒数", "ёжик_в_тумане_😀"]
# an odd ASCII prefix puts Cyrillic letters across byte 22
names = ["f%02d_%s" % (i, words[i % len(words)]) for i in range(120)]
# and the first name padded so that a byte cut of the summary (1,023 bytes
# kept of "Data drift on MODEL: 60 of 60 features drifted (a, b, ...")
# falls inside a character, as it did for the webhook and Alertmanager
head = "Data drift on модель-😀: 120 of 120 features drifted ("
while (head + ", ".join(names)).encode("utf-8")[1023] & 0xC0 != 0x80:
    names[0] += "x"
# and a later one so that the dispatch's ${drifted_features} (comma-joined,
# 4,095 bytes kept by the daemon) is cut inside a character too
while ",".join(names).encode("utf-8")[4095] & 0xC0 != 0x80:
    names[50] += "x"
open(d + "/names.txt", "w", encoding="utf-8").write("\n".join(names) + "\n")
def write(path, shift, seed, n=200):
    r = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(names) + "\n")
        for _ in range(n):
            f.write(",".join("%.4f" % (r.gauss(0, 1) + shift) for _ in names) + "\n")
write(d + "/train.csv", 0, 1)
write(d + "/drift.csv", 4, 2)
write(d + "/clean.csv", 0, 3)
P
"$DRIFTD" baseline -i "$T/train.csv" -o "$T/base.json" 2>"$T/err" || { fail "baseline"; cat "$T/err" >&2; }

"$PY" "$here/mock_receiver.py" --port-file "$T/rcv.port" --log "$T/rcv.log" &
RCV_PID=$!
echo "ghp_utf8$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >"$T/gh-token"
chmod 600 "$T/gh-token"
"$PY" "$here/mock_github.py" --port-file "$T/gh.port" --log "$T/gh.log" --token-file "$T/gh-token" --ref main &
GH_PID=$!
wait_until 10 test -s "$T/rcv.port" || { fail "mock receiver did not start"; finish; exit 1; }
wait_until 10 test -s "$T/gh.port" || { fail "mock GitHub did not start"; finish; exit 1; }
rcv="http://127.0.0.1:$(cat "$T/rcv.port")"
cat >"$T/c.json" <<J
{"model": "модель-😀", "baseline": "$T/base.json", "state_dir": "$T/state", "listen": "127.0.0.1:0",
 "window": {"records": 100000, "seconds": 3600, "min_records": 50, "sample": 5000},
 "alerts": {"resolve_after": 1, "repeat_seconds": 1,
            "sinks": [{"type": "webhook", "url": "$rcv/hook"}, {"type": "slack", "url": "$rcv/slack"},
                      {"type": "alertmanager", "url": "$rcv/am"}]},
 "retrain": {"github": {"api_url": "http://127.0.0.1:$(cat "$T/gh.port")", "repository": "owner/repo",
                        "workflow": "retrain.yml", "ref": "main", "token_file": "$T/gh-token"},
             "consecutive": 1, "cooldown_seconds": 86400, "dry_run": false, "follow_seconds": 1}}
J
start_daemon "$T/c.json" || { finish; exit 1; }

# window FILE WHAT: ingest FILE and evaluate the window
window() {
    http POST /v1/ingest -H 'Content-Type: text/csv' --data-binary @"$1"
    expect_code 202 "ingest ($2)"
    http POST /v1/evaluate
    expect_code 200 "evaluate ($2)"
}
posts() { jsonl_count "$T/rcv.log" "path=$1" 2>/dev/null || echo 0; }
at_least() { [ "$(posts "$1")" -ge "$2" ]; }
window "$T/drift.csv" "firing"
expect_body_json dataset.drift=true
wait_until 10 at_least /hook 1 || fail "no firing webhook"
sleep 1.1 # past repeat_seconds: the next drifted window is a reminder
window "$T/drift.csv" "repeat"
wait_until 10 at_least /hook 2 || fail "no repeat webhook"
window "$T/clean.csv" "resolved"
expect_body_json dataset.drift=false
wait_until 10 at_least /hook 3 || fail "no resolved webhook"
wait_until 10 at_least /slack 3 || fail "Slack got $(posts /slack) posts, want 3"
wait_until 10 at_least /am/api/v2/alerts 3 || fail "Alertmanager got $(posts /am/api/v2/alerts) posts, want 3"

"$PY" - "$T/rcv.log" "$T/names.txt" >"$T/check" 2>&1 <<'P' && { ok; cat "$T/check"; } || { fail "alert bodies"; cat "$T/check" >&2; }
import json, re, sys
names = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
errs = []
hook, slack, am = [], [], []
for n, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    r = json.loads(line)
    b = r["body"]
    # the mock keeps the parsed body, or the text when json.loads failed
    # (invalid UTF-8 raises there); re-encoding strictly catches the lone
    # surrogates json.loads lets through: the body was strict UTF-8 JSON
    if isinstance(b, str):
        errs.append("%s #%d: not UTF-8 JSON: %r" % (r["path"], n, b[:120]))
        continue
    try:
        json.dumps(b, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        errs.append("%s #%d: not UTF-8: %s" % (r["path"], n, e))
        continue
    {"/hook": hook, "/slack": slack, "/am/api/v2/alerts": am}[r["path"]].append(b)
uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# webhook: whole names, a summary cut at a name, ids
for b in hook:
    if b["model"] != "модель-😀":
        errs.append("webhook model %r" % b["model"])
    if b["status"] == "firing" and [f["name"] for f in b["features"]] != names:
        errs.append("webhook feature names differ from the baseline's")
    if b["status"] == "firing" and not re.search(r", and \d+ more\)$", b["summary"]):
        errs.append("webhook summary does not end in ', and N more)': %r" % b["summary"][-60:])
    if len(b["summary"].encode("utf-8")) >= 1024:
        errs.append("webhook summary of %d bytes" % len(b["summary"].encode("utf-8")))
ids = [b.get("id") for b in hook]
drift = [b["status"] for b in hook if b["status"] in ("firing", "resolved")]
if drift != ["firing", "firing", "resolved"]:
    errs.append("webhook statuses %s" % [b["status"] for b in hook])
# Slack: the table's name column is 22 characters, cut at a character
table = [x for b in slack for x in b["blocks"] if "```" in x.get("text", {}).get("text", "")]
if not table:
    errs.append("no Slack table")
for t in table:
    rows = t["text"]["text"].strip("`").split("\n")[1:]
    for row, name in zip([x for x in rows if x and not x.startswith("...")], names):
        if row[:22] != name[:22].ljust(22) or row[22] != " ":
            errs.append("Slack row %r for %r" % (row[:30], name))
slack_ids = [b["blocks"][0].get("block_id") for b in slack]
ids += slack_ids
for i in ids:
    if not isinstance(i, str) or not uuid.match(i):
        errs.append("id %r is not a UUIDv4" % (i,))
if len(set(ids)) != len(ids):
    errs.append("ids repeat: %s" % ids)
# Alertmanager: labels carry whole names
feats = {a["labels"].get("feature") for b in am for a in b} - {None}
if feats != set(names):
    errs.append("Alertmanager feature labels differ from the baseline's (%d of %d)" % (len(feats & set(names)), len(names)))
if any("id" in a["annotations"] or "id" in a["labels"] for b in am for a in b):
    errs.append("Alertmanager alerts carry an id (they would differ per post)")
print("\n".join(errs) if errs else "ok: %d webhook, %d Slack, %d Alertmanager bodies; ids %s" % (len(hook), len(slack), len(am), ids))
sys.exit(1 if errs else 0)
P
# the dispatch: GitHub's mock decodes strict UTF-8 JSON ("valid") and the
# drifted features arrive as far as they were kept, cut at a character
dispatched() { [ "$(jsonl_count "$T/gh.log" kind=dispatch)" -ge 1 ]; }
wait_until 10 dispatched || fail "no dispatch"

"$PY" - "$T/gh.log" "$T/names.txt" >"$T/gh-check" 2>&1 <<'P' && ok || { fail "dispatch body"; cat "$T/gh-check" >&2; }
import json, sys
names = ",".join(open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1])
d = [json.loads(l) for l in open(sys.argv[1]) if '"kind": "dispatch"' in l][0]
v = d["body"].get("inputs", {}).get("drifted_features") if isinstance(d["body"], dict) else None
ok = d["valid"] and isinstance(v, str) and len(v) > 1000 and names.startswith(v)
print("ok" if ok else "dispatch %s: %r" % (d["problems"], v if v is None else v[-40:]))
sys.exit(0 if ok else 1)
P
stop_daemon TERM
if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log"; then
    fail "sanitizer report"; grep -A20 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$T/daemon.log" | head -40 >&2
else ok; fi
finish
