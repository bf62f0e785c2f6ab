#!/usr/bin/env python3
"""Validates a RegisterTaskDefinition input (what `make deploy` registers) offline.

    validate_task_definition.py TASKDEF.json [--template ecs-taskdef/taskdef.json.tftpl]
    validate_task_definition.py TASKDEF.json --self-test

1. Against botocore's own ECS model for RegisterTaskDefinition: unknown keys, types, enums,
   required members and length limits, everywhere in the document. The AWS CLI would catch
   unknown keys and types too, but only at deploy time and never enums.
2. Fargate rules the model does not know: awsvpc networking, a valid CPU/memory pair, the
   runtime platform, and the hardening the image relies on (non-root user, read-only root
   filesystem with a writable /tmp volume, no privileges, the image's health check, awslogs,
   stopTimeout within Fargate's 120 s and above the app's drain time).

Prints `ok - ...` / `not ok - ...` lines and exits 1 on any failure. --self-test breaks the
document one way at a time and requires each break to be caught.
"""
import argparse
import json
import pathlib
import re
import sys

import botocore.session

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from rules import run_rules, self_test  # noqa: E402  (tests/lib, found through the path above)

# Fargate task sizes: CPU units -> allowed memory in MiB (AWS ECS developer guide, "Task CPU
# and memory" for Fargate; 8 and 16 vCPU need platform version 1.4.0 or later).
FARGATE_SIZES = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4097, 1024)),
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}
APP_GRACE_SECONDS = 20


def input_shape():
    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def check_shape(value, shape, path, problems):
    """Appends to problems every way value departs from the botocore shape."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}/{key}: unknown key")
                continue
            check_shape(item, shape.members[key], f"{path}/{key}", problems)
        for key in shape.required_members:
            if key not in value:
                problems.append(f"{path}: missing required {key}")
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check_shape(item, shape.member, f"{path}/{i}", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        for key, item in value.items():
            check_shape(key, shape.key, f"{path}/{key} (key)", problems)
            check_shape(item, shape.value, f"{path}/{key}", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {type(value).__name__} {value!r}")
            return
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
        limits = shape.metadata
        if "min" in limits and len(value) < limits["min"]:
            problems.append(f"{path}: shorter than {limits['min']}")
        if "max" in limits and len(value) > limits["max"]:
            problems.append(f"{path}: longer than {limits['max']}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {type(value).__name__} {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {type(value).__name__} {value!r}")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number, got {value!r}")
    else:
        problems.append(f"{path}: shape type {kind} is not handled by this checker")


# ---------------------------------------------------------------- Fargate rules

def app_container(td):
    essential = [c for c in td["containerDefinitions"] if c.get("essential", True)]
    assert len(essential) == 1, f"expected one essential container, found {len(essential)}"
    return essential[0]


def rule_fargate_network(td):
    assert "FARGATE" in td.get("requiresCompatibilities", []), "requiresCompatibilities lacks FARGATE"
    assert td.get("networkMode") == "awsvpc", f"networkMode {td.get('networkMode')!r}: Fargate needs awsvpc"


def rule_fargate_size(td):
    cpu, memory = int(td["cpu"]), int(td["memory"])
    assert cpu in FARGATE_SIZES, f"cpu {cpu} is not a Fargate size"
    assert memory in FARGATE_SIZES[cpu], f"memory {memory} MiB is not allowed with cpu {cpu}"


def rule_runtime_platform(td):
    platform = td.get("runtimePlatform", {})
    assert platform.get("operatingSystemFamily") == "LINUX", "operatingSystemFamily is not LINUX"
    assert platform.get("cpuArchitecture") in ("ARM64", "X86_64"), "no cpuArchitecture"


def rule_hardening(td):
    c = app_container(td)
    user = str(c.get("user", ""))
    assert user and user.split(":")[0] not in ("0", "root"), f"user {user!r} is root or unset"
    assert c.get("readonlyRootFilesystem") is True, "root filesystem is writable"
    assert not c.get("privileged"), "privileged"
    drops = c.get("linuxParameters", {}).get("capabilities", {}).get("drop", [])
    assert "ALL" in drops, "capabilities are not dropped"
    mounts = {m["containerPath"]: m for m in c.get("mountPoints", [])}
    assert "/tmp" in mounts and not mounts["/tmp"].get("readOnly"), "no writable volume at /tmp"
    volumes = {v["name"] for v in td.get("volumes", [])}
    assert mounts["/tmp"]["sourceVolume"] in volumes, "the /tmp mount names no task volume"


def rule_health_and_stop(td):
    c = app_container(td)
    command = c.get("healthCheck", {}).get("command", [])
    assert command[:1] == ["CMD"] and "--healthcheck" in command, (
        f"health check {command} does not run the image's --healthcheck")
    stop = c.get("stopTimeout")
    assert isinstance(stop, int) and APP_GRACE_SECONDS < stop <= 120, (
        f"stopTimeout {stop} not in ({APP_GRACE_SECONDS}, 120]")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("portMappings", [])}
    assert ports.get("http") == 8080, f"port mappings {ports}"


def rule_logging(td):
    log = app_container(td).get("logConfiguration", {})
    assert log.get("logDriver") == "awslogs", f"log driver {log.get('logDriver')!r}"
    for option in ("awslogs-group", "awslogs-region", "awslogs-stream-prefix"):
        assert log.get("options", {}).get(option), f"awslogs option {option} missing"


RULES = [
    ("Fargate: requiresCompatibilities FARGATE and networkMode awsvpc", rule_fargate_network),
    ("Fargate: a valid CPU/memory pair", rule_fargate_size),
    ("Fargate: runtime platform LINUX with an explicit architecture", rule_runtime_platform),
    ("non-root user, read-only root, writable /tmp volume, no privileges, capabilities dropped", rule_hardening),
    ("the image's --healthcheck, http port 8080, stopTimeout above the drain and within 120 s", rule_health_and_stop),
    ("awslogs with group, region and stream prefix", rule_logging),
]


def validate(td, quiet=False):
    """Returns the list of failed check names."""
    failed = []
    problems = []
    check_shape(td, input_shape(), "", problems)
    name = "matches botocore's RegisterTaskDefinition input shape (keys, types, enums, required)"
    if problems:
        failed.append(name)
        if not quiet:
            print(f"not ok - {name}:")
            for p in problems:
                print(f"    {p}")
    elif not quiet:
        print(f"ok - {name}")
    return failed + run_rules(RULES, lambda rule: rule(td), quiet)


def _c(td):
    return td["containerDefinitions"][0]


MUTATIONS = [
    ("an unknown top-level key", lambda td: td.update(cpuArchitecture="ARM64"), "botocore"),
    ("a misspelled container key", lambda td: _c(td).update(readOnlyRootFilesystem=True), "botocore"),
    ("a number where the model wants a string (cpu)", lambda td: td.update(cpu=256), "botocore"),
    ("a string where the model wants an integer (stopTimeout)", lambda td: _c(td).update(stopTimeout="30"), "botocore"),
    ("a value outside an enum (networkMode vpc)", lambda td: td.update(networkMode="vpc"), "botocore"),
    ("a missing required key (family)", lambda td: td.pop("family"), "botocore"),
    ("bridge networking", lambda td: td.update(networkMode="bridge"), "awsvpc"),
    ("256 CPU with 4096 MiB", lambda td: td.update(memory="4096"), "CPU/memory"),
    ("root user", lambda td: _c(td).update(user="0"), "non-root"),
    ("a writable root filesystem", lambda td: _c(td).update(readonlyRootFilesystem=False), "non-root"),
    ("a shell health check",
     lambda td: _c(td)["healthCheck"].update(command=["CMD-SHELL", "curl -f localhost:8080/healthz"]), "--healthcheck"),
    ("stopTimeout 200", lambda td: _c(td).update(stopTimeout=200), "stopTimeout"),
    ("the json-file log driver", lambda td: _c(td)["logConfiguration"].update(logDriver="json-file"), "awslogs"),
]


def key_paths(value, path=""):
    """The set of key paths of a JSON document (list positions collapsed)."""
    if isinstance(value, dict):
        return {path} | set().union(*(key_paths(v, f"{path}/{k}") for k, v in value.items()))
    if isinstance(value, list):
        return {path} | set().union(set(), *(key_paths(v, f"{path}/[]") for v in value))
    return {path}


def same_keys_as_template(td, template_file):
    """True when the document has exactly the keys the template renders (a stale recording
    of the Terraform outputs fails here). The template uses plain ${name} interpolation
    only; every name is rendered as 1, which is valid JSON quoted or not."""
    text = open(template_file, encoding="utf-8").read()
    name = "the recorded task definition has the same keys as ecs-taskdef/ renders today"
    if "%{" in text:
        print(f"not ok - {name}: the template uses directives this check does not render")
        return False
    rendered = json.loads(re.sub(r"\$\{\s*\w+\s*\}", "1", text))
    missing, extra = key_paths(rendered) - key_paths(td), key_paths(td) - key_paths(rendered)
    if missing or extra:
        print(f"not ok - {name} (re-record: tests/deploy/record-outputs.sh); "
              f"only in the template: {sorted(missing)}; only in the recording: {sorted(extra)}")
        return False
    print(f"ok - {name}")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("taskdef")
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--template", help="also require the keys this template renders")
    opts = parser.parse_args()
    with open(opts.taskdef, encoding="utf-8") as f:
        td = json.load(f)
    if opts.self_test:
        return 1 if self_test(td, validate, MUTATIONS, "task definition") else 0
    failed = bool(validate(td))
    if opts.template and not same_keys_as_template(td, opts.template):
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
