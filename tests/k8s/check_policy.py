#!/usr/bin/env python3
"""Policy checks on rendered Kubernetes manifests (the output of `kubectl kustomize`).

Usage:
  check_policy.py RENDERED.json [--eks [--target-group-arn ARN] [--alb-security-group SG]]
                  [--terraform DIR] [--image REF]                 check one rendering
  check_policy.py RENDERED.json [--eks] --self-test                prove each check can fail

RENDERED.json is a JSON array of the objects. --eks: the rendering is the EKS entry (pods
bound to the load balancer's target group by a TargetGroupBinding); without it, the portable
base (no binding, nothing exposed outside the cluster). --target-group-arn and
--alb-security-group: the values a deploy must have set in the binding. --terraform: the
Terraform root whose EKS target group deregistration delay the preStop sleep must outlast
(default: tf/ of this repository). --node-port N is accepted for old callers as --eks (the
load balancer no longer targets a NodePort; the number is ignored). Prints `ok - ...` / `not ok - ...` per check
and exits 1 when any check fails. The self-test breaks the rendering in one way at a time
(a root user, a `latest` tag, a PDB that selects nothing, ...) and requires the matching
check to fail, so a check that can never fail is caught.
"""
import argparse
import json
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lib"))
from rules import run_rules, self_test  # noqa: E402  (tests/lib, found through the path above)

# Pod Security Standards "restricted" (Kubernetes docs, "Pod Security Standards").
RESTRICTED_VOLUME_TYPES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
    "persistentVolumeClaim", "projected", "secret",
}
APP_PORT, METRICS_PORT = 8080, 9090
APP_UID = 10001
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# "For readiness gate configuration to be injected to the pod spec, you need to apply the
# label elbv2.k8s.aws/pod-readiness-gate-inject: enabled to the pod namespace" (AWS Load
# Balancer Controller docs, "Pod readiness gate").
READINESS_GATE_LABEL = ("elbv2.k8s.aws/pod-readiness-gate-inject", "enabled")
# A label on the namespaces that may scrape the metrics port.
METRICS_SCRAPER_LABEL = ("hello-cluster/metrics-scraper", "allowed")


# ---------------------------------------------------------------- Terraform
# The deregistration delay is read from the Terraform configuration itself, following the
# value from the EKS target group through the module call to the root variable's default,
# so a change on either side that breaks "preStop outlasts the delay" fails here.

def _hcl_block(text, header_regex, what):
    """Body of the first block whose header matches, by brace matching (no HCL strings
    with braces occur in these blocks)."""
    m = re.search(header_regex + r"\s*\{", text)
    if not m:
        raise AssertionError(f"no {what} in the Terraform configuration")
    depth, i = 1, m.end()
    while depth:
        if i >= len(text):
            raise AssertionError(f"unbalanced braces in {what}")
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[m.end():i - 1]


def _hcl_attribute(body, name, what):
    m = re.search(rf"^\s*{name}\s*=\s*(\S+)\s*$", body, re.M)
    if not m:
        raise AssertionError(f"{what} sets no {name}")
    return m.group(1)


def eks_deregistration_delay(tf_dir):
    """Seconds of the EKS target group's deregistration delay in the default configuration."""
    tf_dir = pathlib.Path(tf_dir)
    edge = (tf_dir / "modules/edge/main.tf").read_text(encoding="utf-8")
    tg = _hcl_block(edge, r'resource\s+"aws_lb_target_group"\s+"eks"', "EKS target group")
    value = _hcl_attribute(tg, "deregistration_delay", "the EKS target group")
    if value.isdigit():
        return int(value)
    m = re.fullmatch(r"var\.(\w+)", value)
    assert m, f"the EKS target group's deregistration_delay is {value}, neither a number nor a variable"
    root = (tf_dir / "main.tf").read_text(encoding="utf-8")
    call = _hcl_block(root, r'module\s+"edge"', 'module "edge"')
    value = _hcl_attribute(call, m.group(1), 'module "edge"')
    if value.isdigit():
        return int(value)
    m = re.fullmatch(r"var\.(\w+)", value)
    assert m, f'module "edge" passes {value} as the deregistration delay, neither a number nor a variable'
    variables = (tf_dir / "variables.tf").read_text(encoding="utf-8")
    var = _hcl_block(variables, rf'variable\s+"{m.group(1)}"', f"variable {m.group(1)}")
    value = _hcl_attribute(var, "default", f"variable {m.group(1)}")
    assert value.isdigit(), f"variable {m.group(1)} has the default {value}, not a number of seconds"
    return int(value)


class Rendering:
    """Index of the rendered objects by kind."""

    def __init__(self, objects):
        self.objects = objects

    def of_kind(self, kind):
        return [o for o in self.objects if o.get("kind") == kind]

    def one(self, kind, name=None):
        found = [o for o in self.of_kind(kind) if name is None or o["metadata"]["name"] == name]
        if len(found) != 1:
            raise AssertionError(f"expected exactly one {kind}{' ' + name if name else ''}, found {len(found)}")
        return found[0]

    @property
    def deployment(self):
        return self.one("Deployment")

    @property
    def pod(self):
        return self.deployment["spec"]["template"]

    @property
    def containers(self):
        return self.pod["spec"]["containers"] + self.pod["spec"].get("initContainers", [])


def selects(selector, labels):
    """True when a matchLabels selector (no expressions) selects the given labels."""
    if not selector or selector.get("matchExpressions"):
        return False
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


# ---------------------------------------------------------------- checks
# Each check takes (rendering, options) and raises AssertionError with a reason.

def check_namespace_restricted(r, _):
    ns = r.one("Namespace")
    labels = ns["metadata"].get("labels", {})
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted", "namespace does not enforce restricted"
    for o in r.objects:
        if o["kind"] != "Namespace":
            assert o["metadata"].get("namespace") == ns["metadata"]["name"], (
                f"{o['kind']} {o['metadata']['name']} outside the namespace")


def check_service_account(r, _):
    spec = r.pod["spec"]
    name = spec.get("serviceAccountName")
    assert name, "pod names no serviceAccountName"
    sa = r.one("ServiceAccount", name)
    assert sa.get("automountServiceAccountToken") is False, "ServiceAccount mounts a token"
    assert spec.get("automountServiceAccountToken") is False, "pod mounts a token"


def check_rolling_update(r, _):
    strategy = r.deployment["spec"].get("strategy", {})
    assert strategy.get("type") == "RollingUpdate", "strategy is not RollingUpdate"
    assert strategy.get("rollingUpdate", {}).get("maxUnavailable") == 0, "maxUnavailable is not 0"


def check_replicas(r, _):
    hpa = r.one("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", r.deployment["metadata"]["name"]), (
        "HPA targets another object")
    assert hpa["spec"].get("minReplicas", 1) >= 3, "HPA keeps fewer than 3 replicas"
    assert "replicas" not in r.deployment["spec"], "Deployment sets replicas although the HPA owns them"
    metrics = [m["resource"]["name"] for m in hpa["spec"].get("metrics", []) if m["type"] == "Resource"]
    assert "cpu" in metrics, "HPA does not scale on CPU"


def check_restricted_pod(r, _):
    spec = r.pod["spec"]
    psc = spec.get("securityContext", {})
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(key), f"{key} is set"
    assert psc.get("seccompProfile", {}).get("type") in ("RuntimeDefault", "Localhost"), (
        "pod seccomp is not RuntimeDefault")
    for v in spec.get("volumes", []):
        kinds = set(v) - {"name"}
        assert kinds <= RESTRICTED_VOLUME_TYPES, f"volume {v['name']} uses {kinds}"
    for c in r.containers:
        csc = c.get("securityContext", {})
        name = c["name"]
        non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        assert non_root is True, f"{name}: runAsNonRoot is not true"
        uid = csc.get("runAsUser", psc.get("runAsUser"))
        assert uid == APP_UID, f"{name}: runAsUser {uid} is not the image user {APP_UID}"
        assert csc.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation is not false"
        assert not csc.get("privileged"), f"{name}: privileged"
        caps = csc.get("capabilities", {})
        assert "ALL" in caps.get("drop", []), f"{name}: capabilities not dropped"
        assert set(caps.get("add", [])) <= {"NET_BIND_SERVICE"}, f"{name}: adds capabilities"
        assert csc.get("readOnlyRootFilesystem") is True, f"{name}: root filesystem is writable"
        seccomp = csc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        assert seccomp in ("RuntimeDefault", "Localhost"), f"{name}: seccomp {seccomp}"
        for p in c.get("ports", []):
            assert "hostPort" not in p, f"{name}: hostPort"


def check_probes(r, _):
    for c in r.pod["spec"]["containers"]:
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
            got = c.get(probe, {}).get("httpGet", {})
            assert got.get("path") == path, f"{c['name']}: {probe} path {got.get('path')} is not {path}"
            assert got.get("port") in ("http", APP_PORT), f"{c['name']}: {probe} not on the app port"


def check_resources(r, _):
    units = {"m": 1e-3, "": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}

    def quantity(q):
        q = str(q)
        for suffix in sorted(units, key=len, reverse=True):
            if suffix and q.endswith(suffix):
                return float(q[: -len(suffix)]) * units[suffix]
        return float(q)

    for c in r.containers:
        res = c.get("resources", {})
        for resource in ("cpu", "memory"):
            req = res.get("requests", {}).get(resource)
            lim = res.get("limits", {}).get(resource)
            assert req and lim, f"{c['name']}: {resource} request and limit both needed"
            assert quantity(req) <= quantity(lim), f"{c['name']}: {resource} request above limit"


def check_image(r, opts):
    for c in r.containers:
        image = c["image"]
        name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
        assert "@sha256:" in image or tag, f"{c['name']}: image {image} has no tag"
        assert tag != "latest", f"{c['name']}: image {image} uses latest"
        if opts.image:
            assert image == opts.image, f"{c['name']}: image {image} is not {opts.image}"


def check_graceful_stop(r, _):
    spec = r.pod["spec"]
    for c in spec["containers"]:
        pre_stop = c.get("lifecycle", {}).get("preStop", {})
        assert "sleep" in pre_stop, f"{c['name']}: no native preStop sleep (the image has no shell)"
        assert not pre_stop.get("exec"), f"{c['name']}: preStop exec needs a shell the image lacks"
        delay = pre_stop["sleep"]["seconds"]
        grace = int(env_of(c).get("GRACE_SECONDS") or 20)
        total = spec.get("terminationGracePeriodSeconds", 30)
        assert total > delay + grace, (
            f"{c['name']}: terminationGracePeriodSeconds {total} <= preStop {delay} + drain {grace}")


def check_prestop_outlasts_deregistration(r, opts):
    if not opts.eks:
        assert not r.of_kind("TargetGroupBinding"), "a TargetGroupBinding outside the EKS rendering"
        return
    # The pod keeps serving through the sleep; the target drains for the deregistration delay
    # once the controller deregisters it, then the load balancer sends nothing more.
    dereg = eks_deregistration_delay(opts.terraform)
    for c in r.pod["spec"]["containers"]:
        delay = c["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert delay > dereg, (
            f"{c['name']}: preStop sleep {delay} s does not outlast "
            f"the target group's deregistration delay {dereg} s")


def check_runtime_volume(r, _):
    spec = r.pod["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec["containers"]:
        runtime_dir = env_of(c).get("RUNTIME_DIR", "/tmp")
        mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"] == runtime_dir]
        assert mounts, f"{c['name']}: nothing mounted at {runtime_dir}"
        empty_dir = volumes[mounts[0]["name"]].get("emptyDir")
        assert empty_dir is not None, f"{c['name']}: {runtime_dir} is not an emptyDir"
        assert empty_dir.get("medium") == "Memory", "runtime emptyDir is not memory-backed"
        assert empty_dir.get("sizeLimit"), "runtime emptyDir has no sizeLimit"


def check_ports(r, _):
    for c in r.pod["spec"]["containers"]:
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        assert ports == {"http": APP_PORT, "metrics": METRICS_PORT}, f"{c['name']}: ports {ports}"


def check_selectors(r, _):
    labels = r.pod["metadata"].get("labels", {})
    assert selects(r.deployment["spec"]["selector"], labels), "Deployment selector does not select its pods"
    assert selects(r.one("PodDisruptionBudget")["spec"]["selector"], labels), "PDB does not select the pods"
    assert selects(r.one("NetworkPolicy")["spec"]["podSelector"], labels), "NetworkPolicy does not select the pods"
    named_ports = {p["name"] for c in r.pod["spec"]["containers"] for p in c.get("ports", [])}
    for svc in r.of_kind("Service"):
        assert selects({"matchLabels": svc["spec"].get("selector", {})}, labels), (
            f"Service {svc['metadata']['name']} selects no pod")
        for p in svc["spec"]["ports"]:
            assert p.get("targetPort") in named_ports, (
                f"Service {svc['metadata']['name']} targets unknown port {p.get('targetPort')}")
    for tsc in r.pod["spec"].get("topologySpreadConstraints", []):
        assert selects(tsc["labelSelector"], labels), f"spread on {tsc['topologyKey']} selects no pod"


def check_topology_spread(r, _):
    keys = {t["topologyKey"] for t in r.pod["spec"].get("topologySpreadConstraints", [])}
    assert {"topology.kubernetes.io/zone", "kubernetes.io/hostname"} <= keys, f"spread only over {sorted(keys)}"


def check_metrics_annotations(r, _):
    ann = r.pod["metadata"].get("annotations", {})
    assert ann.get("prometheus.io/scrape") == "true", "no Prometheus scrape annotation"
    assert ann.get("prometheus.io/port") == str(METRICS_PORT), "Prometheus port is not the metrics port"
    names = {c["name"] for c in r.pod["spec"]["containers"]}
    dd = [k for k in ann if k.startswith("ad.datadoghq.com/") and k.endswith(".checks")]
    assert dd, "no Datadog autodiscovery annotation"
    for key in dd:
        container = key[len("ad.datadoghq.com/"):-len(".checks")]
        assert container in names, f"Datadog annotation names container {container!r} that does not exist"
        checks = json.loads(ann[key])
        endpoints = [i["openmetrics_endpoint"] for i in checks["openmetrics"]["instances"]]
        assert all(f":{METRICS_PORT}/metrics" in e for e in endpoints), f"Datadog scrapes {endpoints}"


def check_network_policy(r, _):
    np = r.one("NetworkPolicy")
    assert "Ingress" in np["spec"].get("policyTypes", []), "the policy does not restrict ingress"
    rules = np["spec"].get("ingress", [])
    ports = [p.get("port") for rule in rules for p in rule.get("ports", [])]
    assert all(rule.get("ports") for rule in rules), "an ingress rule allows every port"
    # Numbers only: the EKS network policy agent drops rules with named ports
    # (aws/aws-network-policy-agent issue 193).
    assert all(isinstance(p, int) for p in ports), f"named ports in the NetworkPolicy: {ports}"
    assert set(ports) <= {APP_PORT, METRICS_PORT} and ports, f"ingress open on {ports}"
    for rule in rules:
        if METRICS_PORT not in [p.get("port") for p in rule["ports"]]:
            continue
        sources = rule.get("from", [])
        assert sources, "the metrics port is open to every source"
        for peer in sources:
            ns = peer.get("namespaceSelector")
            assert ns is not None and set(peer) == {"namespaceSelector"}, f"metrics port open to {peer}"
            wanted = dict([METRICS_SCRAPER_LABEL])
            assert not ns.get("matchExpressions") and ns.get("matchLabels") == wanted, (
                f"metrics port open to namespaces {ns}, not only those labelled {wanted}")


def check_pdb_evicts_unhealthy(r, _):
    pdb = r.one("PodDisruptionBudget")
    policy = pdb["spec"].get("unhealthyPodEvictionPolicy")
    assert policy == "AlwaysAllow", (
        f"unhealthyPodEvictionPolicy is {policy}, so pods that never become ready block node drains")


def check_cluster_ip_services(r, _):
    # Pods are load-balancer targets themselves: nothing needs a node port.
    for svc in r.of_kind("Service"):
        name = svc["metadata"]["name"]
        assert svc["spec"].get("type", "ClusterIP") == "ClusterIP", (
            f"Service {name} is {svc['spec'].get('type')}, not ClusterIP")
        assert all("nodePort" not in p for p in svc["spec"]["ports"]), f"Service {name} fixes a nodePort"
        assert "externalTrafficPolicy" not in svc["spec"], f"Service {name} sets externalTrafficPolicy"
        for p in svc["spec"]["ports"]:
            # EKS network policy: "the service port must be the same as the container port".
            assert p["port"] in (APP_PORT, METRICS_PORT), f"Service {name} port {p['port']} is not the container port"


def check_target_group_binding(r, opts):
    bindings = r.of_kind("TargetGroupBinding")
    ns = r.one("Namespace")
    label = ns["metadata"].get("labels", {}).get(READINESS_GATE_LABEL[0])
    if not opts.eks:
        assert not bindings, "the portable base binds pods to a load balancer"
        return
    assert len(bindings) == 1, f"expected one TargetGroupBinding, found {len(bindings)}"
    tgb = bindings[0]
    spec = tgb["spec"]
    assert tgb["apiVersion"] == "elbv2.k8s.aws/v1beta1", f"TargetGroupBinding is {tgb['apiVersion']}"
    assert label == READINESS_GATE_LABEL[1], (
        f"namespace label {READINESS_GATE_LABEL[0]} is {label!r}: pods get no readiness gate")
    # "this only works with target-type: ip" (docs, "Pod readiness gate").
    assert spec.get("targetType") == "ip", f"targetType is {spec.get('targetType')}, not ip"
    svc = r.one("Service", spec["serviceRef"]["name"])
    svc_ports = {p["port"] for p in svc["spec"]["ports"]} | {p.get("name") for p in svc["spec"]["ports"]}
    assert spec["serviceRef"]["port"] in svc_ports, (
        f"serviceRef port {spec['serviceRef']['port']} is not a port of Service {svc['metadata']['name']}")
    assert svc["spec"]["ports"][0]["targetPort"] in ("http", APP_PORT), (
        "the bound Service does not lead to the app port")
    rules = spec.get("networking", {}).get("ingress", [])
    assert rules, "the binding opens no path from the load balancer to the pods"
    for rule in rules:
        ports = [p.get("port") for p in rule["ports"]]
        assert ports == [APP_PORT], f"the binding opens ports {ports}, not just the app port {APP_PORT}"
        groups = [peer.get("securityGroup", {}).get("groupID") for peer in rule["from"]]
        assert all(groups) and len(groups) == 1, f"the binding admits {rule['from']}, not one security group"
        if opts.alb_security_group:
            assert groups == [opts.alb_security_group], f"the binding admits {groups}, not {opts.alb_security_group}"
    if opts.target_group_arn:
        assert spec.get("targetGroupARN") == opts.target_group_arn, (
            f"targetGroupARN {spec.get('targetGroupARN')} is not {opts.target_group_arn}")
    else:
        assert spec.get("targetGroupARN") or spec.get("targetGroupName"), "the binding names no target group"
    # The readiness gate is injected only into pods created after the binding exists, and
    # kubectl apply creates objects in this order.
    kinds = [o["kind"] for o in r.objects]
    assert kinds.index("TargetGroupBinding") < kinds.index("Deployment"), (
        "the TargetGroupBinding is applied after the Deployment: the first pods get no readiness gate")


CHECKS = [
    ("namespace enforces the restricted profile and holds every object", check_namespace_restricted),
    ("pods run as a ServiceAccount that exists and mounts no token", check_service_account),
    ("rolling update never goes below capacity (maxUnavailable 0)", check_rolling_update),
    ("HPA owns at least 3 replicas and scales on CPU", check_replicas),
    ("pod spec meets the restricted profile (non-root 10001, no escalation, drop ALL, RO root, seccomp)",
     check_restricted_pod),
    ("liveness /healthz, readiness /readyz and a startup probe", check_probes),
    ("CPU and memory requests and limits on every container", check_resources),
    ("image has a version tag, never latest", check_image),
    ("native preStop sleep and a grace period longer than sleep + drain", check_graceful_stop),
    ("runtime directory is a memory-backed, size-limited emptyDir", check_runtime_volume),
    ("ports http 8080 and metrics 9090", check_ports),
    ("Deployment, PDB, NetworkPolicy, Services and spread select the pods", check_selectors),
    ("pods spread across zones and nodes", check_topology_spread),
    ("Prometheus and Datadog annotations point at the metrics port", check_metrics_annotations),
    ("NetworkPolicy admits only the app and metrics ports", check_network_policy),
    ("PDB lets pods that are not ready be evicted (AlwaysAllow)", check_pdb_evicts_unhealthy),
    ("Services are ClusterIP on the container ports (no NodePort)", check_cluster_ip_services),
    ("EKS: a TargetGroupBinding with ip targets, readiness gates, applied before the pods", check_target_group_binding),
    ("EKS: the preStop sleep outlasts the target group's deregistration delay (tf/)",
     check_prestop_outlasts_deregistration),
]


def run_checks(objects, opts, quiet=False):
    """Returns the names of the failed checks."""
    r = Rendering(objects)
    return run_rules(CHECKS, lambda check: check(r, opts), quiet)


# ---------------------------------------------------------------- self-test
def _container(objs):
    return [o for o in objs if o["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["containers"][0]


def _pod_spec(objs):
    return [o for o in objs if o["kind"] == "Deployment"][0]["spec"]["template"]["spec"]


def _set(path_fn, key, value):
    def mutate(objs):
        path_fn(objs)[key] = value
    return mutate


def _drop_ns_label(objs):
    del [o for o in objs if o["kind"] == "Namespace"][0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]


def _pdb_other_app(objs):
    [o for o in objs if o["kind"] == "PodDisruptionBudget"][0]["spec"]["selector"] = {"matchLabels": {"app": "other"}}


def _image_latest(objs):
    _container(objs)["image"] = "hello-cluster:latest"


def _exec_prestop(objs):
    _container(objs)["lifecycle"]["preStop"] = {"exec": {"command": ["sleep", "5"]}}


def _no_limits(objs):
    del _container(objs)["resources"]["limits"]


def _disk_tmp(objs):
    for v in _pod_spec(objs)["volumes"]:
        v["emptyDir"].pop("medium", None)


def _host_path(objs):
    _pod_spec(objs)["volumes"].append({"name": "host", "hostPath": {"path": "/"}})


def _readiness_healthz(objs):
    _container(objs)["readinessProbe"]["httpGet"]["path"] = "/healthz"


def _replicas_set(objs):
    [o for o in objs if o["kind"] == "Deployment"][0]["spec"]["replicas"] = 3


def _np_all_ports(objs):
    [o for o in objs if o["kind"] == "NetworkPolicy"][0]["spec"]["ingress"].append({})


def _missing_sa(objs):
    objs[:] = [o for o in objs if o["kind"] != "ServiceAccount"]


def _service(objs):
    return [o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == "hello"][0]


def _node_port(objs):
    _service(objs)["spec"].update(type="NodePort")
    _service(objs)["spec"]["ports"][0]["nodePort"] = 30080


def _one(objs, kind):
    return [o for o in objs if o["kind"] == kind][0]


def _np_named_port(objs):
    _one(objs, "NetworkPolicy")["spec"]["ingress"][0]["ports"][0]["port"] = "http"


def _np_metrics_everywhere(objs):
    for rule in _one(objs, "NetworkPolicy")["spec"]["ingress"]:
        if rule["ports"][0]["port"] == METRICS_PORT:
            rule["from"] = [{"namespaceSelector": {}}]


def _pdb_default_policy(objs):
    del _one(objs, "PodDisruptionBudget")["spec"]["unhealthyPodEvictionPolicy"]


def _no_readiness_label(objs):
    del _one(objs, "Namespace")["metadata"]["labels"][READINESS_GATE_LABEL[0]]


def _instance_targets(objs):
    _one(objs, "TargetGroupBinding")["spec"]["targetType"] = "instance"


def _binding_after_deployment(objs):
    tgb = _one(objs, "TargetGroupBinding")
    objs.remove(tgb)
    objs.append(tgb)


def _binding_all_ports(objs):
    _one(objs, "TargetGroupBinding")["spec"]["networking"]["ingress"][0]["ports"] = [{"protocol": "TCP"}]


def _short_prestop(objs):
    _container(objs)["lifecycle"]["preStop"]["sleep"]["seconds"] = 5


MUTATIONS = [
    ("namespace without enforce label", _drop_ns_label, "namespace enforces"),
    ("ServiceAccount missing", _missing_sa, "ServiceAccount"),
    ("maxUnavailable 1",
     lambda o: [d for d in o if d["kind"] == "Deployment"][0]["spec"]["strategy"]["rollingUpdate"].update(
         maxUnavailable=1),
     "rolling update"),
    ("replicas fixed in the Deployment", _replicas_set, "HPA owns"),
    ("container runs as root", _set(lambda o: _container(o)["securityContext"], "runAsUser", 0), "restricted profile"),
    ("privilege escalation allowed", _set(lambda o: _container(o)["securityContext"], "allowPrivilegeEscalation", True),
     "restricted profile"),
    ("writable root filesystem", _set(lambda o: _container(o)["securityContext"], "readOnlyRootFilesystem", False),
     "restricted profile"),
    ("hostPath volume", _host_path, "restricted profile"),
    ("readiness on /healthz", _readiness_healthz, "liveness /healthz"),
    ("no limits", _no_limits, "requests and limits"),
    ("latest tag", _image_latest, "never latest"),
    ("preStop exec sleep", _exec_prestop, "native preStop"),
    ("grace period too short", _set(_pod_spec, "terminationGracePeriodSeconds", 20), "native preStop"),
    ("runtime emptyDir on disk", _disk_tmp, "memory-backed"),
    ("PDB selects another app", _pdb_other_app, "select the pods"),
    ("NetworkPolicy rule without ports", _np_all_ports, "only the app and metrics"),
    ("NetworkPolicy with a named port", _np_named_port, "only the app and metrics"),
    ("metrics port open to every namespace", _np_metrics_everywhere, "only the app and metrics"),
    ("PDB with the default unhealthy pod eviction policy", _pdb_default_policy, "AlwaysAllow"),
    ("a NodePort Service", _node_port, "no NodePort"),
]
# Only meaningful where pods are bound to the target group (--eks).
EKS_MUTATIONS = [
    ("namespace without the readiness gate label", _no_readiness_label, "TargetGroupBinding"),
    ("instance targets", _instance_targets, "TargetGroupBinding"),
    ("the binding applied after the Deployment", _binding_after_deployment, "TargetGroupBinding"),
    ("the binding open on every port", _binding_all_ports, "TargetGroupBinding"),
    ("a 5 s preStop sleep (the old one)", _short_prestop, "deregistration delay"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rendered")
    parser.add_argument("--eks", action="store_true", help="the EKS rendering: pods bound to the target group")
    parser.add_argument("--target-group-arn", help="the target group ARN the binding must name")
    parser.add_argument("--alb-security-group", help="the security group the binding must admit")
    parser.add_argument("--terraform", default=str(REPO_ROOT / "tf"),
                        help="Terraform root (default: tf/ of this repository)")
    parser.add_argument("--node-port", type=int, help="obsolete: taken as --eks")
    parser.add_argument("--image", help="the exact image every container must use")
    parser.add_argument("--self-test", action="store_true")
    opts = parser.parse_args()
    if opts.node_port is not None:
        print(f"check_policy: --node-port {opts.node_port} is obsolete (the load balancer targets pod IPs); "
              "checking as --eks", file=sys.stderr)
        opts.eks = True
    if (opts.target_group_arn or opts.alb_security_group) and not opts.eks:
        parser.error("--target-group-arn and --alb-security-group need --eks")
    with open(opts.rendered, encoding="utf-8") as f:
        objects = json.load(f)
    if opts.self_test:
        mutations = MUTATIONS + (EKS_MUTATIONS if opts.eks else [])
        validate = lambda objs, quiet: run_checks(objs, opts, quiet)  # noqa: E731
        return 1 if self_test(objects, validate, mutations, "rendering") else 0
    return 1 if run_checks(objects, opts) else 0


if __name__ == "__main__":
    sys.exit(main())
