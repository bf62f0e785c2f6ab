#!/usr/bin/env python3
"""Local AWS API for the Terraform apply test: moto's server plus the few
calls moto 5.2.1 lacks, and the fields it drops, for the resources in tf/.

    aws_emulator.py --port-file FILE

Listens on 127.0.0.1 on a port the kernel picks (no race with other tests),
writes that port to FILE once it accepts connections, and serves until
SIGTERM or SIGINT. POST /moto-api/reset clears all state, these additions
included (they live on moto's backend objects).

What is added, and why it matters for the test:
  * Application Auto Scaling TagResource / UntagResource /
    ListTagsForResource, and the Tags of RegisterScalableTarget: without them
    aws_appautoscaling_target fails with a 500.
  * EKS access entries, access policy associations and add-ons (no routes in
    moto): kept per cluster, ACTIVE at once.
  * EKS cluster: accessConfig and upgradePolicy are kept as sent, and the
    cluster gets a real security group in its VPC as clusterSecurityGroupId,
    deleted with the cluster (EKS creates and deletes it the same way).
  * EKS node group: an Auto Scaling group of the name moto reports in
    resources.autoScalingGroups, built from the node group's launch template
    and subnets and deleted with it, so target groups can be attached.
  * EKS node group: updateConfig is kept, and no SSH remote access is invented.
  * ECS service: capacityProviderStrategy, healthCheckGracePeriodSeconds,
    deploymentConfiguration (circuit breaker, percentages),
    enableECSManagedTags and availabilityZoneRebalancing are kept as sent.
  * ECS deployments and Application Auto Scaling capacity behave as AWS
    documents them (tests/tf/ecs_rollouts.py): a scalable target moves the
    service's desired count into its range, tasks need a pullable image of
    the task's architecture, and the circuit breaker fails and rolls back.
  * EC2: a security group rule that names a source group keeps its
    description; a launch template's own tags no longer leak into its
    launch data.
  * ELB: an internet-facing load balancer in a VPC without an attached
    internet gateway is refused with InvalidSubnet (moto creates it); a
    target group a modified listener forwards to names the load balancer.
  * Application Auto Scaling: updating a target tracking policy keeps one
    set of alarms (moto left the old set behind).
  * CloudWatch Logs: CreateLogGroup and the added AssociateKmsKey refuse a
    KMS key whose policy does not let logs.REGION.amazonaws.com use it for
    that log group (AccessDeniedException); DisassociateKmsKey is added.
  * EKS DescribeAddonVersions from a fixed catalog, and CreateAddon refuses
    a version that the catalog does not offer for the cluster's version.
  * ELB: turning access logs on is refused ("Access Denied for bucket")
    unless the bucket exists and its policy lets the region's ELB account or
    the log delivery principal put the log objects.
  * EKS: the control-plane log group /aws/eks/NAME/cluster is created by
    the cluster when logging is on, and re-created by the service when it
    is deleted while or just after the cluster goes, as EKS does.
Everything else is moto as released.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
from typing import Any, Callable

# Attaching AWS-managed IAM policies needs moto to know them.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

import moto.eks.urls as eks_urls  # noqa: E402
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse  # noqa: E402
from moto.autoscaling.models import autoscaling_backends  # noqa: E402
from moto.ec2.models import ec2_backends  # noqa: E402
from moto.ecs.responses import EC2ContainerServiceResponse  # noqa: E402
from moto.eks.models import eks_backends  # noqa: E402
from moto.eks.responses import EKSResponse  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecs_rollouts  # noqa: E402

Response = tuple[int, dict[str, str], str]


def region_of(headers: dict[str, str]) -> str:
    """Returns the region named in a SigV4 Authorization header (us-east-1 if none)."""
    match = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    return match.group(1) if match else "us-east-1"


def json_response(status: int, body: dict[str, Any]) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def not_found(message: str) -> Response:
    status, headers, body = json_response(404, {"message": message, "__type": "ResourceNotFoundException"})
    headers["x-amzn-ErrorType"] = "ResourceNotFoundException"
    return status, headers, body


def wrap(cls: type, name: str, after: Callable[..., Any]) -> None:
    """Replaces cls.name by a method calling the original, then after(self, result)."""
    original = getattr(cls, name)

    def wrapper(self: Any) -> Any:
        result = original(self)
        after(self, result)
        return result

    setattr(cls, name, wrapper)


# ------------------------------------------------- Application Auto Scaling


def _autoscaling_tags(response: ApplicationAutoScalingResponse) -> dict[str, dict[str, str]]:
    backend = response.applicationautoscaling_backend
    if not hasattr(backend, "emulator_tags"):
        backend.emulator_tags = {}
    return backend.emulator_tags


def _list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
    arn = self._get_param("ResourceARN")
    return json.dumps({"Tags": _autoscaling_tags(self).get(arn, {})})


def _tag_resource(self: ApplicationAutoScalingResponse) -> str:
    arn = self._get_param("ResourceARN")
    _autoscaling_tags(self).setdefault(arn, {}).update(self._get_param("Tags") or {})
    return "{}"


def _untag_resource(self: ApplicationAutoScalingResponse) -> str:
    arn = self._get_param("ResourceARN")
    for key in self._get_param("TagKeys") or []:
        _autoscaling_tags(self).get(arn, {}).pop(key, None)
    return "{}"


def _store_target_tags(self: ApplicationAutoScalingResponse, result: str) -> None:
    tags = self._get_param("Tags")
    if tags:
        arn = json.loads(result)["ScalableTargetARN"]
        _autoscaling_tags(self).setdefault(arn, {}).update(tags)


def patch_application_autoscaling() -> None:
    ApplicationAutoScalingResponse.list_tags_for_resource = _list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = _tag_resource
    ApplicationAutoScalingResponse.untag_resource = _untag_resource
    wrap(ApplicationAutoScalingResponse, "register_scalable_target", _store_target_tags)


# ---------------------------------------------------------------------- ECS


def _keep_service_fields(self: EC2ContainerServiceResponse, result: Any) -> None:
    service = result.result["service"]
    strategy = self._get_param("capacityProviderStrategy")
    if strategy:
        service.capacity_provider_strategy = strategy
    grace = self._get_param("healthCheckGracePeriodSeconds")
    if grace is not None:
        service.health_check_grace_period_seconds = grace
    managed_tags = self._get_param("enableECSManagedTags")
    if managed_tags is not None:
        service.enable_ecs_managed_tags = managed_tags
    deployment = self._get_param("deploymentConfiguration")
    if deployment:
        service.deployment_configuration = deployment
    rebalancing = self._get_param("availabilityZoneRebalancing")
    if rebalancing is not None:
        service.availability_zone_rebalancing = rebalancing


def patch_ecs() -> None:
    wrap(EC2ContainerServiceResponse, "create_service", _keep_service_fields)
    wrap(EC2ContainerServiceResponse, "update_service", _keep_service_fields)
    # After the fields above are kept: the rollouts read the circuit breaker setting.
    ecs_rollouts.patch(wrap)


# ---------------------------------------------------------------------- EC2


def patch_ec2() -> None:
    from moto.ec2.models.launch_templates import LaunchTemplateBackend
    from moto.ec2.models.security_groups import SecurityGroupRule

    # A rule naming a source group keeps its description there, not in ip_range.
    SecurityGroupRule.description = property(
        lambda rule: rule.ip_range.get("Description") or (rule.source_group or {}).get("Description")
    )

    # moto copies the launch template's own tags into its launch data as a
    # "launch-template" tag specification, which EC2 does not do.
    original = LaunchTemplateBackend.create_launch_template

    def create_launch_template(self: Any, name: str, description: str, template_data: dict[str, Any],
                               tag_spec: Any) -> Any:
        specs = template_data.get("TagSpecifications")
        if specs:
            template_data["TagSpecifications"] = [s for s in specs if s.get("ResourceType") != "launch-template"]
        return original(self, name, description, template_data, tag_spec)

    LaunchTemplateBackend.create_launch_template = create_launch_template


# ---------------------------------------------------------------------- EKS


def _eks_cluster(headers: dict[str, str], name: str) -> Any:
    return eks_backends[DEFAULT_ACCOUNT_ID][region_of(headers)].clusters.get(name)


def _keep_cluster_fields(self: EKSResponse, result: Any) -> None:
    cluster = self.eks_backend.clusters[self._get_param("name")]
    cluster.access_config = self._get_param("accessConfig") or {"authenticationMode": "CONFIG_MAP"}
    if self._get_param("upgradePolicy"):
        cluster.upgrade_policy = self._get_param("upgradePolicy")
    cluster.emulator_addons = {}
    cluster.emulator_access_entries = {}
    cluster.emulator_pod_identity_associations = {}
    subnets = cluster.resources_vpc_config.get("subnetIds") or []
    if subnets:
        ec2 = ec2_backends[self.current_account][self.region]
        vpc_id = ec2.get_subnet(subnets[0]).vpc_id
        group = ec2.create_security_group(
            name=f"eks-cluster-sg-{cluster.name}",
            description="EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, "
                        "as well as any managed workloads.",
            vpc_id=vpc_id,
        )
        cluster.resources_vpc_config["clusterSecurityGroupId"] = group.id
        cluster.resources_vpc_config["vpcId"] = vpc_id


def _delete_cluster_group(self: EKSResponse, result: Any) -> None:
    group_id = result.result["cluster"].resources_vpc_config.get("clusterSecurityGroupId")
    if group_id:
        ec2_backends[self.current_account][self.region].delete_security_group(group_id=group_id)


def _create_node_autoscaling_group(self: EKSResponse, result: Any) -> None:
    nodegroup = result.result["nodegroup"]
    # moto invents an SSH key pair when none is asked for, and drops updateConfig.
    nodegroup.remote_access = self._get_param("remoteAccess")
    nodegroup.update_config = self._get_param("updateConfig")
    template = nodegroup.launch_template or {}
    scaling = nodegroup.scaling_config or {}
    autoscaling_backends[self.current_account][self.region].create_auto_scaling_group(
        name=nodegroup.resources["autoScalingGroups"][0]["name"],
        availability_zones=[],
        desired_capacity=scaling.get("desiredSize", 1),
        max_size=scaling.get("maxSize", 1),
        min_size=scaling.get("minSize", 1),
        launch_config_name=None,
        launch_template={"LaunchTemplateId": template.get("id"), "Version": template.get("version") or "$Default"},
        vpc_zone_identifier=",".join(nodegroup.subnets),
        default_cooldown=None,
        health_check_period=None,
        health_check_type="EC2",
        load_balancers=[],
        target_group_arns=[],
        placement_group=None,
        termination_policies=[],
        tags=[],
    )


def _delete_node_autoscaling_group(self: EKSResponse, result: Any) -> None:
    nodegroup = result.result["nodegroup"]
    backend = autoscaling_backends[self.current_account][self.region]
    backend.delete_auto_scaling_group(nodegroup.resources["autoScalingGroups"][0]["name"])


def _access_entry_view(cluster: Any, entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "policies"} | {"clusterName": cluster.name}


def _access_entries(method: str, cluster: Any, parts: list[str], body: dict[str, Any]) -> Response:
    """/clusters/NAME/access-entries[/PRINCIPAL[/access-policies[/POLICY]]]"""
    entries = cluster.emulator_access_entries
    if not parts:
        if method == "GET":
            return json_response(200, {"accessEntries": sorted(entries)})
        principal = body["principalArn"]
        now = time.time()
        entries[principal] = {
            "principalArn": principal,
            "kubernetesGroups": body.get("kubernetesGroups") or [],
            "accessEntryArn": f"{cluster.arn.replace(':cluster/', ':access-entry/')}/{principal.split(':')[-1]}",
            "createdAt": now,
            "modifiedAt": now,
            "tags": body.get("tags") or {},
            "username": body.get("username") or principal,
            "type": body.get("type") or "STANDARD",
            "policies": {},
        }
        return json_response(200, {"accessEntry": _access_entry_view(cluster, entries[principal])})

    joined = "/".join(parts)
    principal, _, policy_part = joined.partition("/access-policies")
    entry = entries.get(principal)
    if entry is None:
        return not_found(f"The specified access entry resource is not found: {principal}")
    if not policy_part and not joined.endswith("/access-policies"):
        if method == "DELETE":
            del entries[principal]
            return json_response(200, {})
        return json_response(200, {"accessEntry": _access_entry_view(cluster, entry)})

    policies = entry["policies"]
    policy_arn = policy_part.lstrip("/")
    if not policy_arn:
        if method == "GET":
            return json_response(200, {"clusterName": cluster.name, "principalArn": principal,
                                       "associatedAccessPolicies": list(policies.values())})
        now = time.time()
        policies[body["policyArn"]] = {"policyArn": body["policyArn"], "accessScope": body.get("accessScope") or {},
                                       "associatedAt": now, "modifiedAt": now}
        return json_response(200, {"clusterName": cluster.name, "principalArn": principal,
                                   "associatedAccessPolicy": policies[body["policyArn"]]})
    if policy_arn not in policies:
        return not_found(f"The specified access policy association is not found: {policy_arn}")
    if method == "DELETE":
        del policies[policy_arn]
    return json_response(200, {})


def _addons(method: str, cluster: Any, parts: list[str], body: dict[str, Any]) -> Response:
    """/clusters/NAME/addons[/ADDON]"""
    addons = cluster.emulator_addons
    if not parts:
        if method == "GET":
            return json_response(200, {"addons": sorted(addons)})
        name = body["addonName"]
        now = time.time()
        addons[name] = {
            "addonName": name,
            "clusterName": cluster.name,
            "status": "ACTIVE",
            "addonVersion": body.get("addonVersion") or f"v{cluster.version}.0-eksbuild.1",
            "health": {"issues": []},
            "addonArn": f"{cluster.arn.replace(':cluster/', ':addon/')}/{name}/00000000-0000-0000-0000-000000000000",
            "createdAt": now,
            "modifiedAt": now,
            "tags": body.get("tags") or {},
        }
        for key in ("serviceAccountRoleArn", "configurationValues"):
            if body.get(key):
                addons[name][key] = body[key]
        return json_response(200, {"addon": addons[name]})
    addon = addons.get(parts[0])
    if addon is None or len(parts) > 1:
        return not_found(f"No addon: {parts[0]} found in cluster: {cluster.name}")
    if method == "DELETE":
        del addons[parts[0]]
        return json_response(200, {"addon": addon | {"status": "DELETING"}})
    return json_response(200, {"addon": addon})


def _pod_identity_associations(method: str, cluster: Any, parts: list[str], body: dict[str, Any]) -> Response:
    """/clusters/NAME/pod-identity-associations[/ID]: CreatePodIdentityAssociation (POST),
    ListPodIdentityAssociations (GET), Describe (GET ID), Update (POST ID), Delete (DELETE ID),
    with the PodIdentityAssociation shape of the Amazon EKS API Reference (associationArn,
    associationId, clusterName, namespace, serviceAccount, roleArn, tags, createdAt,
    modifiedAt). The list returns "summaries" without roleArn, as ListPodIdentityAssociations
    does."""
    associations = cluster.emulator_pod_identity_associations
    if not parts:
        if method == "GET":
            summaries = [{key: a[key] for key in ("clusterName", "namespace", "serviceAccount", "associationArn",
                                                  "associationId")} for a in associations.values()]
            return json_response(200, {"associations": summaries})
        association_id = "a-" + secrets.token_hex(9)[:17]
        now = time.time()
        associations[association_id] = {
            "clusterName": cluster.name,
            "namespace": body["namespace"],
            "serviceAccount": body["serviceAccount"],
            "roleArn": body["roleArn"],
            "associationArn": f"{cluster.arn.replace(':cluster/', ':podidentityassociation/')}/{association_id}",
            "associationId": association_id,
            "tags": body.get("tags") or {},
            "createdAt": now,
            "modifiedAt": now,
        }
        return json_response(200, {"association": associations[association_id]})
    association = associations.get(parts[0])
    if association is None or len(parts) > 1:
        return not_found(f"No Pod Identity Association found with id {parts[0]} in cluster {cluster.name}")
    if method == "DELETE":
        del associations[parts[0]]
    elif method == "POST" and body.get("roleArn"):
        association.update(roleArn=body["roleArn"], modifiedAt=time.time())
    return json_response(200, {"association": association})


def eks_extra_routes(request: Any, full_url: str, headers: dict[str, str]) -> Response:
    """Serves /clusters/NAME/access-entries..., /addons... and /pod-identity-associations..."""
    parts = [part for part in request.path.split("/") if part][1:]
    cluster = _eks_cluster(headers, parts[0])
    if cluster is None:
        return not_found(f"No cluster found for name: {parts[0]}.")
    body = json.loads(request.get_data() or b"{}")
    if parts[1] == "access-entries":
        return _access_entries(request.method, cluster, parts[2:], body)
    if parts[1] == "pod-identity-associations":
        return _pod_identity_associations(request.method, cluster, parts[2:], body)
    return _addons(request.method, cluster, parts[2:], body)


def patch_eks() -> None:
    wrap(EKSResponse, "create_cluster", _keep_cluster_fields)
    wrap(EKSResponse, "delete_cluster", _delete_cluster_group)
    wrap(EKSResponse, "create_nodegroup", _create_node_autoscaling_group)
    wrap(EKSResponse, "delete_nodegroup", _delete_node_autoscaling_group)
    eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/access-entries$"] = eks_extra_routes
    eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<rest>.+)$"] = eks_extra_routes
    eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/addons$"] = eks_extra_routes
    eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/addons/(?P<addon>[^/]+)$"] = eks_extra_routes
    eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$"] = eks_extra_routes
    eks_urls.url_paths[
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<association>[^/]+)$"] = eks_extra_routes


# ------------------------------------------ ELB and EKS, as AWS documents them


def _refuse_internet_facing_without_gateway(backend: Any, arguments: dict[str, Any]) -> None:
    """Raises InvalidSubnet for an internet-facing load balancer whose VPC has no
    attached internet gateway. Elastic Load Balancing API Reference (InvalidSubnet,
    AttachLoadBalancerToSubnets): "The specified VPC has no associated Internet
    gateway."
    https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_AttachLoadBalancerToSubnets.html"""
    from moto.elbv2.exceptions import ELBClientError

    if arguments.get("scheme") == "internal":
        return
    subnet_ids = list(arguments.get("subnet_ids") or []) + [
        m["SubnetId"] for m in arguments.get("subnet_mappings") or [] if "SubnetId" in m
    ]
    ec2 = backend.ec2_backend
    vpcs = set()
    for subnet_id in subnet_ids:
        try:
            vpcs.add(ec2.get_subnet(subnet_id).vpc_id)
        except Exception:  # an unknown subnet: moto's own error follows
            return
    attached = {igw.vpc.id for igw in ec2.internet_gateways.values() if igw.vpc}
    missing = sorted(vpcs - attached)
    if missing:
        raise ELBClientError("InvalidSubnet", f"VPC {missing[0]} has no internet gateway")


def patch_elbv2_internet_gateway() -> None:
    import inspect

    from moto.elbv2.models import ELBv2Backend

    original = ELBv2Backend.create_load_balancer
    signature = inspect.signature(original)

    def create_load_balancer(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        _refuse_internet_facing_without_gateway(self, bound.arguments)
        return original(self, *args, **kwargs)

    ELBv2Backend.create_load_balancer = create_load_balancer


def patch_elbv2_listener_target_groups() -> None:
    """A target group a listener starts forwarding to (ModifyListener) names that
    load balancer, as when the listener was created: DescribeTargetGroups,
    TargetGroup.LoadBalancerArns, "The Amazon Resource Name (ARN) of the load
    balancer that routes traffic to this target group." (ELB API Reference,
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html).
    moto only records it on CreateListener/CreateRule."""
    from moto.elbv2.models import ELBv2Backend

    original = ELBv2Backend.modify_listener

    def modify_listener(self: Any, *args: Any, **kwargs: Any) -> Any:
        listener = original(self, *args, **kwargs)
        for action in listener.default_actions:
            for arn in self._get_target_group_arns_from(action_data=action.data):
                group = self.target_groups.get(arn)
                if group is not None and listener.load_balancer_arn not in group.load_balancer_arns:
                    group.load_balancer_arns.append(listener.load_balancer_arn)
        return listener

    ELBv2Backend.modify_listener = modify_listener


def patch_target_tracking_policy_update() -> None:
    """PutScalingPolicy "Creates or updates a scaling policy" (Application Auto
    Scaling API Reference); the alarms of a target tracking policy are the
    service's own ("Do not edit or delete the CloudWatch alarms that are
    configured for the target tracking scaling policy", Application Auto Scaling
    User Guide, target tracking). An update keeps one set of them: moto created a
    second set and left the first behind for good."""
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, FakeApplicationAutoscalingPolicy

    original = ApplicationAutoscalingBackend.put_scaling_policy

    def put_scaling_policy(self: Any, policy_name: str, service_namespace: str, resource_id: str,
                           scalable_dimension: str, *args: Any, **kwargs: Any) -> Any:
        key = FakeApplicationAutoscalingPolicy.formulate_key(service_namespace, resource_id, scalable_dimension,
                                                             policy_name)
        old = self.policies.get(key)
        if old is not None:
            old.delete_alarms(self.account_id, self.region_name)
        return original(self, policy_name, service_namespace, resource_id, scalable_dimension, *args, **kwargs)

    ApplicationAutoscalingBackend.put_scaling_policy = put_scaling_policy


# EKS User Guide, control-plane logging: "logs are sent as log streams to a
# group for each Amazon EKS cluster in CloudWatch"; the group is
# /aws/eks/NAME/cluster and EKS creates it when logging is enabled.
# https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
# After Terraform deletes that group while the cluster is going away, the EKS
# service-linked role writes the last logs and the group comes back
# (CloudTrail in terraform-aws-modules/terraform-aws-eks#2763, also #2486), so
# the next create of the same name fails with ResourceAlreadyExistsException.
EKS_LOG_GROUP = re.compile(r"^/aws/eks/(?P<cluster>[^/]+)/cluster$")
# How long after a cluster is deleted EKS may still deliver its logs.
EKS_LATE_LOGS_SECONDS = 600.0


def _eks_logging_on(cluster: Any) -> bool:
    return any(entry.get("enabled") for entry in (cluster.logging or {}).get("clusterLogging", []))


def patch_eks_control_plane_log_group() -> None:
    from moto.logs.models import LogsBackend, logs_backends

    # (account, region, cluster) -> None while the cluster exists, else when it was deleted.
    clusters_logging: dict[tuple[str, str, str], float | None] = {}

    def log_group_for_new_cluster(self: EKSResponse, result: Any) -> None:
        cluster = self.eks_backend.clusters[self._get_param("name")]
        if not _eks_logging_on(cluster):
            return
        clusters_logging[(self.current_account, self.region, cluster.name)] = None
        logs = logs_backends[self.current_account][self.region]
        name = f"/aws/eks/{cluster.name}/cluster"
        if name not in logs.groups:
            logs.create_log_group(name, tags={})

    def note_cluster_deleted(self: EKSResponse, result: Any) -> None:
        key = (self.current_account, self.region, result.result["cluster"].name)
        if key in clusters_logging:
            clusters_logging[key] = time.time()

    original_delete = LogsBackend.delete_log_group

    def delete_log_group(self: Any, log_group_name: str) -> None:
        original_delete(self, log_group_name)
        match = EKS_LOG_GROUP.match(log_group_name)
        key = (self.account_id, self.region_name, match.group("cluster")) if match else None
        if key is None or key not in clusters_logging:
            return
        deleted_at = clusters_logging[key]
        if deleted_at is None or time.time() - deleted_at < EKS_LATE_LOGS_SECONDS:
            self.create_log_group(log_group_name, tags={})

    wrap(EKSResponse, "create_cluster", log_group_for_new_cluster)
    wrap(EKSResponse, "delete_cluster", note_cluster_deleted)
    LogsBackend.delete_log_group = delete_log_group


# ------------------------------------------------------ EKS add-on versions
# DescribeAddonVersions "Describes the versions for an add-on. Information such
# as the Kubernetes versions that you can use the add-on with, the owner,
# publisher, and the type of the add-on are returned." (Amazon EKS API
# Reference, GET /addons/supported-versions?addonName=...&kubernetesVersion=...,
# https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonVersions.html).
# CreateAddon, addonVersion: "The version of the add-on. The version must match
# one of the versions returned by DescribeAddonVersions." (same reference,
# API_CreateAddon.html). moto has neither the call nor the check.
# The versions below are a fixed, illustrative catalog (newest first, as the
# provider expects: with most_recent it takes the first one listed); the
# second one of each list is EKS's default. kube-proxy follows the Kubernetes
# minor version, as its real builds do.
EKS_ADDON_CLUSTER_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")
EKS_ADDON_BUILDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "vpc-cni": ("networking", ("v1.20.4-eksbuild.2", "v1.20.1-eksbuild.3", "v1.19.6-eksbuild.7")),
    "coredns": ("networking", ("v1.12.4-eksbuild.1", "v1.12.1-eksbuild.2", "v1.11.4-eksbuild.14")),
    "eks-pod-identity-agent": ("security", ("v1.3.9-eksbuild.3", "v1.3.8-eksbuild.2")),
    "metrics-server": ("observability", ("v0.8.0-eksbuild.2", "v0.7.2-eksbuild.4")),
    "aws-ebs-csi-driver": ("storage", ("v1.48.0-eksbuild.2", "v1.47.0-eksbuild.1")),
}


def eks_addon_versions(addon_name: str, kubernetes_version: str) -> list[str]:
    """Returns the versions EKS offers of addon_name for kubernetes_version, newest first ([] if none)."""
    if kubernetes_version not in EKS_ADDON_CLUSTER_VERSIONS:
        return []
    if addon_name == "kube-proxy":
        return [f"v{kubernetes_version}.0-eksbuild.3", f"v{kubernetes_version}.0-eksbuild.1"]
    return list(EKS_ADDON_BUILDS.get(addon_name, ("", ()))[1])


def eks_describe_addon_versions(request: Any, full_url: str, headers: dict[str, str]) -> Response:
    """GET /addons/supported-versions: DescribeAddonVersions, filtered by addonName and kubernetesVersion."""
    wanted = request.args.get("addonName")
    versions = ([request.args["kubernetesVersion"]] if request.args.get("kubernetesVersion")
                else list(EKS_ADDON_CLUSTER_VERSIONS))
    addons = []
    for name in sorted(set(EKS_ADDON_BUILDS) | {"kube-proxy"}):
        if wanted and name != wanted:
            continue
        entries: dict[str, dict[str, Any]] = {}
        for kubernetes_version in versions:
            for index, version in enumerate(eks_addon_versions(name, kubernetes_version)):
                entry = entries.setdefault(version, {"addonVersion": version, "architecture": ["amd64", "arm64"],
                                                     "computeTypes": ["ec2"], "compatibilities": [],
                                                     "requiresConfiguration": False, "requiresIamPermissions": False})
                entry["compatibilities"].append({"clusterVersion": kubernetes_version, "platformVersions": ["*"],
                                                 "defaultVersion": index == 1})
        if entries:
            kind = "networking" if name == "kube-proxy" else EKS_ADDON_BUILDS[name][0]
            addons.append({"addonName": name, "type": kind, "addonVersions": list(entries.values()),
                           "publisher": "eks", "owner": "aws"})
    return json_response(200, {"addons": addons})


def _invalid_parameter(message: str) -> Response:
    status, headers, body = json_response(400, {"message": message, "__type": "InvalidParameterException"})
    headers["x-amzn-ErrorType"] = "InvalidParameterException"
    return status, headers, body


def patch_eks_addon_versions() -> None:
    global _addons
    unchecked_addons = _addons

    def checked_addons(method: str, cluster: Any, parts: list[str], body: dict[str, Any]) -> Response:
        version = body.get("addonVersion")
        if (method == "POST" and not parts and version
                and version not in eks_addon_versions(body.get("addonName", ""), cluster.version)):
            return _invalid_parameter(f"Addon version specified is not supported: {version} is not offered "
                                      f"for {body.get('addonName')} on Kubernetes {cluster.version}")
        return unchecked_addons(method, cluster, parts, body)

    _addons = checked_addons
    eks_urls.url_paths["{0}/addons/supported-versions$"] = eks_describe_addon_versions


# ------------------------------------------------------- ELB access logs
# Elastic Load Balancing, "Enable access logs for your Application Load
# Balancer": "The bucket must have a bucket policy that grants Elastic Load
# Balancing permission to write to the bucket." In the Regions available
# before August 2022 that is the region's ELB account (the table on that
# page); "For regions launched in August 2022 or later, you should instead
# provide a policy that grants permissions to the
# logdelivery.elasticloadbalancing.amazonaws.com principal."
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
# ELB checks it when logging is turned on and refuses with
# "InvalidConfigurationRequest: Access Denied for bucket: NAME. Please check
# S3bucket permission" (terraform-aws-modules/terraform-aws-s3-bucket#185);
# moto turned logging on whatever the bucket said.
ELB_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-south-1": "718504428378", "ap-northeast-1": "582318560864", "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-west-3": "009996457667",
    "eu-south-1": "635631232127", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}
ELB_LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def elb_may_write_access_logs(policy_text: str | None, bucket: str, prefix: str, account_id: str,
                              region: str) -> bool:
    """Returns whether a bucket policy lets ELB put the load balancer's log
    objects: an Allow of s3:PutObject on bucket[/prefix]/AWSLogs/ACCOUNT/
    elasticloadbalancing/REGION/... (the log file name format of the access
    logs page) to the region's ELB account or the log delivery principal."""
    import fnmatch

    if not policy_text:
        return False
    try:
        statements = _listed(json.loads(policy_text).get("Statement", []))
    except (ValueError, AttributeError):
        return False
    key = "/".join(part for part in (prefix.strip("/"), "AWSLogs", account_id, "elasticloadbalancing", region,
                                     "access.log.gz") if part)
    object_arn = f"arn:aws:s3:::{bucket}/{key}"
    elb_account = ELB_ACCOUNTS.get(region)
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        names = {"*"} if principal == "*" else (
            set(_listed(principal.get("AWS", []))) | set(_listed(principal.get("Service", []))))
        writer = "*" in names or ELB_LOG_DELIVERY in names or (elb_account is not None and any(
            name == elb_account or re.fullmatch(rf"arn:aws[a-z-]*:iam::{elb_account}:root", str(name))
            for name in names))
        puts = any(fnmatch.fnmatchcase("s3:putobject", str(action).lower())
                   for action in _listed(statement.get("Action", [])))
        covers = any(fnmatch.fnmatchcase(object_arn, str(resource))
                     for resource in _listed(statement.get("Resource", [])))
        if writer and puts and covers:
            return True
    return False


def patch_elbv2_access_logs_permission() -> None:
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    original = ELBv2Backend.modify_load_balancer_attributes

    def modify_load_balancer_attributes(self: Any, arn: str, attrs: dict[str, Any]) -> dict[str, Any]:
        balancer = self.load_balancers.get(arn)
        if balancer is not None and str(attrs.get("access_logs.s3.enabled", "")).lower() == "true":
            merged = {**balancer.attrs, **attrs}
            bucket = merged.get("access_logs.s3.bucket") or ""
            try:
                policy = s3_backends[self.account_id][get_partition(self.region_name)].get_bucket(bucket).policy
            except Exception:  # no such bucket: nothing grants anything
                policy = None
            text = policy.decode() if isinstance(policy, bytes) else policy
            if not elb_may_write_access_logs(text, bucket, merged.get("access_logs.s3.prefix") or "",
                                             self.account_id, self.region_name):
                raise ELBClientError("InvalidConfigurationRequest",
                                     f"Access Denied for bucket: {bucket}. Please check S3bucket permission")
        return original(self, arn, attrs)

    ELBv2Backend.modify_load_balancer_attributes = modify_load_balancer_attributes


# ------------------------------------------- CloudWatch Logs and KMS keys
# A log group is encrypted by CloudWatch Logs itself, as its service principal,
# so the key policy must let that principal use the key: the CloudWatch Logs
# User Guide, "Encrypt log data in CloudWatch Logs using AWS Key Management
# Service" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html),
# grants "Principal": {"Service": "logs.region.amazonaws.com"} kms:Encrypt*,
# kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe*, optionally
# conditioned on "kms:EncryptionContext:aws:logs:arn" (the log group's ARN).
# A key whose policy does not is refused at CreateLogGroup and AssociateKmsKey:
# "AccessDeniedException: The specified KMS key does not exist or is not allowed
# to be used with Arn 'arn:aws:logs:REGION:ACCOUNT:log-group:NAME'"
# (hashicorp/terraform-provider-aws#29282, ministryofjustice/modernisation-platform#7870).
# moto stores any key ID and has no AssociateKmsKey / DisassociateKmsKey.
LOGS_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt")


def _policy_values(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _statement_lets_logs_use_key(statement: dict[str, Any], region: str, account: str, log_group_arn: str) -> bool:
    import fnmatch

    if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotPrincipal" in statement:
        return False
    principal = statement.get("Principal")
    services = _policy_values(principal.get("Service")) if isinstance(principal, dict) else []
    if principal != "*" and f"logs.{region}.amazonaws.com" not in services:
        return False
    actions = _policy_values(statement.get("Action"))
    if not all(any(fnmatch.fnmatchcase(needed, granted) for granted in actions) for needed in LOGS_KEY_ACTIONS):
        return False
    context = {"kms:EncryptionContext:aws:logs:arn": log_group_arn, "aws:SourceAccount": account,
               "aws:SourceArn": log_group_arn}
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, values in conditions.items():
            if key not in context or operator not in ("ArnEquals", "ArnLike", "StringEquals", "StringLike"):
                return False  # a condition this emulator cannot evaluate never grants
            match = fnmatch.fnmatchcase if operator.endswith("Like") else str.__eq__
            if not any(match(context[key], value) for value in _policy_values(values)):
                return False
    return True


def check_logs_may_use_key(account: str, region: str, log_group_name: str, kms_key_id: str) -> None:
    """Raises AccessDeniedException unless kms_key_id is an enabled key whose policy lets
    CloudWatch Logs of region use it for the log group log_group_name."""
    from moto.core.exceptions import JsonRESTError
    from moto.kms.models import kms_backends

    log_group_arn = f"arn:aws:logs:{region}:{account}:log-group:{log_group_name}"
    key_region = kms_key_id.split(":")[3] if kms_key_id.startswith("arn:") else region
    key = None
    try:
        key = kms_backends[account][key_region].describe_key(kms_key_id)
    except Exception:  # unknown key: refused below like one CloudWatch Logs may not use
        pass
    allowed = key is not None and key.key_state == "Enabled" and any(
        _statement_lets_logs_use_key(statement, region, account, log_group_arn)
        for statement in json.loads(key.policy).get("Statement", []))
    if not allowed:
        raise JsonRESTError("AccessDeniedException", "The specified KMS key does not exist or is not allowed "
                            f"to be used with Arn '{log_group_arn}'")


def patch_logs_kms_keys() -> None:
    from moto.logs.models import LogsBackend
    from moto.logs.responses import LogsResponse

    original_create = LogsBackend.create_log_group

    def create_log_group(self: Any, log_group_name: str, tags: dict[str, str], **kwargs: Any) -> Any:
        if kwargs.get("kmsKeyId"):
            check_logs_may_use_key(self.account_id, self.region_name, log_group_name, kwargs["kmsKeyId"])
        return original_create(self, log_group_name, tags, **kwargs)

    def associate_kms_key(self: LogsResponse) -> str:
        group = self.logs_backend.groups.get(self._get_param("logGroupName"))
        if group is None:
            from moto.logs.exceptions import ResourceNotFoundException
            raise ResourceNotFoundException()
        check_logs_may_use_key(self.current_account, self.region, group.name, self._get_param("kmsKeyId"))
        group.kms_key_id = self._get_param("kmsKeyId")
        return ""

    def disassociate_kms_key(self: LogsResponse) -> str:
        group = self.logs_backend.groups.get(self._get_param("logGroupName"))
        if group is None:
            from moto.logs.exceptions import ResourceNotFoundException
            raise ResourceNotFoundException()
        group.kms_key_id = None
        return ""

    LogsBackend.create_log_group = create_log_group
    LogsResponse.associate_kms_key = associate_kms_key
    LogsResponse.disassociate_kms_key = disassociate_kms_key


# ------------------------------------------------------------------- server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True, help="file to write the listening port to")
    args = parser.parse_args()

    patch_application_autoscaling()
    patch_ec2()
    patch_ecs()
    patch_eks()
    patch_elbv2_internet_gateway()
    patch_elbv2_listener_target_groups()
    patch_target_tracking_policy_update()
    patch_eks_control_plane_log_group()
    patch_elbv2_access_logs_permission()
    patch_eks_addon_versions()
    patch_logs_kms_keys()

    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True)

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    port_file_tmp = f"{args.port_file}.tmp"
    with open(port_file_tmp, "w", encoding="ascii") as out:
        out.write(f"{server.server_address[1]}\n")
    os.replace(port_file_tmp, args.port_file)

    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
