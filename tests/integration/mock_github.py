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

Runs, their artifacts and the storage host (docs/integrations.md, "The
run's baseline artifact"; what driftd's adoption of a retrained baseline
fetches):

  GET /repos/{owner}/{repo}/actions/runs/{id}/artifacts[?name=N]   kind "artifacts"
  GET /repos/{owner}/{repo}/actions/artifacts/{aid}/zip            kind "zip"
  GET {storage}/blob/{aid}.zip?sig=...&se=EPOCH  (a SECOND server) kind "storage"

Run status: each run is queued, then in_progress, then completed with its
conclusion. By default a step lasts --run-polls GETs of the run (1; the
runs list counts as a GET of each run); with --run-seconds S a step lasts
S seconds from the run's creation instead. Both, and the conclusion, are
taken by each run when it is created, from the flags or the last
POST /_mock/runs.

Artifacts: each run created by a dispatch has one artifact, id run_id*10+1,
named ${model}-${correlation_id} from the dispatch inputs (--artifact-name
TEMPLATE; ${run_id} also works), with size_in_bytes, expired, digest
("sha256:" + the zip's sha256), created_at, expires_at, workflow_run and
archive_download_url (api URL + /repos/.../actions/artifacts/{aid}/zip).
Its zip is read at each download from --artifact-zip FILE (or the control
below); a run without a zip still lists its artifact (size 0) and its
storage download answers 404. The /zip request must carry GitHub's headers
(as every API request); it answers 302 with a Location on the storage host,
valid for 60 seconds. The storage host serves the zip (Content-Type
application/zip) to a request WITHOUT an Authorization header. A request
WITH one is an error of the client under test: it is answered 400, logged
with valid false and the problem, and kept in the error list (below).
Expired signatures are answered 403.

Control (JSON bodies; every control request is logged with kind "control"):
  POST /_mock/script        the dispatch script (above)
  POST /_mock/runs          {"conclusion": "failure", "polls": 2,
                             "seconds": 1.5}: for runs created from now on
                             ("seconds": null goes back to polls)
  POST /_mock/run/{id}      {"status": "completed", "conclusion": "success"}
                             sets a run's state at once
  POST /_mock/artifact      artifact settings for every run (or, with
                             "run_id", for that run only); keys: "zip_path"
                             (file read at each download), "zip_b64" (the
                             bytes), "name" (the name itself, not a
                             template), "expired" (bool), "digest" ("auto",
                             "none" or the string to list), "size_in_bytes"
                             (a number to list instead of the real size),
                             "missing" (bool: the run lists no artifact),
                             "content_type" (of the storage answer; default
                             application/zip)
  POST /_mock/faults        {"artifacts": [ENTRY...], "zip": [...],
                             "storage": [...]}: the next requests of each
                             kind are answered by these entries, in order,
                             before the normal answer; an ENTRY is like a
                             dispatch script entry ({"status": 502,
                             "headers": {...}, "body": ..., "reset_in": S})
  GET  /_mock/errors        {"errors": [...]}: the client's mistakes seen
                             so far (an Authorization header at the storage
                             host); a test asserts it is empty
  GET  /_mock/info          {"api": URL, "storage": URL, "runs": {id:
                             {"status", "conclusion", "artifact"}}}

--storage-port-file FILE receives the storage host's port (the api's goes
to --port-file, written after the storage host listens).
"""
import argparse
import base64
import hashlib
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
        self.runs = {}  # id -> {"polls", "title", "created", "t0", ...}
        self.next_run = args.first_run_id
        self.logf = open(args.log, "a", buffering=1)
        self.run_conf = {"conclusion": args.conclusion, "polls": max(1, args.run_polls),
                         "seconds": args.run_seconds}
        self.artifact_conf = {}  # for every run
        self.faults = {"artifacts": [], "zip": [], "storage": []}
        self.errors = []
        self.storage_url = None

    def log(self, rec):
        with self.lock:
            self.logf.write(json.dumps(rec, sort_keys=True) + "\n")
            self.logf.flush()

    def next_answer(self):
        with self.lock:
            if self.script:
                return self.script.pop(0)
        return {"status": self.args.default}

    def new_run(self, title, inputs=None):
        inputs = inputs or {}
        with self.lock:
            rid = self.next_run
            self.next_run += 1
            name = self.args.artifact_name
            for k, v in list(inputs.items()) + [("run_id", str(rid))]:
                name = name.replace("${%s}" % k, str(v))
            self.runs[rid] = {"polls": 0, "title": title, "t0": time.time(),
                              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "conclusion": self.run_conf["conclusion"],
                              "step_polls": self.run_conf["polls"],
                              "step_seconds": self.run_conf["seconds"],
                              "forced": None, "artifact_name": name, "artifact": {}}
            return rid

    def run_status(self, r):
        """The run's status now (the lock held)."""
        if r["forced"]:
            return r["forced"]
        steps = ["queued", "in_progress", "completed"]
        if r["step_seconds"] is not None:
            return steps[min(int((time.time() - r["t0"]) / max(r["step_seconds"], 1e-3)), 2)]
        return steps[min(r["polls"] // r["step_polls"], 2)]

    def fault(self, kind):
        with self.lock:
            if self.faults.get(kind):
                return self.faults[kind].pop(0)
        return None

    def artifact_of(self, rid):
        """(settings, zip bytes or None) of run rid's artifact."""
        with self.lock:
            conf = dict(self.args.artifact_defaults)
            conf.update(self.artifact_conf)
            conf.update(self.runs[rid]["artifact"])
            name = conf.get("name") or self.runs[rid]["artifact_name"]
        data = None
        if conf.get("zip_b64") is not None:
            data = base64.b64decode(conf["zip_b64"])
        elif conf.get("zip_path"):
            try:
                with open(conf["zip_path"], "rb") as f:
                    data = f.read()
            except OSError:
                data = None
        return conf, name, data

    def artifact_json(self, rid):
        conf, name, data = self.artifact_of(rid)
        if conf.get("missing"):
            return None
        aid = rid * 10 + 1
        repo = self.args.repository
        out = {
            "id": aid,
            "node_id": "MDg6QXJ0aWZhY3Q%d" % aid,
            "name": name,
            "size_in_bytes": len(data) if data is not None else 0,
            "url": "%s/repos/%s/actions/artifacts/%d" % (self.base_url, repo, aid),
            "archive_download_url": "%s/repos/%s/actions/artifacts/%d/zip"
                                    % (self.base_url, repo, aid),
            "expired": bool(conf.get("expired", False)),
            "created_at": self.runs[rid]["created"],
            "expires_at": "2099-01-01T00:00:00Z",
            "workflow_run": {"id": rid, "head_branch": "main"},
        }
        if conf.get("size_in_bytes") is not None:
            out["size_in_bytes"] = conf["size_in_bytes"]
        digest = conf.get("digest", "auto")
        if digest == "auto" and data is not None:
            out["digest"] = "sha256:" + hashlib.sha256(data).hexdigest()
        elif digest not in ("auto", "none", None):
            out["digest"] = digest
        return out

    def run_json(self, rid, advance=True):
        with self.lock:
            r = self.runs[rid]
            status = self.run_status(r)
            if advance:
                r["polls"] += 1
        repo = self.args.repository
        return {
            "id": rid,
            "name": "retrain",
            "display_title": r["title"],
            "event": "workflow_dispatch",
            "status": status,
            "conclusion": r["conclusion"] if status == "completed" else None,
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
    re_artifacts = re.compile(r"^/repos/%s/actions/runs/(\d+)/artifacts$" % repo)
    re_zip = re.compile(r"^/repos/%s/actions/artifacts/(\d+)/zip$" % repo)
    re_run_ctl = re.compile(r"^/_mock/run/(\d+)$")

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
            if u.path.startswith("/_mock/"):
                self._control(u.path, raw)
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
                run_id = state.new_run(title, body.get("inputs", {}))
                if status == 200 and (ans.get("run_details") or out is None):
                    out = {"workflow_run_id": run_id,
                           "run_url": "%s/repos/%s/actions/runs/%d"
                           % (state.base_url, args.repository, run_id),
                           "html_url": "https://github.com/%s/actions/runs/%d"
                           % (args.repository, run_id)}
            self._record("dispatch", status, body, [],
                         {"correlation_id": corr, "run_id": run_id})
            self._send(status, out if status != 204 else None, headers)

        def _control(self, path, raw):
            try:
                body = json.loads(raw) if raw else {}
                assert isinstance(body, dict)
            except Exception as e:  # noqa: BLE001
                self._record("control", 400, None, [])
                self._send(400, {"message": "bad control body: %s" % e})
                return
            m = re_run_ctl.match(path)
            with state.lock:
                if path == "/_mock/runs":
                    for k in ("conclusion", "polls", "seconds"):
                        if k in body:
                            state.run_conf[k] = body[k]
                    state.run_conf["polls"] = max(1, int(state.run_conf["polls"]))
                elif m and int(m.group(1)) in state.runs:
                    r = state.runs[int(m.group(1))]
                    if "status" in body:
                        r["forced"] = body["status"]
                    if "conclusion" in body:
                        r["conclusion"] = body["conclusion"]
                elif path == "/_mock/artifact":
                    rid = body.pop("run_id", None)
                    if rid is None:
                        state.artifact_conf.update(body)
                    elif int(rid) in state.runs:
                        state.runs[int(rid)]["artifact"].update(body)
                    else:
                        body = None
                elif path == "/_mock/faults":
                    for k in ("artifacts", "zip", "storage"):
                        if k in body:
                            state.faults[k] = list(body[k])
                else:
                    body = None
            if body is None:
                self._record("control", 404, None, [])
                self._send(404, {"message": "no such control or run: %s" % path})
                return
            self._record("control", 204, body, [])
            self._send(204)

        def _fault_answer(self, kind, extra=None):
            """Answer with the next scripted fault of kind; True when one was used."""
            ans = state.fault(kind)
            if ans is None:
                return False
            status = int(ans.get("status", 500))
            headers = dict(ans.get("headers", {}))
            if "reset_in" in ans:
                headers["x-ratelimit-reset"] = str(int(time.time() + float(ans["reset_in"])))
                headers.setdefault("x-ratelimit-remaining", "0")
            body = ans.get("body", {"message": "scripted %d" % status})
            self._record(kind, status, None, [], dict(extra or {}, fault=True))
            self._send(status, body, headers)
            return True

        def _artifacts(self, rid, query, problems):
            if problems:
                st = 401 if not self._auth_ok() else 422
                self._record("artifacts", st, None, problems, {"run_id": rid})
                self._send(st, {"message": "Bad credentials" if st == 401 else "Bad request"})
                return
            if self._fault_answer("artifacts", {"run_id": rid}):
                return
            if rid not in state.runs:
                self._record("artifacts", 404, None, [], {"run_id": rid})
                self._send(404, {"message": "Not Found",
                                 "documentation_url": "https://docs.github.com/rest"})
                return
            q = urllib.parse.parse_qs(query)
            a = state.artifact_json(rid)
            arts = [a] if a is not None else []
            if "name" in q:
                arts = [x for x in arts if x["name"] == q["name"][0]]
            self._record("artifacts", 200, None, [],
                         {"run_id": rid, "name": (q.get("name") or [None])[0],
                          "artifacts": len(arts)})
            self._send(200, {"total_count": len(arts), "artifacts": arts})

        def _zip(self, aid, problems):
            rid = aid // 10
            if problems:
                st = 401 if not self._auth_ok() else 422
                self._record("zip", st, None, problems, {"artifact_id": aid})
                self._send(st, {"message": "Bad credentials" if st == 401 else "Bad request"})
                return
            if self._fault_answer("zip", {"artifact_id": aid}):
                return
            if rid not in state.runs or aid != rid * 10 + 1 or state.artifact_json(rid) is None:
                self._record("zip", 404, None, [], {"artifact_id": aid})
                self._send(404, {"message": "Not Found"})
                return
            a = state.artifact_json(rid)
            if a["expired"]:
                self._record("zip", 410, None, [], {"artifact_id": aid})
                self._send(410, {"message": "Artifact has expired"})
                return
            se = int(time.time() + 60)
            sig = hashlib.sha256(("%d:%d" % (aid, se)).encode()).hexdigest()[:32]
            loc = "%s/blob/%d.zip?sig=%s&se=%d" % (state.storage_url, aid, sig, se)
            self._record("zip", 302, None, [], {"artifact_id": aid, "location": loc})
            self._send(302, None, {"Location": loc})

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            self._read_body()
            if u.path == "/_mock/errors":
                with state.lock:
                    errs = list(state.errors)
                self._record("control", 200, None, [])
                self._send(200, {"errors": errs})
                return
            if u.path == "/_mock/info":
                with state.lock:
                    runs = {str(i): {"status": state.run_status(r),
                                     "conclusion": r["conclusion"],
                                     "artifact": r["artifact_name"]}
                            for i, r in state.runs.items()}
                self._record("control", 200, None, [])
                self._send(200, {"api": state.base_url, "storage": state.storage_url,
                                 "runs": runs})
                return
            problems = self._common_problems()
            m = re_artifacts.match(u.path)
            if m:
                self._artifacts(int(m.group(1)), u.query, problems)
                return
            m = re_zip.match(u.path)
            if m:
                self._zip(int(m.group(1)), problems)
                return
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


def make_storage_handler(state):
    """The storage host GitHub's 302 points to: another origin, which must
    never see the API token."""
    re_blob = re.compile(r"^/blob/(\d+)\.zip$")

    class Storage(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "mock-storage/1"

        def log_message(self, fmt, *a):
            pass

        def _answer(self, status, data, ctype, problems, extra=None):
            u = urllib.parse.urlsplit(self.path)
            rec = {"t": time.time(), "method": self.command, "path": u.path,
                   "query": urllib.parse.parse_qs(u.query), "kind": "storage",
                   "headers": {k: ("<redacted>" if k.lower() == "authorization" else v)
                               for k, v in self.headers.items()},
                   "auth_ok": False, "body": None, "valid": not problems,
                   "problems": problems, "status": status,
                   "auth_seen": self.headers.get("Authorization") is not None}
            if extra:
                rec.update(extra)
            state.log(rec)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            if self.headers.get("Authorization") is not None:
                problem = ("Authorization header sent to the storage host (%s %s)"
                           % (self.command, u.path))
                with state.lock:
                    state.errors.append(problem)
                self._answer(400, b"<Error><Code>InvalidAuthenticationInfo</Code></Error>",
                             "application/xml", [problem])
                return
            ans = state.fault("storage")
            if ans is not None:
                body = ans.get("body", "scripted")
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self._answer(int(ans.get("status", 500)), data, "text/plain", [],
                             {"fault": True})
                return
            m = re_blob.match(u.path)
            aid = int(m.group(1)) if m else -1
            rid = aid // 10
            if not m or rid not in state.runs:
                self._answer(404, b"<Error><Code>BlobNotFound</Code></Error>",
                             "application/xml", [])
                return
            se = int((q.get("se") or ["0"])[0] or 0)
            sig = hashlib.sha256(("%d:%d" % (aid, se)).encode()).hexdigest()[:32]
            if (q.get("sig") or [""])[0] != sig or se < time.time():
                self._answer(403, b"<Error><Code>AuthenticationFailed</Code></Error>",
                             "application/xml", [], {"artifact_id": aid})
                return
            conf, _, data = state.artifact_of(rid)
            if data is None:
                self._answer(404, b"<Error><Code>BlobNotFound</Code></Error>",
                             "application/xml", [], {"artifact_id": aid})
                return
            self._answer(200, data, conf.get("content_type") or "application/zip", [],
                         {"artifact_id": aid, "bytes": len(data)})

        do_HEAD = do_GET

    return Storage


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
    ap.add_argument("--run-polls", type=int, default=1,
                    help="GETs of a run per status step (queued, in_progress)")
    ap.add_argument("--run-seconds", type=float, default=None,
                    help="seconds per status step instead of polls")
    ap.add_argument("--artifact-name", default="${model}-${correlation_id}",
                    help="template of each run's artifact name")
    ap.add_argument("--artifact-zip", help="file holding every run's artifact zip")
    ap.add_argument("--storage-port-file", help="receives the storage host's port")
    args = ap.parse_args()
    args.artifact_defaults = {"zip_path": args.artifact_zip} if args.artifact_zip else {}
    with open(args.token_file) as f:
        args.token = f.read().strip()
    state = State(args)
    if args.script:
        with open(args.script) as f:
            state.script = json.load(f)
    state.script += [parse_spec(s) for s in args.respond]
    storage = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_storage_handler(state))
    storage.daemon_threads = True
    state.storage_url = "http://127.0.0.1:%d" % storage.server_address[1]
    threading.Thread(target=storage.serve_forever, kwargs={"poll_interval": 0.1},
                     daemon=True).start()
    if args.storage_port_file:
        tmp = args.storage_port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % storage.server_address[1])
        os.rename(tmp, args.storage_port_file)
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
