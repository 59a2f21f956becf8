#!/usr/bin/env python3
"""Read JSON for the shell tests (lib.sh: json, expect_json, json_is,
jsonl_count, jsonl), so that no test greps JSON text with a regex: a
regex breaks when a member moves or spacing changes, and it can match a
member of the same name elsewhere in the document.

Standard library only (Debian's python3); jq is not a dependency.

  jsonq.py get FILE EXPR...          print each value, one line each
  jsonq.py expect FILE COND...       exit 0 when every COND holds, else
                                     name each one that does not, exit 1
  jsonq.py test FILE COND...         the same, silent (for wait_until)
  jsonq.py count FILE COND...        NDJSON: print how many lines meet
                                     every COND
  jsonq.py lines FILE COND... [-- EXPR...]
                                     NDJSON: the lines meeting every COND,
                                     as they are or as the values of EXPR

FILE "-" is standard input.

EXPR is a path from the top of the document: members by name separated by
dots (alerts.sent), array elements by index ([0], [-1] the last) or by
the first element whose member prints as a value ([type=stdin]), so
inputs[type=stdin].records or features[name=petal_length].drift. An empty
EXPR or "." is the whole document. len(EXPR) is the length of an array,
object or string; type(EXPR) one of object, array, string, number,
boolean, null.

Values print as JSON text, except strings, which print unquoted (so a
string "null" and null print alike; use type() where that matters).
Objects and arrays print compactly, without spaces.

COND is EXPR OP VALUE with OP one of = != (the printed value equals or
not), ~ (a Python regex found in the printed value), >= <= > < (numbers),
or a bare EXPR (the member exists). The first operator outside brackets
splits a COND, so VALUE may hold any character.

A path that does not exist is an error naming the path and what is there
instead (exit 1), so a test fails loudly; in count and lines a COND on a
missing path is just not met, since NDJSON lines differ in shape.
"""
import json
import re
import sys


class Missing(Exception):
    """A path that leads nowhere in the document."""


def fmt(v):
    """The printed form of a value: strings bare, the rest as JSON text."""
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def tokens(expr):
    """Split a path into member names, indexes (int) and selectors (k, v)."""
    out = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c == ".":
            i += 1
        elif c == "[":
            j = expr.find("]", i)
            if j < 0:
                raise ValueError("unclosed [ in path %r" % expr)
            inner = expr[i + 1:j]
            if re.fullmatch(r"-?\d+", inner):
                out.append(int(inner))
            elif "=" in inner:
                k, _, v = inner.partition("=")
                out.append((k, v))
            else:
                raise ValueError("bad [%s] in path %r" % (inner, expr))
            i = j + 1
        else:
            j = i
            while j < n and expr[j] not in ".[":
                j += 1
            out.append(expr[i:j])
            i = j
    return out


def walk(doc, expr):
    """The value at EXPR, with len() and type(); raises Missing."""
    m = re.fullmatch(r"(len|type)\((.*)\)", expr)
    if m:
        v = walk(doc, m.group(2))
        if m.group(1) == "len":
            if not isinstance(v, (list, dict, str)):
                raise Missing("%s is %s, which has no length" % (m.group(2), fmt(v)))
            return len(v)
        return {dict: "object", list: "array", str: "string", bool: "boolean",
                type(None): "null"}.get(type(v), "number")
    v, seen = doc, "the document"
    for t in tokens(expr if expr != "." else ""):
        if isinstance(t, str):
            if not isinstance(v, dict):
                raise Missing("%s: %s is not an object" % (expr, seen))
            if t not in v:
                raise Missing("%s: %s has no member %r (it has: %s)"
                              % (expr, seen, t, ", ".join(v) or "nothing"))
            v = v[t]
            seen = t if seen == "the document" else seen + "." + t
        elif isinstance(t, int):
            if not isinstance(v, list):
                raise Missing("%s: %s is not an array" % (expr, seen))
            if not -len(v) <= t < len(v):
                raise Missing("%s: %s has %d elements, no [%d]" % (expr, seen, len(v), t))
            v = v[t]
            seen += "[%d]" % t
        else:
            k, want = t
            if not isinstance(v, list):
                raise Missing("%s: %s is not an array" % (expr, seen))
            hit = [e for e in v if isinstance(e, dict) and k in e and fmt(e[k]) == want]
            if not hit:
                raise Missing("%s: no element of %s has %s = %s (%s: %s)"
                              % (expr, seen, k, want, k,
                                 ", ".join(fmt(e.get(k)) for e in v if isinstance(e, dict))))
            v = hit[0]
            seen += "[%s=%s]" % (k, want)
    return v


OPS = ("!=", ">=", "<=", "=", "~", ">", "<")


def split_cond(cond):
    """EXPR, OP, VALUE of a COND (OP None for a bare EXPR)."""
    depth = 0
    for i, c in enumerate(cond):
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif depth == 0:
            for op in OPS:
                if cond.startswith(op, i):
                    return cond[:i], op, cond[i + len(op):]
    return cond, None, None


def check(doc, cond):
    """None when COND holds, else why not; raises Missing."""
    expr, op, want = split_cond(cond)
    v = walk(doc, expr)
    got = fmt(v)
    if op is None:
        return None
    if op == "=":
        ok = got == want
    elif op == "!=":
        ok = got != want
    elif op == "~":
        ok = re.search(want, got) is not None
    else:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return "%s is %s, not a number (want %s %s)" % (expr, got, op, want)
        w = float(want)
        ok = {">=": v >= w, "<=": v <= w, ">": v > w, "<": v < w}[op]
    if ok:
        return None
    return "%s is %s, want %s%s" % (expr, got, "" if op == "=" else op + " ", want)


def load(path):
    """The parsed document of FILE (or stdin); exits 2 when it is not JSON."""
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    try:
        return json.loads(text)
    except ValueError as e:
        sys.exit("jsonq: %s is not JSON (%s): %.200r" % (path, e, text))


def ndjson(path):
    """The parsed lines of an NDJSON FILE; exits 2 naming a bad line."""
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    out = []
    for n, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            out.append((line.rstrip("\n"), json.loads(line)))
        except ValueError as e:
            if not line.endswith("\n"):
                break  # a mock is still writing its last line: not there yet
            sys.exit("jsonq: %s line %d is not JSON (%s): %.200r" % (path, n, e, line))
    return out



def meets(doc, conds):
    """Whether a line meets every COND (a missing path does not)."""
    try:
        return all(check(doc, c) is None for c in conds)
    except Missing:
        return False


def main(argv):
    """Dispatch on the mode; exit 1 for a missing path or unmet COND."""
    if len(argv) < 3:
        sys.exit(__doc__)
    mode, path, rest = argv[1], argv[2], argv[3:]
    try:
        if mode == "get":
            doc = load(path)
            for e in rest or ["."]:
                print(fmt(walk(doc, e)))
        elif mode in ("expect", "test"):
            doc = load(path)
            why = []
            for c in rest:
                try:
                    r = check(doc, c)
                except Missing as e:
                    r = str(e)
                if r:
                    why.append(r)
            if why and mode == "expect":
                for w in why:
                    print("%s: %s" % (path, w), file=sys.stderr)
            return 1 if why else 0
        elif mode == "count":
            print(sum(1 for _, d in ndjson(path) if meets(d, rest)))
        elif mode == "lines":
            conds, exprs = rest, []
            if "--" in rest:
                k = rest.index("--")
                conds, exprs = rest[:k], rest[k + 1:]
            for raw, d in ndjson(path):
                if meets(d, conds):
                    if exprs:
                        print("\t".join(fmt(walk(d, e)) for e in exprs))
                    else:
                        print(raw)
        else:
            sys.exit("jsonq: unknown mode %r\n%s" % (mode, __doc__))
    except Missing as e:
        print("jsonq: %s: %s" % (path, e), file=sys.stderr)
        return 1
    except (ValueError, OSError) as e:
        print("jsonq: %s: %s" % (path, e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
