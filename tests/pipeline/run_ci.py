#!/usr/bin/env python3
"""run_ci.py - runs the shell steps of a CI example the way its CI system would.

    run_ci.py gitlab FILE WORKDIR [--set NAME=VALUE]...
    run_ci.py github FILE WORKDIR [--set NAME=VALUE]... [--secret NAME=VALUE]...

gitlab: the file's one job; its `variables`, then --set (as project CI/CD variables, which
        override the file's), and before_script + script run as one `bash -eo pipefail` script.
github: the workflow's one job; its `env`, then --set; each `run` step in order with its own
        `env` (`${{ secrets.NAME }}` from --secret), in `bash --noprofile --norc -eo pipefail`
        as Actions does, with GITHUB_ENV carried from step to step and RUNNER_TEMP set;
        `uses:` steps (checkout, artifacts) are listed and skipped.
Each step runs in WORKDIR; its output goes to stdout. Exits with the first failing step's
status (0 when all pass); 3 when the file does not have the expected shape.
"""
import os
import re
import subprocess
import sys

import yaml


def die(msg):
    print(f"run_ci.py: {msg}", file=sys.stderr)
    sys.exit(3)


def pairs(args, flag):
    out = {}
    for i, a in enumerate(args):
        if a == flag:
            name, _, value = args[i + 1].partition("=")
            out[name] = value
    return out


def run(script, env, cwd, argv):
    print(f"$ {script.strip()}", flush=True)
    return subprocess.run(argv + [script], env=env, cwd=cwd).returncode


def gitlab(doc, workdir, sets):
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    if len(jobs) != 1:
        die(f"expected one job with a script, found {list(jobs)}")
    (name, job), = jobs.items()
    env = dict(os.environ)
    env.update({k: str(v) for k, v in (job.get("variables") or {}).items()})
    env.update(sets)
    lines = list(job.get("before_script") or []) + list(job["script"])
    print(f"== gitlab job {name}: {len(lines)} lines", flush=True)
    return run("\n".join(lines), env, workdir, ["bash", "-eo", "pipefail", "-c"])


def github(doc, workdir, sets, secrets):
    jobs = doc.get("jobs") or {}
    if len(jobs) != 1:
        die(f"expected one job, found {list(jobs)}")
    (name, job), = jobs.items()
    env = dict(os.environ)
    env.update({k: str(v) for k, v in (job.get("env") or {}).items()})
    env.update(sets)
    env["RUNNER_TEMP"] = os.path.join(workdir, ".runner-temp")
    env["GITHUB_ENV"] = os.path.join(workdir, ".github-env")
    os.makedirs(env["RUNNER_TEMP"], exist_ok=True)
    open(env["GITHUB_ENV"], "w").close()

    def expand(text):
        def secret(m):
            if m.group(1) not in secrets:
                die(f"step needs secret {m.group(1)}, not given with --secret")
            return secrets[m.group(1)]
        text = re.sub(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}", secret, str(text))
        if "${{" in text:
            die(f"unsupported expression in {text!r}")
        return text

    print(f"== github job {name}: {len(job.get('steps') or [])} steps", flush=True)
    for step in job.get("steps") or []:
        label = step.get("name") or step.get("uses") or step.get("run", "").split("\n")[0]
        if "uses" in step:
            print(f"-- skip (uses {step['uses']}): {label}", flush=True)
            continue
        if "run" not in step:
            die(f"step without run or uses: {step}")
        step_env = dict(env)
        step_env.update({k: expand(v) for k, v in (step.get("env") or {}).items()})
        print(f"-- step: {label}", flush=True)
        rc = run(expand(step["run"]), step_env, workdir,
                 ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"])
        if rc != 0:
            return rc
        with open(env["GITHUB_ENV"]) as f:
            for line in f:
                k, sep, v = line.rstrip("\n").partition("=")
                if sep:
                    env[k] = v
    return 0


def main():
    kind, path, workdir = sys.argv[1:4]
    rest = sys.argv[4:]
    with open(path) as f:
        doc = yaml.safe_load(f)
    if kind == "gitlab":
        return gitlab(doc, workdir, pairs(rest, "--set"))
    if kind == "github":
        return github(doc, workdir, pairs(rest, "--set"), pairs(rest, "--secret"))
    die(f"unknown kind {kind}")


if __name__ == "__main__":
    sys.exit(main())
