#!/usr/bin/env python3
"""A local mock of the parts of GitHub's REST API that driftd uses.

Serves on 127.0.0.1 (port 0 by default: the kernel picks a free one, written
to --port-file once listening):

  POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches
  GET  /repos/{owner}/{repo}/actions/runs/{id}
  GET  /repos/{owner}/{repo}/actions/workflows/{workflow}/runs?event=...&created=...

Every request is checked the way GitHub would see it (docs/alerts.md,
"Retraining through GitHub Actions"; docs/integrations.md): the path and
method; Accept: application/vnd.github+json, Authorization: Bearer
<the expected token>, X-GitHub-Api-Version, a User-Agent, and for the
dispatch Content-Type: application/json; a JSON body {"ref", "inputs"} with
a non-empty ref, at most 25 inputs, every input value a string, inputs under
65,535 characters. A request that breaks a rule is answered as GitHub would
(401, 404, 415, 422) and logged with "valid": false and its "problems".

Answers to dispatches come from a script, one entry per dispatch request, in
order; when the script is used up, --default (204) answers. An entry is
{"status": 500} or with "headers" {...}, "body" (object or string),
"reset_in" (seconds: sets x-ratelimit-reset to now + reset_in) and, for 200,
"run_details": true (the body becomes {"workflow_run_id", "run_url",
"html_url"} of a new run). A 2xx answer creates a run whose display_title
carries the correlation_id input (the shipped retrain.yml's run-name); each
GET of it (or of the runs list) moves it queued -> in_progress -> completed
with --conclusion. Scripts come from --script FILE (a JSON list) or
--respond SPEC (repeatable): STATUS[;key=value...] with keys retry-after,
remaining, reset_in, message, run_details (e.g. "403;retry-after=2;message=You
have exceeded a secondary rate limit"). POST /_mock/script with a JSON list
replaces the rest of the script at run time.

--declared-inputs a,b,c makes the mock answer 422 "Unexpected inputs
provided: [...]" (GitHub's wording) for inputs the workflow does not declare.

Every request goes to --log as one JSON line: t (epoch seconds), method,
path, query, kind (dispatch, run, runs, control, other), headers (the
Authorization value replaced by "<expected token>" or "<other token>"; the
token itself is never written), auth_ok, body (parsed JSON when it is JSON),
valid, problems, status (the answer).

`mock_github.py report LOG` prints one tab-separated line per logged
request for shell tests: kind, status, valid (1/0), t, auth_ok (1/0),
correlation_id (or -), ref (or -), problems joined by "; " (or -).
"""
import argparse
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

MAX_INPUTS = 25
MAX_INPUTS_CHARS = 65535


def parse_spec(spec):
    """STATUS[;key=value...] -> a script entry."""
    parts = spec.split(";")
    entry = {"status": int(parts[0])}
    headers = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        k = k.strip().lower()
        if k == "retry-after":
            headers["retry-after"] = v
        elif k == "remaining":
            headers["x-ratelimit-remaining"] = v
        elif k == "reset_in":
            entry["reset_in"] = float(v)
        elif k == "message":
            entry["body"] = {"message": v,
                             "documentation_url": "https://docs.github.com/rest"}
        elif k == "run_details":
            entry["run_details"] = v.lower() in ("1", "true", "yes")
        else:
            headers[k] = v
    if headers:
        entry["headers"] = headers
    return entry


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.script = []
        self.runs = {}  # id -> {"polls", "title", "created"}
        self.next_run = args.first_run_id
        self.logf = open(args.log, "a", buffering=1)

    def log(self, rec):
        with self.lock:
            self.logf.write(json.dumps(rec, sort_keys=True) + "\n")
            self.logf.flush()

    def next_answer(self):
        with self.lock:
            if self.script:
                return self.script.pop(0)
        return {"status": self.args.default}

    def new_run(self, title):
        with self.lock:
            rid = self.next_run
            self.next_run += 1
            self.runs[rid] = {"polls": 0, "title": title,
                              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            return rid

    def run_json(self, rid, advance=True):
        with self.lock:
            r = self.runs[rid]
            steps = ["queued", "in_progress", "completed"]
            status = steps[min(r["polls"], 2)]
            if advance:
                r["polls"] += 1
        repo = self.args.repository
        return {
            "id": rid,
            "name": "retrain",
            "display_title": r["title"],
            "event": "workflow_dispatch",
            "status": status,
            "conclusion": self.args.conclusion if status == "completed" else None,
            "created_at": r["created"],
            "html_url": "https://github.com/%s/actions/runs/%d" % (repo, rid),
            "url": "%s/repos/%s/actions/runs/%d" % (self.base_url, repo, rid),
        }


def make_handler(state):
    args = state.args
    repo = re.escape(args.repository)
    wf = re.escape(args.workflow)
    re_dispatch = re.compile(r"^/repos/%s/actions/workflows/%s/dispatches$" % (repo, wf))
    re_run = re.compile(r"^/repos/%s/actions/runs/(\d+)$" % repo)
    re_runs = re.compile(r"^/repos/%s/actions/workflows/%s/runs$" % (repo, wf))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "mock-github/1"

        def log_message(self, fmt, *a):  # quiet: the JSON log is the record
            pass

        def _headers_for_log(self):
            out = {}
            for k, v in self.headers.items():
                if k.lower() == "authorization":
                    out[k] = "<expected token>" if self._auth_ok() else "<other token>"
                else:
                    out[k] = v
            return out

        def _auth_ok(self):
            return self.headers.get("Authorization") == "Bearer " + args.token

        def _common_problems(self):
            p = []
            if self.headers.get("Accept") != "application/vnd.github+json":
                p.append("Accept is %r" % self.headers.get("Accept"))
            if self.headers.get("X-GitHub-Api-Version") != args.api_version:
                p.append("X-GitHub-Api-Version is %r" % self.headers.get("X-GitHub-Api-Version"))
            ua = self.headers.get("User-Agent")
            if not ua or not re.match(args.user_agent, ua):
                p.append("User-Agent is %r" % ua)
            if not self._auth_ok():
                p.append("Authorization is not Bearer <expected token>")
            if len(self.headers.get_all("Authorization") or []) > 1:
                p.append("more than one Authorization header")
            return p

        def _send(self, status, body=None, headers=None):
            data = b""
            if body is not None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            if status != 204:
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if status != 204 and data:
                self.wfile.write(data)

        def _read_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n > 0 else b""
            return raw

        def _record(self, kind, status, body, problems, extra=None):
            u = urllib.parse.urlsplit(self.path)
            rec = {
                "t": time.time(),
                "method": self.command,
                "path": u.path,
                "query": urllib.parse.parse_qs(u.query),
                "kind": kind,
                "headers": self._headers_for_log(),
                "auth_ok": self._auth_ok(),
                "body": body,
                "valid": not problems,
                "problems": problems,
                "status": status,
            }
            if extra:
                rec.update(extra)
            state.log(rec)

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            raw = self._read_body()
            if u.path == "/_mock/script":
                try:
                    script = json.loads(raw)
                    assert isinstance(script, list)
                except Exception as e:  # noqa: BLE001
                    self._send(400, {"message": "bad script: %s" % e})
                    return
                with state.lock:
                    state.script = script
                self._record("control", 204, script, [])
                self._send(204)
                return
            try:
                body = json.loads(raw.decode("utf-8")) if raw else None
            except Exception:  # noqa: BLE001
                body = raw.decode("utf-8", "replace")
            if not re_dispatch.match(u.path):
                problems = ["POST to an unknown path %s" % u.path]
                self._record("other", 404, body, problems)
                self._send(404, {"message": "Not Found"})
                return
            problems = self._common_problems()
            ctype = self.headers.get("Content-Type") or ""
            if ctype.split(";")[0].strip().lower() != "application/json":
                problems.append("Content-Type is %r" % ctype)
            if u.query:
                problems.append("unexpected query %r" % u.query)
            if not isinstance(body, dict):
                problems.append("body is not a JSON object")
            else:
                extra_keys = sorted(set(body) - {"ref", "inputs", "return_run_details"})
                if extra_keys:
                    problems.append("unexpected body keys %s" % extra_keys)
                ref = body.get("ref")
                if not isinstance(ref, str) or not ref:
                    problems.append("ref missing or not a non-empty string")
                elif args.ref and ref != args.ref:
                    problems.append("ref is %r, want %r" % (ref, args.ref))
                inputs = body.get("inputs", {})
                if not isinstance(inputs, dict):
                    problems.append("inputs is not an object")
                else:
                    if len(inputs) > MAX_INPUTS:
                        problems.append("%d inputs, at most %d" % (len(inputs), MAX_INPUTS))
                    for k, v in inputs.items():
                        if not isinstance(v, str):
                            problems.append("input %s is %s, not a string"
                                            % (k, type(v).__name__))
                    if len(json.dumps(inputs)) >= MAX_INPUTS_CHARS:
                        problems.append("inputs longer than %d characters" % MAX_INPUTS_CHARS)
            corr = None
            if isinstance(body, dict) and isinstance(body.get("inputs"), dict):
                corr = body["inputs"].get("correlation_id")
            # Broken requests get GitHub's own answers, before the script.
            if not self._auth_ok():
                self._record("dispatch", 401, body, problems)
                self._send(401, {"message": "Bad credentials",
                                 "documentation_url": "https://docs.github.com/rest"})
                return
            if problems:
                self._record("dispatch", 422, body, problems)
                self._send(422, {"message": "Invalid request. " + "; ".join(problems),
                                 "documentation_url": "https://docs.github.com/rest"})
                return
            if args.declared_inputs is not None:
                unexpected = sorted(set(body.get("inputs", {})) - set(args.declared_inputs))
                if unexpected:
                    msg = "Unexpected inputs provided: %s" % json.dumps(unexpected)
                    self._record("dispatch", 422, body, [], {"correlation_id": corr})
                    self._send(422, {"message": msg, "documentation_url":
                                     "https://docs.github.com/rest/actions/workflows"
                                     "#create-a-workflow-dispatch-event", "status": "422"})
                    return
            ans = state.next_answer()
            status = int(ans.get("status", 204))
            headers = dict(ans.get("headers", {}))
            if "reset_in" in ans:
                headers["x-ratelimit-reset"] = str(int(time.time() + float(ans["reset_in"])))
                headers.setdefault("x-ratelimit-remaining", "0")
            out = ans.get("body")
            run_id = None
            if 200 <= status < 300:
                title = "Retrain %s (%s)" % (body.get("inputs", {}).get("model", "?"),
                                              corr or "no correlation id")
                run_id = state.new_run(title)
                if status == 200 and (ans.get("run_details") or out is None):
                    out = {"workflow_run_id": run_id,
                           "run_url": "%s/repos/%s/actions/runs/%d"
                           % (state.base_url, args.repository, run_id),
                           "html_url": "https://github.com/%s/actions/runs/%d"
                           % (args.repository, run_id)}
            self._record("dispatch", status, body, [],
                         {"correlation_id": corr, "run_id": run_id})
            self._send(status, out if status != 204 else None, headers)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            self._read_body()
            problems = self._common_problems()
            m = re_run.match(u.path)
            if m:
                rid = int(m.group(1))
                if problems:
                    self._record("run", 401 if not self._auth_ok() else 422, None, problems)
                    self._send(401 if not self._auth_ok() else 422, {"message": "Bad request"})
                    return
                if rid not in state.runs:
                    self._record("run", 404, None, ["unknown run %d" % rid])
                    self._send(404, {"message": "Not Found"})
                    return
                run = state.run_json(rid)
                self._record("run", 200, None, [], {"run_status": run["status"]})
                self._send(200, run)
                return
            if re_runs.match(u.path):
                q = urllib.parse.parse_qs(u.query)
                if q.get("event") != ["workflow_dispatch"]:
                    problems.append("runs list without event=workflow_dispatch: %r" % u.query)
                created = (q.get("created") or [""])[0]
                if not re.match(r"^>=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", created):
                    problems.append("runs list created filter is %r" % created)
                if problems:
                    self._record("runs", 422, None, problems)
                    self._send(422, {"message": "Validation Failed"})
                    return
                with state.lock:
                    ids = sorted(state.runs, reverse=True)
                runs = [state.run_json(i) for i in ids]
                self._record("runs", 200, None, [], {"runs": len(runs)})
                self._send(200, {"total_count": len(runs), "workflow_runs": runs})
                return
            self._record("other", 404, None, ["GET of an unknown path %s" % u.path])
            self._send(404, {"message": "Not Found"})

        def do_PUT(self):
            self._read_body()
            self._record("other", 404, None, ["PUT %s" % self.path])
            self._send(404, {"message": "Not Found"})

        do_DELETE = do_PUT
        do_PATCH = do_PUT

    return Handler


def report(path):
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            body = r.get("body") if isinstance(r.get("body"), dict) else {}
            inputs = body.get("inputs") if isinstance(body.get("inputs"), dict) else {}
            corr = inputs.get("correlation_id") if isinstance(inputs, dict) else None
            print("\t".join([
                r["kind"], str(r["status"]), "1" if r["valid"] else "0", "%.3f" % r["t"],
                "1" if r["auth_ok"] else "0", str(corr) if corr else "-",
                str(body.get("ref")) if body.get("ref") else "-",
                "; ".join(r["problems"]) if r["problems"] else "-"]))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "report":
        report(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--token-file", required=True, help="file holding the expected token")
    ap.add_argument("--repository", default="owner/repo")
    ap.add_argument("--workflow", default="retrain.yml")
    ap.add_argument("--ref", default=None, help="the ref dispatches must name")
    ap.add_argument("--api-version", default="2022-11-28")
    ap.add_argument("--user-agent", default=r"^driftd/\d", help="regex the User-Agent must match")
    ap.add_argument("--script", help="JSON list of answers to dispatches")
    ap.add_argument("--respond", action="append", default=[], help="STATUS[;k=v...]")
    ap.add_argument("--default", type=int, default=204)
    ap.add_argument("--conclusion", default="success")
    ap.add_argument("--first-run-id", type=int, default=7001)
    ap.add_argument("--declared-inputs", type=lambda s: [x for x in s.split(",") if x])
    args = ap.parse_args()
    with open(args.token_file) as f:
        args.token = f.read().strip()
    state = State(args)
    if args.script:
        with open(args.script) as f:
            state.script = json.load(f)
    state.script += [parse_spec(s) for s in args.respond]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    srv.daemon_threads = True
    port = srv.server_address[1]
    state.base_url = "http://127.0.0.1:%d" % port
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
