"""ECS service deployments and Application Auto Scaling capacity, as AWS runs them.

moto 5.2.1 answers every ECS call at once and as if it worked: update-service sets
runningCount to the new desired count, every deployment is COMPLETED, and
RegisterScalableTarget never touches the service. A deploy flow checked against that
passes whatever it does. This module makes the emulator (tests/tf/aws_emulator.py) do
what the AWS documentation says, for the parts the deploy flow relies on:

  * RegisterScalableTarget moves an ACTIVE ECS service's desired count into
    [MinCapacity, MaxCapacity] at once (Application Auto Scaling API reference,
    RegisterScalableTarget: "If the specified resource is not active in the target
    service, this operation does not change the resource's current capacity.
    Otherwise, it changes the resource's current capacity to a value that is inside
    of this range.").
  * Tasks need their image. A task's image is pulled from the registry its reference
    names: a registry on 127.0.0.0/8 (the tests' docker-registry) is asked over its
    HTTP API, an ECR reference looks in the emulator's own ECR. A missing tag, or a
    manifest without the task definition's runtimePlatform, stops the task with
    CannotPullContainerError, as ECS reports it; an image on the crash list (see
    below) stops with "Essential container in task exited".
  * A new task definition or forceNewDeployment starts a new PRIMARY deployment,
    rolloutState IN_PROGRESS; the previous one turns ACTIVE (Deployment, API
    reference: "When a service deployment is started, it begins in an IN_PROGRESS
    state. When the service reaches a steady state, the deployment transitions to a
    COMPLETED state. If the service fails to reach a steady state and circuit breaker
    is turned on, the deployment transitions to a FAILED state. A deployment in
    FAILED state doesn't launch any new tasks.").
  * The circuit breaker's threshold (ServiceDeploymentCircuitBreaker, API reference:
    "a minimum threshold of 3 and a maximum threshold of 200 ... 0.5 * desired task
    count"); with rollback on, "the service is rolled back to the last deployment that
    completed successfully" (DeploymentCircuitBreaker, API reference): a new PRIMARY
    deployment of that task definition, the failed one drained.
  * DescribeServices shows it all: deployments with status, rolloutState,
    rolloutStateReason, failedTasks and counts, the service's taskDefinition,
    runningCount and events, newest first.

Time: a deployment whose tasks can start reaches steady state ROLLOUT_SECONDS after it
began (EMULATOR_ECS_ROLLOUT_SECONDS, default 1); a deployment whose tasks cannot start
loses one batch of tasks each ROLLOUT_SECONDS. State moves when a request looks at it.

Fault injection, for "the new image does not start": tasks of an image reference listed,
one a line, in the file named by EMULATOR_ECS_CRASHING_IMAGES_FILE exit at start (the file
is read at each launch, so a test can change it between deploys).
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable

from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.ecr.models import ecr_backends
from moto.ecs.models import ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

ROLLOUT_SECONDS = float(os.environ.get("EMULATOR_ECS_ROLLOUT_SECONDS", "1"))
CRASHING_IMAGES_FILE = os.environ.get("EMULATOR_ECS_CRASHING_IMAGES_FILE", "")
LOCK = threading.RLock()

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
ARCHITECTURES = {"ARM64": "arm64", "X86_64": "amd64"}


# ------------------------------------------------------------------ images


def _split_reference(image: str) -> tuple[str, str, str]:
    """host, repository, tag-or-digest of an image reference."""
    host, _, rest = image.partition("/")
    if "@" in rest:
        repository, _, ref = rest.partition("@")
    else:
        repository, _, ref = rest.rpartition(":") if ":" in rest else (rest, "", "latest")
    return host, repository, ref


def _local_registry_get(host: str, path: str, accept: str) -> tuple[dict[str, Any] | None, str]:
    request = urllib.request.Request(f"http://{host}/v2/{path}", headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read()), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None, ""
        raise


def _platforms_in_local_registry(host: str, repository: str, ref: str) -> list[str] | None:
    """linux/<arch> entries of the manifest, None when the registry has no such image."""
    manifest, media_type = _local_registry_get(host, f"{repository}/manifests/{ref}", MANIFEST_TYPES)
    if manifest is None:
        return None
    if "manifests" in manifest:  # an image index / manifest list
        return [f"{m['platform']['os']}/{m['platform']['architecture']}"
                for m in manifest["manifests"] if m.get("platform")]
    config_digest = manifest["config"]["digest"]
    config, _ = _local_registry_get(host, f"{repository}/blobs/{config_digest}", "*/*")
    return [f"{config.get('os', 'linux')}/{config.get('architecture', 'unknown')}"] if config else []


def _crashing_images() -> set[str]:
    try:
        with open(CRASHING_IMAGES_FILE, encoding="utf-8") as listed:
            return {line.strip() for line in listed if line.strip()}
    except OSError:
        return set()


def task_start_failure(account: str, region: str, image: str, cpu_architecture: str) -> str | None:
    """Why a task of `image` on `cpu_architecture` (ARM64/X86_64) cannot start, or None."""
    if image in _crashing_images():
        return "Essential container in task exited"
    host, repository, ref = _split_reference(image)
    want = f"linux/{ARCHITECTURES.get(cpu_architecture, 'amd64')}"
    not_found = (f"CannotPullContainerError: pull image manifest has been retried 7 time(s): "
                 f"failed to resolve ref {image}: {image}: not found")
    if re.fullmatch(r"(127\.\d+\.\d+\.\d+|localhost)(:\d+)?", host):
        try:
            platforms = _platforms_in_local_registry(host, repository, ref)
        except (OSError, ValueError) as error:
            return f"CannotPullContainerError: {image}: {error}"
        if platforms is None:
            return not_found
        if want not in platforms:
            if len(platforms) == 1:
                # A single-platform image of another architecture pulls, then cannot run.
                return "Essential container in task exited: exec format error"
            return (f"CannotPullContainerError: pull image manifest has been retried 7 time(s): "
                    f"image Manifest does not contain descriptor matching platform '{want}'")
        return None
    match = re.fullmatch(r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com", host)
    if match:
        repo = ecr_backends[account][match.group(2)].repositories.get(repository)
        if repo is None:
            return not_found
        for image_obj in repo.images:
            if ref in image_obj.image_tags or ref == image_obj.get_image_digest():
                return None
        return not_found
    return f"CannotPullContainerError: {image}: no route to {host} (only 127.0.0.0/8 and the emulator's ECR)"


# ------------------------------------------------------------- deployments


def _now() -> float:
    return time.time()


def _backend(service: Any) -> Any:
    return ecs_backends[service._account_id][service.region_name]


def _task_definition(service: Any, arn: str) -> Any:
    return _backend(service).describe_task_definition(arn)


def _event(service: Any, message: str) -> None:
    service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": _now(),
                              "message": f"(service {service.name}) {message}"})
    del service.events[100:]


def _circuit_breaker(service: Any) -> dict[str, bool]:
    config = getattr(service, "deployment_configuration", None) or {}
    breaker = config.get("deploymentCircuitBreaker") or {}
    return {"enable": bool(breaker.get("enable")), "rollback": bool(breaker.get("rollback"))}


def _new_deployment(service: Any, task_definition: str, reason: str | None = None) -> dict[str, Any]:
    deployment_id = f"ecs-svc/{mock_random.randint(10**18, 10**19 - 1)}"
    now = _now()
    return {
        "id": deployment_id, "status": "PRIMARY", "taskDefinition": task_definition,
        "desiredCount": service.desired_count, "pendingCount": service.desired_count,
        "runningCount": 0, "failedTasks": 0, "createdAt": now, "updatedAt": now,
        "launchType": service.launch_type or "FARGATE", "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": reason or f"ECS deployment {deployment_id} in progress.",
        "emulatorStartedAt": now, "emulatorBatchAt": now,
    }


def start_deployment(service: Any, task_definition: str, reason: str | None = None) -> None:
    for deployment in service.deployments:
        if deployment["status"] == "PRIMARY":
            deployment["status"] = "ACTIVE"
            deployment["updatedAt"] = _now()
    service.deployments.insert(0, _new_deployment(service, task_definition, reason))
    service.task_definition = task_definition
    advance(service)


def _failure_threshold(desired: int) -> int:
    return max(3, min(200, math.ceil(0.5 * desired)))


def _complete(service: Any, primary: dict[str, Any]) -> None:
    primary.update(runningCount=primary["desiredCount"], pendingCount=0, rolloutState="COMPLETED",
                   rolloutStateReason=f"ECS deployment {primary['id']} completed.", updatedAt=_now())
    # The older deployments' tasks are stopped once the new ones are healthy.
    service.deployments[:] = [primary]
    service.emulator_last_completed = primary["taskDefinition"]
    _event(service, "has reached a steady state.")


def advance(service: Any) -> None:
    """Moves the service's deployments on to where ECS would have them by now."""
    with LOCK:
        if not service.deployments or service.status != "ACTIVE":
            return
        primary = service.deployments[0]
        primary["desiredCount"] = service.desired_count
        now = _now()
        if primary["rolloutState"] == "FAILED":
            # "A deployment in FAILED state doesn't launch any new tasks."
            service.deployments[:] = [d for d in service.deployments if d is primary or d["runningCount"] > 0]
        elif primary["runningCount"] != primary["desiredCount"] or primary["rolloutState"] == "IN_PROGRESS":
            if primary["desiredCount"] == 0:
                primary["runningCount"] = 0
                _complete(service, primary)
            elif now - primary["emulatorBatchAt"] >= ROLLOUT_SECONDS:
                primary["emulatorBatchAt"] = now
                definition = _task_definition(service, primary["taskDefinition"])
                platform = (definition.runtime_platform or {}).get("cpuArchitecture", "X86_64")
                failure = None
                for container in definition.container_definitions:
                    failure = task_start_failure(service._account_id, service.region_name,
                                                 container["image"], platform)
                    if failure:
                        break
                if failure is None:
                    _complete(service, primary)
                else:
                    _fail_batch(service, primary, failure)
        service.running_count = sum(d["runningCount"] for d in service.deployments)
        service.pending_count = max(0, service.desired_count - service.running_count)


def _fail_batch(service: Any, primary: dict[str, Any], reason: str) -> None:
    batch = max(1, primary["desiredCount"] - primary["runningCount"])
    primary["failedTasks"] += batch
    primary["updatedAt"] = _now()
    _event(service, f"(deployment {primary['id']}) {batch} task(s) stopped: {reason}")
    breaker = _circuit_breaker(service)
    in_rollout = primary["rolloutState"] == "IN_PROGRESS"
    if not (breaker["enable"] and in_rollout and primary["failedTasks"] >= _failure_threshold(primary["desiredCount"])):
        return
    primary["rolloutState"] = "FAILED"
    primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
    _event(service, f"(deployment {primary['id']}) deployment failed: tasks failed to start.")
    previous = getattr(service, "emulator_last_completed", None)
    if breaker["rollback"] and previous and previous != primary["taskDefinition"]:
        _event(service, f"rolling back to {previous}.")
        start_deployment(service, previous,
                         reason=f"ECS deployment circuit breaker: rolling back to {previous} "
                                f"after deployment {primary['id']} failed.")


# ------------------------------------------------------------------ hooks


def _service_of(response: Any, cluster: str | None, name: str) -> Any:
    backend = response.ecs_backend
    cluster_name = (cluster or "default").split("/")[-1]
    return backend.services.get(f"{cluster_name}:{name.split('/')[-1]}")


def _after_create_service(self: EC2ContainerServiceResponse, result: Any) -> None:
    service = result.result["service"]
    with LOCK:
        service.deployments = []
        service.emulator_last_completed = None
        start_deployment(service, service.task_definition)


def _around_update_service(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def update_service(self: EC2ContainerServiceResponse) -> Any:
        with LOCK:
            service = _service_of(self, self._get_param("cluster"), self._get_param("service"))
            before = (service.task_definition, service.desired_count, service.running_count) if service else None
            result = original(self)
            service = result.result["service"]
            wanted = service.task_definition
            service.running_count = before[2] if before else 0  # moto pretends every task runs at once
            if before and (wanted != before[0] or self._get_param("forceNewDeployment")):
                service.task_definition = before[0]
                start_deployment(service, wanted)
            else:
                advance(service)
            return result
    return update_service


def _before_describe_services(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def describe_services(self: EC2ContainerServiceResponse) -> Any:
        with LOCK:
            cluster = self._get_param("cluster")
            for name in self._get_param("services", []):
                service = _service_of(self, cluster, name)
                if service is not None:
                    advance(service)
            return original(self)
    return describe_services


def _after_register_scalable_target(self: ApplicationAutoScalingResponse, result: str) -> None:
    if (self._get_param("ServiceNamespace") != "ecs"
            or self._get_param("ScalableDimension") != "ecs:service:DesiredCount"):
        return
    _, cluster, name = self._get_param("ResourceId").split("/")
    backend = ecs_backends[self.current_account][self.region]
    service = backend.services.get(f"{cluster}:{name}")
    if service is None or service.status != "ACTIVE":
        return  # "If the specified resource is not active ... does not change the current capacity."
    target = self.applicationautoscaling_backend.targets["ecs:service:DesiredCount"][self._get_param("ResourceId")]
    with LOCK:
        clamped = min(max(service.desired_count, target.min_capacity), target.max_capacity)
        if clamped != service.desired_count:
            _event(service, f"desired count changed from {service.desired_count} to {clamped} by "
                            f"Application Auto Scaling (range {target.min_capacity}-{target.max_capacity}).")
            service.desired_count = clamped
            for deployment in service.deployments:
                if deployment["status"] == "PRIMARY":
                    deployment["emulatorBatchAt"] = _now()
        advance(service)


def patch(wrap: Callable[..., None]) -> None:
    """Installs the hooks; `wrap(cls, name, after)` is the emulator's after-hook helper."""
    wrap(EC2ContainerServiceResponse, "create_service", _after_create_service)
    EC2ContainerServiceResponse.update_service = _around_update_service(EC2ContainerServiceResponse.update_service)
    EC2ContainerServiceResponse.describe_services = _before_describe_services(
        EC2ContainerServiceResponse.describe_services)
    wrap(ApplicationAutoScalingResponse, "register_scalable_target", _after_register_scalable_target)
