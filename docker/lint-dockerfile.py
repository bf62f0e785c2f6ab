#!/usr/bin/env python3
"""Offline Dockerfile checks: the hadolint rules that apply here, plus this image's own rules.

hadolint is not packaged in Debian and no registry is reachable to fetch it, so this
checks the same rules (codes given where hadolint has one) with the standard library.

Usage: docker/lint-dockerfile.py [Dockerfile ...]   exits 1 when any rule fails.
"""
import json
import re
import shlex
import sys

# Deliberately not enforced, with the reason:
IGNORED = {
    "DL3008": "apt package versions are not pinned: the build stage follows bookworm's security updates, "
              "and only the binaries and their libraries reach the image",
}

OCI_LABELS = ("org.opencontainers.image.source", "org.opencontainers.image.revision",
              "org.opencontainers.image.version", "org.opencontainers.image.created")


def instructions(text):
    """Yields (line number, INSTRUCTION, arguments) with continuations joined and comments dropped."""
    buf, start = "", None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if start is None:
            start = number
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        word, _, rest = buf.partition(" ")
        yield start, word.upper(), rest.strip()
        buf, start = "", None


def is_json_array(args):
    try:
        value = json.loads(args)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def lint(path):
    text = open(path, encoding="utf-8").read()
    failures, notes = [], []
    args_defaults, stages = {}, []
    pipefail = False
    last_user = None
    seen = set()
    labels = {}

    def fail(number, code, message):
        failures.append(f"{path}:{number}: {code}: {message}")

    for number, instr, args in instructions(text):
        seen.add(instr)
        if instr == "ARG":
            name, _, default = args.partition("=")
            if not stages:
                args_defaults[name] = default
        elif instr == "FROM":
            parts = args.split()
            image = parts[0]
            resolved = re.sub(r"\$\{?(\w+)\}?", lambda m: args_defaults.get(m.group(1), ""), image)
            stage_names = [s for s in stages if s]
            if resolved != "scratch" and resolved not in stage_names:
                if ":" not in resolved.split("/")[-1] and "@" not in resolved:
                    fail(number, "DL3006", f"base image {image!r} ({resolved!r}) has no tag")
                elif resolved.endswith(":latest"):
                    fail(number, "DL3007", f"base image {image!r} uses latest")
            stages.append(parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else "")
            pipefail = False
            last_user = None
        elif instr == "SHELL":
            pipefail = is_json_array(args) and "pipefail" in json.loads(args)
        elif instr == "USER":
            last_user = args
        elif instr == "MAINTAINER":
            fail(number, "DL4000", "MAINTAINER is deprecated; use a label")
        elif instr == "ADD":
            fail(number, "DL3020", "use COPY for files and folders")
        elif instr in ("ENTRYPOINT", "CMD"):
            if not is_json_array(args):
                fail(number, "DL3025", f"{instr} must use the exec (JSON) form")
        elif instr == "HEALTHCHECK":
            cmd = args.split("CMD", 1)
            if args.strip().upper() != "NONE" and (len(cmd) < 2 or not is_json_array(cmd[1].strip())):
                fail(number, "HC001", "HEALTHCHECK CMD must use the exec form (the image has no shell)")
        elif instr == "LABEL":
            for token in shlex.split(args):
                key, _, value = token.partition("=")
                labels[key] = value
        elif instr == "RUN":
            if re.search(r"(^|[;&|]\s*)cd\s", args):
                fail(number, "DL3003", "use WORKDIR instead of cd")
            if re.search(r"\bsudo\b", args):
                fail(number, "DL3004", "do not use sudo")
            if re.search(r"(?<!\|)\|(?!\|)", args) and not pipefail:
                fail(number, "DL4006", "a pipe in RUN needs SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] first")
            if "apt-get install" in args:
                if "--no-install-recommends" not in args:
                    fail(number, "DL3015", "apt-get install without --no-install-recommends")
                if not re.search(r"apt-get install[^&;]*\s(-y|--yes|-qq|--assume-yes)\b", args):
                    fail(number, "DL3014", "apt-get install without -y")
            if "apt-get update" in args and "rm -rf /var/lib/apt/lists" not in args:
                fail(number, "DL3009", "delete /var/lib/apt/lists in the RUN that runs apt-get update")
            if re.search(r"apt-get (dist-)?upgrade", args):
                fail(number, "DL3005", "do not apt-get upgrade in an image build")

    final = stages[-1] if stages else None
    if not stages:
        fail(0, "DF001", "no FROM")
    else:
        last_from = [line for line in text.splitlines() if line.strip().upper().startswith("FROM ")][-1]
        if last_from.split()[1] != "scratch":
            fail(0, "DF002", f"the final stage must be FROM scratch (no shell, no package manager); got {last_from!r}")
    if last_user is None or last_user.split(":")[0] in ("root", "0"):
        fail(0, "DL3002", f"the final stage must switch to a non-root USER (got {last_user!r})")
    for required in ("ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "EXPOSE"):
        if required not in seen:
            fail(0, "DF003", f"{required} is missing")
    for label in OCI_LABELS:
        if label not in labels:
            fail(0, "DF004", f"OCI label {label} is missing")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.lstrip().startswith("#") and re.search(r"x86_64|aarch64|amd64|arm64|i386|/lib64/", line):
            fail(number, "DF005", "architecture-specific name: the build must work for every --platform")
    for code, reason in IGNORED.items():
        notes.append(f"{code} not enforced: {reason}")
    return failures, notes, final


def main(paths):
    paths = paths or ["docker/Dockerfile"]
    total = 0
    for path in paths:
        failures, notes, _ = lint(path)
        for line in failures:
            print(line)
        for line in notes:
            print(f"{path}: note: {line}")
        total += len(failures)
        print(f"{path}: {'clean' if not failures else str(len(failures)) + ' problem(s)'} "
              "(hadolint rule subset DL3002-DL3025, DL4000, DL4006 and the image's own rules DF001-DF005)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
