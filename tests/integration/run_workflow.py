#!/usr/bin/env python3
"""Run a GitHub Actions workflow's steps on this machine, as a runner would,
for tests/integration/test_retrain_workflow.sh.

  run_workflow.py WORKFLOW WORKDIR ARTIFACTS [--input K=V]... [--github K=V]...
                  [--skip STEP]...

The one job's `run:` steps run in WORKDIR with `bash --noprofile --norc -eo
pipefail`, GitHub's default shell, their environment made of the
workflow's, the job's and the step's `env` (expressions evaluated) plus the
GITHUB_* variables a runner sets. `${{ }}` expressions may be
`inputs.NAME` (the dispatch inputs: --input over the declared defaults; an
undeclared one is refused, as GitHub answers 422), `github.run_id`,
`github.sha` (from --github) or `env.NAME`; anything else is an error, so a
workflow cannot rely on what this runner does not know. `uses:` steps:
actions/checkout and actions/setup-python do nothing (WORKDIR is prepared
by the test, `python` is on PATH); actions/upload-artifact writes
ARTIFACTS/NAME.zip holding its `path` files relative to their common
directory, as upload-artifact@v4 does (a missing file with
`if-no-files-found: error` fails the step). Any other action is an error.
Steps named with --skip are passed over (installing packages, building
driftd: the test brings the binary).

Prints one line per step; on the first failing step prints
"FAILED: <step name>" and exits 1. Needs PyYAML (Debian's python3-yaml).
"""
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import yaml


class WorkflowError(Exception):
    """Something this runner (or GitHub) would not accept."""


def evaluate(text, ctx):
    """Replace each ${{ expr }} in text with its value from ctx."""
    if not isinstance(text, str):
        return "" if text is None else str(text).lower() if isinstance(text, bool) else str(text)

    def one(m):
        expr = m.group(1).strip()
        parts = expr.split(".")
        if len(parts) != 2 or parts[0] not in ctx or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", parts[1]):
            raise WorkflowError(f"expression not supported by this runner: ${{{{ {expr} }}}}")
        scope = ctx[parts[0]]
        if parts[0] == "inputs" and parts[1] not in scope:
            raise WorkflowError(f"${{{{ {expr} }}}}: no such input")
        return str(scope.get(parts[1], ""))

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def parse_pairs(pairs, what):
    """K=V arguments into a dict."""
    out = {}
    for p in pairs:
        if "=" not in p:
            raise WorkflowError(f"{what}: expected K=V, got {p!r}")
        k, v = p.split("=", 1)
        out[k] = v
    return out


def upload_artifact(step, ctx, workdir, artifacts):
    """Zip the step's paths into ARTIFACTS/NAME.zip, relative to their
    common directory."""
    w = step.get("with", {})
    name = evaluate(w.get("name", "artifact"), ctx)
    if not name or re.search(r'[":<>|*?\\/\r\n]', name):
        raise WorkflowError(f"upload-artifact: invalid artifact name {name!r}")
    paths = [evaluate(p.strip(), ctx) for p in str(w.get("path", "")).splitlines() if p.strip()]
    files = [os.path.join(workdir, p) for p in paths]
    missing = [p for p, f in zip(paths, files) if not os.path.isfile(f)]
    if missing and w.get("if-no-files-found", "warn") == "error":
        raise WorkflowError(f"upload-artifact: no such file: {', '.join(missing)}")
    files = [f for f in files if os.path.isfile(f)]
    if not files:
        raise WorkflowError("upload-artifact: nothing to upload")
    root = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files])
    os.makedirs(artifacts, exist_ok=True)
    target = os.path.join(artifacts, name + ".zip")
    if os.path.exists(target):
        raise WorkflowError(f"upload-artifact: an artifact named {name} exists already")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(f, os.path.relpath(os.path.abspath(f), root))
    return f"artifact {name}: {len(files)} files"


def run_step(step, ctx, env, workdir, summary):
    """Run one `run:` step; returns its exit status."""
    step_env = dict(env)
    for k, v in (step.get("env") or {}).items():
        step_env[k] = evaluate(v, ctx)
    script = evaluate(step["run"], ctx)
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        full = dict(os.environ)
        full.update(step_env)
        full["GITHUB_STEP_SUMMARY"] = summary
        return subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", path],
                               cwd=workdir, env=full)
    finally:
        os.unlink(path)


def main(argv):
    args = {"--input": [], "--github": [], "--skip": []}
    pos = []
    it = iter(argv)
    for a in it:
        if a in args:
            args[a].append(next(it))
        else:
            pos.append(a)
    if len(pos) != 3:
        sys.stderr.write(__doc__)
        return 2
    wf_path, workdir, artifacts = pos
    with open(wf_path) as f:
        wf = yaml.safe_load(f)
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    declared = (on or {}).get("workflow_dispatch", {}).get("inputs", {}) or {}
    inputs = {k: evaluate(v.get("default", ""), {}) for k, v in declared.items()}
    for k, v in parse_pairs(args["--input"], "--input").items():
        if k not in declared:
            raise WorkflowError(f"Unexpected inputs provided: [\"{k}\"] (not declared)")
        inputs[k] = v
    github = parse_pairs(args["--github"], "--github")
    ctx = {"inputs": inputs, "github": github, "env": {}}
    env = {"GITHUB_WORKSPACE": os.path.abspath(workdir), "GITHUB_RUN_ID": github.get("run_id", ""),
           "GITHUB_SHA": github.get("sha", ""), "CI": "true", "GITHUB_ACTIONS": "true"}
    for k, v in (wf.get("env") or {}).items():
        env[k] = ctx["env"][k] = evaluate(v, ctx)
    jobs = wf.get("jobs") or {}
    if len(jobs) != 1:
        raise WorkflowError(f"expected one job, found {len(jobs)}")
    job = next(iter(jobs.values()))
    for k, v in (job.get("env") or {}).items():
        env[k] = ctx["env"][k] = evaluate(v, ctx)
    summary = os.path.join(artifacts, "step-summary.md")
    os.makedirs(artifacts, exist_ok=True)
    for i, step in enumerate(job.get("steps") or []):
        name = step.get("name") or step.get("uses") or f"step {i + 1}"
        if name in args["--skip"]:
            print(f"step {name}: skipped")
            continue
        uses = step.get("uses")
        try:
            if uses is not None:
                action = uses.split("@")[0]
                if action in ("actions/checkout", "actions/setup-python"):
                    print(f"step {name}: nothing to do here")
                elif action == "actions/upload-artifact":
                    print(f"step {name}: {upload_artifact(step, ctx, workdir, artifacts)}")
                else:
                    raise WorkflowError(f"action {uses} is not known to this runner")
                continue
            sys.stdout.flush()
            rc = run_step(step, ctx, env, workdir, summary)
        except WorkflowError as e:
            print(f"step {name}: {e}")
            rc = 1
        if rc != 0:
            print(f"FAILED: {name}")
            return 1
        print(f"step {name}: ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except WorkflowError as e:
        print(f"run_workflow: {e}")
        sys.exit(2)
