#!/usr/bin/python3
"""Checks of test_html_report.sh on what Chromium made of the HTML report
(standard library only).

  html_check.py dom REPORT.json DOM.html
      The DOM Chromium dumped after loading the page, against the JSON
      report of the same run: one summary row and one chart per feature,
      drifted rows first (then p-values ascending), each row's name and
      numbers equal to the JSON's (data-v attributes), one detail block per
      feature with its charts (histogram and ECDFs, or categories), the KS
      distance marked where KS is the test and equal to the ECDFs' gap
      there, the verdict sentence, no script element and nothing that
      loads (src, or an href that leaves the page).
  html_check.py live REPORT.json DOM.html KINDS [ALLOWED-PREFIX]
      The daemon's live page (GET /) after its script ran, against the
      daemon's last report (GET /v1/report/latest): the checks of dom on
      its report part, except that exactly one script (the page's own) is
      allowed and links may go to the daemon (paths from /) or start with
      ALLOWED-PREFIX (the runs' URLs); then one heatmap row per feature,
      drifted ones first, the drift-share chart with its threshold line,
      the status tiles, the timeline holding every event kind of KINDS
      (comma-separated), and the body's data-refreshes (the script
      replaced the content from the daemon at least once).
  html_check.py net NETLOG.json [ORIGIN]
      Chromium's network log (--log-net-log): every request the page made
      (Chromium's own background requests carry the initiator "not an
      origin" and are left out). Prints them; exit 1 when there is one,
      or, with ORIGIN (http://host:port), one to anywhere else.
  html_check.py pdf FILE.pdf
      The page printed: A4 pages (595 x 842 points), more than one.

Exit status: 0 when every check holds, 1 otherwise (each failure printed).
"""

import json
import re
import sys
from html.parser import HTMLParser


class Dom(HTMLParser):
    """Collects the summary rows, the detail blocks and the verdict."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.details = [], []
        self.verdict, self.verdict_attrs = "", {}
        self.scripts, self.loads = 0, []
        self.in_summary = self.in_verdict = False
        self.row = self.detail = None
        self.stack = []
        # the live page's parts
        self.hrows, self.kinds, self.tiles, self.svgs = [], [], [], []
        self.refreshes = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "body":
            self.refreshes = a.get("data-refreshes")
        if tag == "g" and "hrow" in cls:
            self.hrows.append((a.get("data-name"), a.get("data-drift")))
        if tag == "li" and a.get("data-kind"):
            self.kinds.append(a["data-kind"])
        if tag == "div" and "tile" in cls:
            self.tiles.append(a.get("id"))
        if tag in ("svg", "path") and cls:
            self.svgs.append(cls[0])
        if tag == "script":
            self.scripts += 1
        for k in ("src", "srcset", "data", "poster"):
            if k in a and tag != "td" and not k.startswith("data-"):
                self.loads.append(f"<{tag} {k}={a[k]!r}>")
        href = a.get("href") or a.get("xlink:href")
        if href is not None and not href.startswith("#"):
            self.loads.append(f"<{tag} href={href!r}>")
        if tag == "tbody" and a.get("id") == "summary":
            self.in_summary = True
        if tag == "tr" and self.in_summary and "feat" in cls:
            self.row = {"name": a.get("data-name"), "drift": a.get("data-drift"), "minis": 0,
                        "v": {}}
            self.rows.append(self.row)
        if self.row is not None and tag == "td" and "n" in cls and "data-v" in a:
            key = [c for c in cls if c != "n"]
            self.row["v"][key[0] if key else "?"] = a["data-v"]
        if self.row is not None and tag == "svg" and "mini" in cls:
            self.row["minis"] += 1
        if tag == "section" and "detail" in cls:
            self.detail = {"name": a.get("data-name"), "id": a.get("id"), "svgs": [], "ksd": None}
            self.details.append(self.detail)
        if self.detail is not None and tag == "svg":
            self.detail["svgs"].append(cls[0] if cls else "")
        if self.detail is not None and tag == "span" and "ksd" in cls:
            self.detail["ksd"] = a
        if a.get("id") == "verdict":
            self.in_verdict = True
            self.verdict_attrs = a
        if tag not in ("meta", "br", "img", "input", "link", "hr", "path", "rect", "circle",
                       "line"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_summary = False
        if tag == "tr":
            self.row = None
        if tag == "section":
            self.detail = None
        if tag == "p":
            self.in_verdict = False
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self.in_verdict:
            self.verdict += data


failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
    return ok


def same(text, value):
    """A data-v attribute against the JSON value: equal doubles, or both null."""
    if value is None:
        return text == "null"
    try:
        return float(text) == float(value)
    except (TypeError, ValueError):
        return False


def dom(report_path, dom_path, live=None):
    rep = json.load(open(report_path, encoding="utf-8"))
    d = Dom()
    d.feed(open(dom_path, encoding="utf-8").read())
    feats = {f["name"]: f for f in rep["features"]}
    n = len(rep["features"])
    if live is None:
        check(d.scripts == 0, f"{d.scripts} script element(s) in the DOM: a name was not escaped")
        check(not d.loads, f"the page loads something: {d.loads[:5]}")
    else:
        check(d.scripts == 1, f"{d.scripts} script elements in the DOM, want the page's own")
        prefix = live.get("prefix")
        away = [x for x in d.loads
                if not re.search(r"href='/(?!/)", x)
                and not (prefix and f"href={prefix!r}"[:-1] in x)]
        check(not away, f"links leaving the daemon: {away[:5]}")
    # one row and one chart per feature, each name once
    check(len(d.rows) == n, f"{len(d.rows)} summary rows, {n} features")
    names = [r["name"] for r in d.rows]
    check(sorted(names) == sorted(feats), f"row names {names} differ from the report's")
    for r in d.rows:
        check(r["minis"] == 1, f"row {r['name']!r}: {r['minis']} charts")
    # drifted first, then by p-value within a group
    flags = [r["drift"] for r in d.rows]
    check(flags == sorted(flags, key=lambda x: x != "true"), f"drifted rows not first: {flags}")
    for a, b in zip(d.rows, d.rows[1:]):
        fa, fb = feats.get(a["name"]), feats.get(b["name"])
        if fa and fb and fa["drift"] == fb["drift"] and fa["p_value"] is not None \
                and fb["p_value"] is not None:
            check(fa["p_value"] <= fb["p_value"],
                  f"{a['name']!r} (p {fa['p_value']}) before {b['name']!r} (p {fb['p_value']})")
    # the JSON's numbers
    for r in d.rows:
        f = feats.get(r["name"])
        if f is None:
            continue
        check(r["drift"] == ("true" if f["drift"] else "false"), f"{r['name']!r}: drift flag")
        for cls, key in (("stat", "statistic"), ("p", "p_value"), ("thr", "threshold"),
                         ("miss", "missing_rate")):
            check(same(r["v"].get(cls), f[key]),
                  f"{r['name']!r}: {key} {r['v'].get(cls)!r} in the page, {f[key]!r} in the JSON")
    # one detail block per feature, with its charts
    check(len(d.details) == n, f"{len(d.details)} detail blocks, {n} features")
    for det in d.details:
        f = feats.get(det["name"])
        if not check(f is not None, f"detail block of an unknown feature {det['name']!r}"):
            continue
        want = ["hist", "ecdf"] if f["kind"] == "numerical" else ["cats"]
        check(det["svgs"] == want, f"{det['name']!r}: charts {det['svgs']}, want {want}")
        ks = f["metrics"].get("ks")
        if ks is not None and f["kind"] == "numerical":
            a = det["ksd"]
            if check(a is not None, f"{det['name']!r}: KS distance not marked"):
                check(same(a.get("data-v"), ks["statistic"]), f"{det['name']!r}: KS D differs")
                gap = abs(float(a["data-fr"]) - float(a["data-fc"]))
                check(abs(gap - ks["statistic"]) < 1e-12,
                      f"{det['name']!r}: the ECDFs differ by {gap} at the mark, D is "
                      f"{ks['statistic']}")
    # the verdict in words
    ds = rep["dataset"]
    sentence = (f"Dataset drift: {ds['drifted_features']} of {ds['total_features']} features "
                f"(share {ds['share']:.2f}, threshold {ds['drift_share']:.2f})")
    check(sentence in d.verdict, f"verdict {d.verdict.strip()!r} lacks {sentence!r}")
    word = "NO DRIFT" if not ds["drift"] else "DRIFT"
    check((d.verdict.strip().split(" ", 1) + [""])[1].startswith(word), f"verdict word, want {word}")
    check(d.verdict_attrs.get("data-drift") == ("true" if ds["drift"] else "false"),
          "verdict data-drift")
    print(f"dom: {len(d.rows)} rows, {len(d.details)} detail blocks, "
          f"{flags.count('true')} drifted first; verdict: {d.verdict.strip()}")
    if live is not None:
        live_parts(d, feats, live)


def live_parts(d, feats, live):
    """The live page's own parts: heatmap, share chart, status, timeline, refresh."""
    names = [r[0] for r in d.hrows]
    check(sorted(names) == sorted(feats), f"heatmap rows {names}, features {sorted(feats)}")
    flags = [r[1] for r in d.hrows]
    check(flags == sorted(flags, key=lambda x: x != "true"), f"heatmap: drifted not first: {flags}")
    for r in d.hrows:
        f = feats.get(r[0])
        if f is not None:
            check(r[1] == ("true" if f["drift"] else "false"), f"heatmap row {r[0]!r}: drift flag")
    check("sharechart" in d.svgs and "thr" in d.svgs, "no drift-share chart with a threshold line")
    check("heatmap" in d.svgs, "no heatmap")
    for t in ("records-in", "rejected", "sampled", "queue"):
        check(t in d.tiles, f"status tile {t} missing (tiles: {d.tiles})")
    for k in live["kinds"]:
        check(k in d.kinds, f"timeline lacks {k} (has {d.kinds})")
    check(d.refreshes is not None and int(d.refreshes) >= 1,
          f"the script did not refresh the page (data-refreshes={d.refreshes!r})")
    print(f"live: {len(d.hrows)} heatmap rows, timeline {d.kinds}, refreshed {d.refreshes} time(s)")


def net(path, origin=None):
    log = json.load(open(path, encoding="utf-8"))
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    page = []
    for e in log.get("events", []):
        if types.get(e.get("type")) != "URL_REQUEST_START_JOB":
            continue
        p = e.get("params", {})
        if "url" in p and p.get("initiator") != "not an origin":
            page.append(p.get("url"))
    if origin is not None:
        mine = [u for u in page if u == origin or u.startswith(origin + "/")]
        page = [u for u in page if u not in mine]
        check(mine, f"no request to {origin}: the page was not loaded from the daemon")
        print(f"net: {len(mine)} request(s) to the daemon ({origin})")
    for u in page:
        print(f"net: the page requested {u}")
    check(not page, f"{len(page)} request(s) from the page")
    if not page:
        print("net: no request from the page")


def pdf(path):
    data = open(path, "rb").read()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]", data)
    check(len(boxes) > 1, f"{len(boxes)} page(s) printed, want more than one")
    for w, h in boxes:
        check(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5,
              f"a page of {w.decode()} x {h.decode()} points, not A4")
    print(f"pdf: {len(boxes)} pages, first {boxes[0][0].decode()} x {boxes[0][1].decode()} points"
          if boxes else "pdf: no page")


def main(argv):
    if len(argv) >= 2 and argv[1] == "dom" and len(argv) == 4:
        dom(argv[2], argv[3])
    elif len(argv) in (5, 6) and argv[1] == "live":
        dom(argv[2], argv[3], {"kinds": [k for k in argv[4].split(",") if k],
                               "prefix": argv[5] if len(argv) == 6 else None})
    elif len(argv) in (3, 4) and argv[1] == "net":
        net(argv[2], argv[3] if len(argv) == 4 else None)
    elif len(argv) == 3 and argv[1] == "pdf":
        pdf(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
