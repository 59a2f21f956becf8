#!/usr/bin/python3
"""Check the Prometheus rules and the Grafana dashboard of contrib/ against
what a driftd binary exports; tests/integration/test_contrib.sh runs it in
`make test`, and it serves anyone who edits those files.

  check.py dashboard-rules DASHBOARD OUT
      Write every PromQL expression of DASHBOARD (panel targets, annotations,
      template variable queries), with the Grafana variables replaced by
      values of the right kind, as recording rules into OUT, so that
      `promtool check rules OUT` parses each one.
  check.py names METRICS RULES TESTS DASHBOARD
      Fail naming each metric that a rule, a rule test or the dashboard uses
      and that driftd does not export. METRICS is the text of driftd's
      GET /metrics: its # HELP and # TYPE lines and its samples.
  check.py lint RULES TESTS DASHBOARD
      Fail on what promtool does not check: the alerts the contract names,
      each with severity, summary and description; each alert tested both
      firing and quiet; the dashboard importable (a DS_PROMETHEUS input used
      by every panel, a `model` variable, panel ids and grid) and showing
      what it must (drift share with its threshold, p-values, scores,
      records in and rejected, alert and dispatch counters, baseline info).
  check.py selftest
      Check the PromQL name reader and the YAML reader on known cases.

Only Python's standard library: the YAML of the two rule files is read by a
small reader of the block style they are written in, which refuses what it
does not know rather than guess (PyYAML, where installed, cross-checks it).
"""
import json
import re
import sys

# --- a reader for the block-style YAML of the rule files ---------------------


class YamlError(Exception):
    pass


def _strip_comment(text):
    """The line without a trailing # comment (one outside quotes)."""
    quote = None
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


def _scalar(text, where):
    """A flow scalar: quoted, an empty flow sequence or map, or plain."""
    t = text.strip()
    if t.startswith('"'):
        if not t.endswith('"') or len(t) < 2:
            raise YamlError(f"{where}: unterminated double-quoted string")
        return json.loads(t)  # the escapes used here are JSON's
    if t.startswith("'"):
        if not t.endswith("'") or len(t) < 2:
            raise YamlError(f"{where}: unterminated single-quoted string")
        return t[1:-1].replace("''", "'")
    if t == "[]":
        return []
    if t == "{}":
        return {}
    if t.startswith("[") and t.endswith("]"):
        return [_scalar(x, where) for x in t[1:-1].split(",")]
    if t[:1] in "{&*!|>%@`":
        raise YamlError(f"{where}: YAML this reader does not know: {t[:30]}")
    if re.fullmatch(r"-?[0-9]+", t):
        return int(t)
    if re.fullmatch(r"-?[0-9]*\.[0-9]+([eE][-+]?[0-9]+)?", t):
        return float(t)
    if t in ("true", "false"):
        return t == "true"
    if t in ("null", "~"):
        return None
    return t


class _Lines:
    """The meaningful lines of a document, with their indentation."""

    def __init__(self, text, name):
        self.name = name
        self.raw = text.split("\n")
        self.items = []  # (line number, indent, content) of meaningful lines
        for n, line in enumerate(self.raw, 1):
            if "\t" in line[: len(line) - len(line.lstrip())]:
                raise YamlError(f"{name}:{n}: a tab in the indentation")
            content = _strip_comment(line)
            if content.strip():
                self.items.append((n, len(content) - len(content.lstrip()), content.strip()))
        self.pos = 0

    def peek(self):
        """The next line not yet read, or None."""
        return self.items[self.pos] if self.pos < len(self.items) else None


def _block_scalar(lines, style, parent_indent, n):
    """A literal (|) or folded (>) block scalar after line n."""
    m = re.fullmatch(r"([|>])([-+]?)", style)
    if not m:
        raise YamlError(f"{lines.name}:{n}: block scalar header {style!r} not known")
    body = []
    raw_n = n  # 1-based number of the header line; raw[raw_n] is the next
    indent = None
    while raw_n < len(lines.raw):
        line = lines.raw[raw_n]
        if line.strip():
            ind = len(line) - len(line.lstrip())
            if ind <= parent_indent:
                break
            if indent is None:
                indent = ind
            if ind < indent:
                raise YamlError(f"{lines.name}:{raw_n + 1}: block scalar less indented than its first line")
            body.append(line[indent:])
        else:
            body.append("")
        raw_n += 1
    while body and body[-1] == "":
        body.pop()
    while lines.peek() is not None and lines.peek()[0] <= raw_n:
        lines.pos += 1
    if m.group(1) == "|":
        text = "\n".join(body)
    else:  # folded: lines of a paragraph joined by spaces
        paras, cur = [], []
        for b in body:
            if b == "":
                paras.append(" ".join(cur))
                cur = []
            else:
                cur.append(b)
        paras.append(" ".join(cur))
        text = "\n".join(paras)
    return text if m.group(2) == "-" else text + "\n"


def _node(lines, indent):
    """The block (mapping or sequence) whose lines start at column indent."""
    first = lines.peek()
    if first is None or first[1] != indent:
        raise YamlError(f"{lines.name}: expected a block at column {indent + 1}")
    if first[2] == "-" or first[2].startswith("- "):
        return _sequence(lines, indent)
    return _mapping(lines, indent)


def _value(lines, rest, indent, n, key_is_seq_item=False):
    """The value after `key:` (rest, on line n), nested or inline."""
    if rest == "":
        nxt = lines.peek()
        if nxt is None:
            return None
        if nxt[1] > indent:
            return _node(lines, nxt[1])
        if nxt[1] == indent and nxt[2].startswith("- ") and not key_is_seq_item:
            return _sequence(lines, indent)
        return None
    if rest[0] in "|>":
        return _block_scalar(lines, rest, indent, n)
    return _scalar(rest, f"{lines.name}:{n}")


_KEY = re.compile(r"""("(?:[^"\\]|\\.)*"|'[^']*'|[^"'#:\s][^:#]*?)\s*:(?:\s+(.*)|$)""")


def _mapping(lines, indent):
    """A block mapping whose keys start at column indent."""
    out = {}
    while True:
        item = lines.peek()
        if item is None or item[1] < indent:
            return out
        n, ind, content = item
        if ind > indent:
            raise YamlError(f"{lines.name}:{n}: unexpected indentation")
        if content.startswith("- "):
            return out
        m = _KEY.fullmatch(content)
        if not m:
            raise YamlError(f"{lines.name}:{n}: expected `key: value`, found {content[:40]!r}")
        key = _scalar(m.group(1), f"{lines.name}:{n}")
        if key in out:
            raise YamlError(f"{lines.name}:{n}: key {key!r} twice")
        lines.pos += 1
        out[key] = _value(lines, (m.group(2) or "").strip(), indent, n)


def _sequence(lines, indent):
    """A block sequence whose dashes are at column indent."""
    out = []
    while True:
        item = lines.peek()
        if item is None or item[1] < indent:
            return out
        n, ind, content = item
        if ind != indent or not (content == "-" or content.startswith("- ")):
            if ind > indent:
                raise YamlError(f"{lines.name}:{n}: unexpected indentation")
            return out
        rest = content[1:].strip()
        if rest == "":
            lines.pos += 1
            nxt = lines.peek()
            out.append(_node(lines, nxt[1]) if nxt and nxt[1] > indent else None)
        elif _KEY.fullmatch(rest):
            # "- key: value": a mapping whose first line is this one, at the
            # column of its key.
            col = indent + (len(content) - len(rest))
            lines.items[lines.pos] = (n, col, rest)
            out.append(_mapping(lines, col))
        else:
            lines.pos += 1
            out.append(_scalar(rest, f"{lines.name}:{n}"))


def load_yaml(path):
    """The document in path, a mapping in block style."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = _Lines(text, path)
    if lines.peek() is None:
        raise YamlError(f"{path}: empty")
    doc = _node(lines, lines.peek()[1])
    if lines.peek() is not None:
        raise YamlError(f"{path}:{lines.peek()[0]}: not read (indentation?)")
    try:  # where PyYAML is installed, it must read the same document
        import yaml
    except ImportError:
        return doc
    with open(path, encoding="utf-8") as f:
        ref = yaml.safe_load(f)
    if ref != doc:
        raise YamlError(f"{path}: this reader and PyYAML disagree; simplify the YAML")
    return doc


# --- metric names in PromQL ---------------------------------------------------

_AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                 "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)
               (?:(?:ms|[smhdwy])(?:[0-9]+(?:ms|[smhdwy]))*)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<open>[({\[])
  | (?P<close>[)}\]])
  | (?P<op>==|!=|=~|!~|<=|>=|[-+*/%^<>=,@])
""", re.X)


class PromqlError(Exception):
    pass


def _tokens(expr):
    """The PromQL tokens of expr, spaces left out."""
    out, i = [], 0
    while i < len(expr):
        m = _TOKEN.match(expr, i)
        if not m:
            raise PromqlError(f"cannot read {expr[i:i + 20]!r} in {expr!r}")
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group()))
        i = m.end()
    return out


def _skip_group(toks, i):
    """The index after the bracket group that opens at toks[i]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    stack = [pairs[toks[i][1]]]
    i += 1
    while stack:
        if i >= len(toks):
            raise PromqlError("unbalanced brackets")
        kind, text = toks[i]
        if kind == "open":
            stack.append(pairs[text])
        elif kind == "close":
            if text != stack.pop():
                raise PromqlError("mismatched brackets")
        i += 1
    return i


def metric_names(expr):
    """The metric names a PromQL expression selects (by name or __name__)."""
    toks = _tokens(expr)
    names = set()
    depth = 0
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else (None, None)
        if kind == "open" and text == "{":
            # label matchers: only __name__="x" names a metric
            j, end = i + 1, _skip_group(toks, i)
            while j < end - 1:
                if toks[j] == ("ident", "__name__"):
                    if toks[j + 1] == ("op", "=") and toks[j + 2][0] == "string":
                        names.add(toks[j + 2][1][1:-1])
                    else:
                        raise PromqlError(f"a __name__ matcher other than = cannot be checked: {expr!r}")
                j += 1
            i = end
        elif kind == "open" and text == "[":
            i = _skip_group(toks, i)  # a range or a subquery's resolution
        elif kind == "ident" and text in _LABEL_LISTS:
            i = _skip_group(toks, i + 1) if nxt == ("open", "(") else i + 1
        elif kind == "ident" and (nxt == ("open", "(") or text.lower() in _KEYWORDS or
                                  (text in _AGGREGATIONS and nxt[1] in ("by", "without"))):
            i += 1  # a function, an aggregation or a keyword
        elif kind == "ident":
            names.add(text)
            i += 1
        elif kind in ("open", "close"):
            depth += 1 if text == "(" else -1
            if depth < 0 or text not in "()":
                raise PromqlError(f"unbalanced brackets in {expr!r}")
            i += 1
        else:
            i += 1
    if depth != 0:
        raise PromqlError(f"unbalanced brackets in {expr!r}")
    return names


# --- the dashboard's expressions ------------------------------------------------


def _variables(dash):
    """Each template variable's stand-in value, for checking expressions."""
    out = {}
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") in ("textbox", "constant", "custom"):
            q = v.get("query", "")
            out[v["name"]] = q.split(",")[0].strip() if isinstance(q, str) else ""
        else:
            out[v["name"]] = ".+"  # used inside a regex matcher
    return out


def substitute(expr, variables, where):
    """expr with Grafana's variables replaced by values of the right kind."""

    def one(m):
        name = m.group(1) or m.group(2) or m.group(3) or m.group(4)
        if name.startswith("__"):
            if name.endswith("_ms"):
                return "300000"
            if name.endswith("_s"):
                return "300"
            return "5m"  # $__interval, $__rate_interval, $__range
        if name not in variables:
            raise PromqlError(f"{where}: ${name} is not a template variable of the dashboard")
        return variables[name]

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(__\w+)|\$(\w+)", one, expr)


def _walk(node, path):
    """Every mapping inside node, innermost first, with its path."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}")
        yield path, node
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def _panels(dash):
    """Every panel, those inside rows too."""
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])


def dashboard_exprs(dash):
    """(where, PromQL) of every expression of the dashboard, substituted."""
    variables = _variables(dash)
    out, seen = [], set()
    for p in _panels(dash):
        for t in p.get("targets", []):
            if isinstance(t.get("expr"), str):
                where = f"panel {p.get('title')!r} query {t.get('refId')}"
                out.append((where, substitute(t["expr"], variables, where)))
                seen.add(id(t))
    for a in dash.get("annotations", {}).get("list", []):
        if isinstance(a.get("expr"), str):
            where = f"annotation {a.get('name')!r}"
            out.append((where, substitute(a["expr"], variables, where)))
            seen.add(id(a))
    # an expression anywhere else (a library panel, a new place in a schema)
    for path, obj in _walk({k: v for k, v in dash.items() if k != "templating"}, "dashboard"):
        if isinstance(obj.get("expr"), str) and id(obj) not in seen:
            out.append((path, substitute(obj["expr"], variables, path)))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else q
        where = f"templating variable {v.get('name')}"
        m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", q or "") or \
            re.fullmatch(r"\s*query_result\((.*)\)\s*", q or "")
        if not m:
            raise PromqlError(f"{where}: query {q!r} is neither label_values(SELECTOR, LABEL) nor query_result(EXPR)")
        out.append((where, substitute(m.group(1), variables, where)))
    return out


def cmd_dashboard_rules(dash_path, out_path):
    """Write the dashboard's expressions as a rules file for promtool."""
    with open(dash_path, encoding="utf-8") as f:
        dash = json.load(f)
    exprs = dashboard_exprs(dash)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("# Every PromQL expression of %s, for promtool check rules.\n" % dash_path)
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (where, expr) in enumerate(exprs, 1):
            f.write(f"      # {where}\n")
            f.write(f"      - record: dashboard:expr_{i}\n")
            f.write(f"        expr: {json.dumps(expr)}\n")
    print(f"{len(exprs)} expressions of {dash_path} written to {out_path}")
    return 0


# --- names ------------------------------------------------------------------------

# Series Prometheus makes itself for every target: no exporter sends them.
PROMETHEUS_SERIES = {"up"}


def exported_names(metrics_text):
    """Names in a /metrics text: # HELP and # TYPE lines and samples."""
    names = set()
    for line in metrics_text.splitlines():
        m = re.match(r"#\s+(?:HELP|TYPE)\s+([A-Za-z_:][A-Za-z0-9_:]*)", line)
        if m:
            names.add(m.group(1))
        elif line and not line.startswith("#"):
            m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)", line)
            if m:
                names.add(m.group(1))
    return names


def _rules(rules):
    """(group name, rule) of every rule of a rules document."""
    for g in rules.get("groups") or []:
        for r in g.get("rules") or []:
            yield g.get("name"), r


def cmd_names(metrics_path, rules_path, tests_path, dash_path):
    """Fail on each metric name used that driftd does not export."""
    with open(metrics_path, encoding="utf-8") as f:
        exported = exported_names(f.read())
    if not any(n.startswith("driftd_") for n in exported):
        print(f"check.py: {metrics_path} holds no driftd_ metric: is it driftd's /metrics?", file=sys.stderr)
        return 1
    rules, tests = load_yaml(rules_path), load_yaml(tests_path)
    with open(dash_path, encoding="utf-8") as f:
        dash = json.load(f)
    recorded = {r["record"] for _, r in _rules(rules) if "record" in r}
    uses = []  # (where, expr or series, the names it may use besides driftd's)
    for g, r in _rules(rules):
        uses.append((f"{rules_path}: {r.get('alert') or r.get('record')}", r.get("expr", ""), recorded))
    for t in tests.get("tests") or []:
        for s in t.get("input_series") or []:
            uses.append((f"{tests_path}: test {t.get('name')!r} input series", s.get("series", ""), recorded))
        for e in t.get("promql_expr_test") or []:
            uses.append((f"{tests_path}: test {t.get('name')!r} promql_expr_test", e.get("expr", ""), recorded))
    for where, expr in dashboard_exprs(dash):
        uses.append((f"{dash_path}: {where}", expr, set()))
    bad, used = [], set()
    for where, expr, allowed in uses:
        for name in sorted(metric_names(expr)):
            used.add(name)
            if name in exported or name in PROMETHEUS_SERIES or name in allowed:
                continue
            why = "recorded by the rules: the dashboard must work without them" if name in recorded else \
                "driftd does not export it"
            if f"{where}: {name}: {why}" not in bad:
                bad.append(f"{where}: {name}: {why}")
    for b in bad:
        print(f"check.py: {b}", file=sys.stderr)
    print(f"{len(uses)} expressions use {len(used)} names; {len(exported)} exported by driftd; "
          f"{len(bad)} unknown")
    return 1 if bad else 0


# --- lint -------------------------------------------------------------------------

ALERTS = ["DataDriftDetected", "FeatureDrift", "DriftdDown", "DriftdAlertsFailing",
          "DriftdIngestRejecting", "DriftdRetrainFailed"]
# What the dashboard must show, by the metrics that carry it.
DASHBOARD_SHOWS = {
    "drift share": "driftd_dataset_drift_share",
    "per-feature p-values": "driftd_feature_p_value",
    "per-feature scores": "driftd_feature_score",
    "records in": "driftd_records_received_total",
    "records rejected": "driftd_records_rejected_total",
    "alert counters": "driftd_alerts_sent_total",
    "dispatch counters": "driftd_retrain_dispatches_total",
    "baseline info": "driftd_baseline_info",
}


def lint(rules_path, tests_path, dash_path):
    """The problems found, as messages."""
    errs = []
    rules, tests = load_yaml(rules_path), load_yaml(tests_path)
    alerts = {}
    for g, r in _rules(rules):
        if "alert" in r:
            if r["alert"] in alerts:
                errs.append(f"{rules_path}: alert {r['alert']} twice")
            alerts[r["alert"]] = r
            ann, lab = r.get("annotations") or {}, r.get("labels") or {}
            for a in ("summary", "description"):
                if not str(ann.get(a, "")).strip():
                    errs.append(f"{rules_path}: alert {r['alert']} has no {a} annotation")
            if lab.get("severity") not in ("critical", "warning", "info"):
                errs.append(f"{rules_path}: alert {r['alert']}: severity label {lab.get('severity')!r} "
                            "is not critical, warning or info")
    for a in ALERTS:
        if a not in alerts:
            errs.append(f"{rules_path}: alert {a} is missing")
    fires, quiet = set(), set()
    for t in tests.get("tests") or []:
        for at in t.get("alert_rule_test") or []:
            (fires if at.get("exp_alerts") else quiet).add(at.get("alertname"))
    for a in alerts:
        if a not in fires:
            errs.append(f"{tests_path}: no test where alert {a} fires")
        if a not in quiet:
            errs.append(f"{tests_path}: no test where alert {a} stays quiet")

    with open(dash_path, encoding="utf-8") as f:
        dash = json.load(f)
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        errs.append(f"{dash_path}: schemaVersion {dash.get('schemaVersion')!r}, want 36 or more")
    inputs = [i for i in dash.get("__inputs", []) if i.get("name") == "DS_PROMETHEUS"]
    if not inputs or inputs[0].get("type") != "datasource" or inputs[0].get("pluginId") != "prometheus":
        errs.append(f"{dash_path}: no __inputs entry DS_PROMETHEUS (a prometheus datasource)")
    names = [v.get("name") for v in dash.get("templating", {}).get("list", [])]
    if "model" not in names:
        errs.append(f"{dash_path}: no template variable `model`")
    panels = list(_panels(dash))
    ids, cells = set(), {}
    for p in panels:
        title = p.get("title", "?")
        if p.get("id") in ids or not isinstance(p.get("id"), int):
            errs.append(f"{dash_path}: panel {title!r}: id {p.get('id')!r} missing or taken")
        ids.add(p.get("id"))
        gp = p.get("gridPos", {})
        if not all(isinstance(gp.get(k), int) for k in "xywh") or gp["x"] + gp["w"] > 24:
            errs.append(f"{dash_path}: panel {title!r}: gridPos {gp} is not within 24 columns")
            continue
        for x in range(gp["x"], gp["x"] + gp["w"]):
            for y in range(gp["y"], gp["y"] + gp["h"]):
                if (x, y) in cells:
                    errs.append(f"{dash_path}: panels {cells[(x, y)]!r} and {title!r} overlap")
                    break
                cells[(x, y)] = title
            else:
                continue
            break
        if p.get("type") == "row":
            continue
        targets = p.get("targets", [])
        if not targets:
            errs.append(f"{dash_path}: panel {title!r} has no query")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            errs.append(f"{dash_path}: panel {title!r}: refIds {refs} are not distinct")
        for o in [p] + targets:
            if (o.get("datasource") or {}).get("uid") != "${DS_PROMETHEUS}":
                errs.append(f"{dash_path}: panel {title!r}: datasource {o.get('datasource')} is not ${{DS_PROMETHEUS}}")
                break
    exprs = dashboard_exprs(dash)
    for what, metric in DASHBOARD_SHOWS.items():
        if not any(metric in metric_names(e) for _, e in exprs):
            errs.append(f"{dash_path}: no panel shows {what} ({metric})")
    share_panels = [p for p in panels if any("driftd_dataset_drift_share" in (t.get("expr") or "")
                                             for t in p.get("targets", [])) and p.get("type") == "timeseries"]
    if not any(any("$drift_share" in (t.get("expr") or "") for t in p["targets"]) for p in share_panels):
        errs.append(f"{dash_path}: no time series of the drift share draws the threshold ($drift_share)")
    return errs


def cmd_lint(rules_path, tests_path, dash_path):
    """Print lint()'s problems; fail if there is one."""
    errs = lint(rules_path, tests_path, dash_path)
    for e in errs:
        print(f"check.py: {e}", file=sys.stderr)
    print(f"lint: {len(errs)} problems")
    return 1 if errs else 0


# --- selftest ---------------------------------------------------------------------


def cmd_selftest():
    """Check the readers on cases whose answers are known."""
    cases = [
        ('sum by (model) (rate(driftd_a_total{x="y",z=~"w"}[5m]))', {"driftd_a_total"}),
        ('sum(rate(a[5m])) by (job) / on (job) group_left (version) b offset 1h', {"a", "b"}),
        ('a and ignoring (test) b == 1 or absent(up{job="driftd"})', {"a", "b", "up"}),
        ('max_over_time(a[1h:5m]) > bool 0.5e-3 unless c @ start()', {"a", "c"}),
        ('{__name__="named", job="x"} + count without (feature) (d)', {"named", "d"}),
        ('label_replace(x > 0, "by", "sum", "", "") * Inf + NaN - vector(0.5)', {"x"}),
        ('topk(5, sum without (input, reason) (m:rec:rate5m))', {"m:rec:rate5m"}),
        ('time() - (driftd_last_evaluation_timestamp_seconds > 0)', {"driftd_last_evaluation_timestamp_seconds"}),
        ('1h30m', set()),
    ]
    bad = 0
    for expr, want in cases:
        got = metric_names(expr)
        if got != want:
            print(f"selftest: metric_names({expr!r}) = {sorted(got)}, want {sorted(want)}", file=sys.stderr)
            bad += 1
    for expr in ['a{__name__=~"x.*"}', 'rate(a[5m]', 'a{job="$job"} + $x']:
        try:
            metric_names(expr)
            print(f"selftest: metric_names({expr!r}) did not refuse", file=sys.stderr)
            bad += 1
        except PromqlError:
            pass
    v = {"model": ".+", "drift_share": "0.5"}
    got = substitute('vector($drift_share) + a{m=~"${model}"}[$__rate_interval] + [[model]]', v, "t")
    if got != 'vector(0.5) + a{m=~".+"}[5m] + .+':
        print(f"selftest: substitute gave {got!r}", file=sys.stderr)
        bad += 1
    import os
    import tempfile
    doc = ('# c\na:\n  - b: 1\n    c: "x # y"\n    d: |\n      p {x}\n        q\n\n'
           '    e: >-\n      f\n      g\n  - h\nk: []\nl:\n- m\n- n: \'o\'\'p\'\n')
    want = {"a": [{"b": 1, "c": "x # y", "d": "p {x}\n  q\n", "e": "f g"}, "h"], "k": [],
            "l": ["m", {"n": "o'p"}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write(doc)
    try:
        got = load_yaml(f.name)
    finally:
        os.unlink(f.name)
    if got != want:
        print(f"selftest: load_yaml gave {got!r}", file=sys.stderr)
        bad += 1
    print(f"selftest: {len(cases) + 5 - bad} passed, {bad} failed")
    return 1 if bad else 0


def main(argv):
    """Run the subcommand argv names; 2 on a usage error."""
    cmds = {"dashboard-rules": (cmd_dashboard_rules, 2), "names": (cmd_names, 4),
            "lint": (cmd_lint, 3), "selftest": (cmd_selftest, 0)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return cmds[argv[1]][0](*argv[2:])
    except (YamlError, PromqlError, OSError, json.JSONDecodeError) as e:
        print(f"check.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
