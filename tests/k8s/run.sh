#!/usr/bin/env bash
# test-k8s: every kustomization under k8s/ builds, its output matches the Kubernetes schema
# strictly (unknown fields rejected; the TargetGroupBinding against the AWS Load Balancer
# Controller's CRD in tests/k8s/crds/), and it passes the policy checks (restricted profile,
# probes, resources, tags, graceful stop, selectors, the load balancer binding and its
# readiness gate, the preStop sleep against the deregistration delay in tf/). The same for
# the overlay a deploy writes (scripts/deploy-k8s-overlay.sh) with a registry image and the
# stack's target group. Negative controls prove that the schema and policy checks can fail.
# Offline: kubectl, node with the kubernetes-models package (make deps), python3 with PyYAML.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly TEST_DIR="$REPO_ROOT/tests/k8s"
# What a deploy passes to scripts/deploy-k8s-overlay.sh (Terraform outputs eks_target_group_arn
# and alb_security_group_id), in the shape AWS gives them.
readonly DEPLOY_TARGET_GROUP_ARN="arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/hello-cluster-eks/0123456789abcdef"
readonly DEPLOY_SECURITY_GROUP="sg-0a1b2c3d4e5f60001"

WORK=""

cleanup() { if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

# shellcheck source=tests/lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"

require_tools() {
  local missing=0 tool
  for tool in kubectl node python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      printf 'test-k8s: %s not found (install it; make deps)\n' "$tool" >&2
      missing=1
    fi
  done
  if [[ ! -f "$REPO_ROOT/node_modules/kubernetes-models/package.json" ]]; then
    printf 'test-k8s: node_modules/kubernetes-models not found: run make deps (npm ci)\n' >&2
    missing=1
  fi
  if ! python3 -c 'import yaml' 2>/dev/null; then
    printf 'test-k8s: the python3 module yaml (PyYAML) is missing: install python3-yaml\n' >&2
    missing=1
  fi
  ((missing == 0)) || {
    printf '0 passed, 1 failed\n'
    exit 1
  }
}

to_json() {
  python3 -c 'import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))'
}

# Renders kustomization dir $1 into $WORK/$2.json; returns non-zero when it fails.
render() {
  local dir="$1" name="$2" label="${3:-${1#"$REPO_ROOT"/}}"
  if kubectl kustomize "$dir" >"$WORK/$name.yaml" 2>"$WORK/$name.err" && to_json <"$WORK/$name.yaml" >"$WORK/$name.json"; then
    pass "kubectl kustomize $label builds ($(grep -c '^kind:' "$WORK/$name.yaml") objects)"
    return 0
  fi
  fail "kubectl kustomize $label: $(tail -n 3 "$WORK/$name.err")"
  return 1
}

validate_schema() {
  run_checker "$1 schema" node "$TEST_DIR/validate-schema.mjs" --crds "$WORK/crds.json" <"$WORK/$1.json"
}

# The TargetGroupBinding is checked against the controller's CRD, strictly: a field the CRD
# does not define (the API server would drop it), a wrong type or enum value, a missing
# required field, or a version the CRD does not serve is rejected.
binding_negative_controls() {
  local name="$1" case_name mutation
  while IFS='|' read -r case_name mutation; do
    python3 - "$WORK/$name.json" "$mutation" >"$WORK/broken.json" <<'PY'
import json, sys
objs = json.load(open(sys.argv[1]))
tgb = [o for o in objs if o["kind"] == "TargetGroupBinding"][0]
spec = tgb["spec"]
exec(sys.argv[2])
print(json.dumps([tgb]))
PY
    if node "$TEST_DIR/validate-schema.mjs" --crds "$WORK/crds.json" <"$WORK/broken.json" >"$WORK/broken.out" 2>&1; then
      fail "CRD schema check accepted a TargetGroupBinding with $case_name"
    else
      pass "CRD schema check rejects a TargetGroupBinding with $case_name ($(grep -m1 -v '^not ok' "$WORK/broken.out" | sed 's/^ *//'))"
    fi
  done <<'CASES'
the ARN field misspelled (targetGroupArn)|spec["targetGroupArn"] = spec.pop("targetGroupARN")
an unknown field in networking (ingres)|spec["networking"]["ingres"] = spec["networking"].pop("ingress")
a target type outside the enum (pod)|spec["targetType"] = "pod"
a number where a string belongs (groupID)|spec["networking"]["ingress"][0]["from"][0]["securityGroup"]["groupID"] = 123
no serviceRef (required)|del spec["serviceRef"]
a version the CRD does not define (v1)|tgb["apiVersion"] = "elbv2.k8s.aws/v1"
an unknown metadata field (annotation)|tgb["metadata"]["annotation"] = {"a": "b"}
CASES
}

# The schema validator must reject unknown fields, misspelled fields and wrong types.
schema_negative_controls() {
  local name="$1" case_name mutation
  while IFS='|' read -r case_name mutation; do
    python3 - "$WORK/$name.json" "$mutation" >"$WORK/broken.json" <<'PY'
import json, sys
objs = json.load(open(sys.argv[1]))
dep = [o for o in objs if o["kind"] == "Deployment"][0]
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
exec(sys.argv[2])
print(json.dumps([dep]))
PY
    if node "$TEST_DIR/validate-schema.mjs" <"$WORK/broken.json" >"$WORK/broken.out" 2>&1; then
      fail "schema check accepted a Deployment with $case_name"
    else
      pass "schema check rejects a Deployment with $case_name ($(grep -m1 -v '^not ok' "$WORK/broken.out" | sed 's/^ *//'))"
    fi
  done <<'CASES'
a misspelled field (readinessProbes)|c["readinessProbes"] = c.pop("readinessProbe")
an unknown field in the security context (runAsRoot)|c["securityContext"]["runAsRoot"] = False
an unknown top-level spec field (replica)|dep["spec"]["replica"] = 3
a string where an integer belongs (containerPort)|c["ports"][0]["containerPort"] = "8080"
a value outside the enum (imagePullPolicy Sometimes)|c["imagePullPolicy"] = "Sometimes"
a missing required field (container name)|del c["name"]
CASES
}

# scripts/install-lb-controller.sh against stand-ins for helm and kubectl that refuse what
# the real tools refuse for its calls (tests/k8s/lb-controller-standin.sh).
# Runs the script with the settings a deploy passes plus VAR=VALUE overrides; "-VAR" unsets.
run_installer() {
  local name="$1"
  shift
  local env_args=(
    PATH="$WORK/standin-bin:$PATH" HOME="$WORK/home" KUBECONFIG="$WORK/kubeconfig"
    STANDIN_LOG="$WORK/$name.calls" STANDIN_CRDS="$TEST_DIR/crds/elbv2.k8s.aws_targetgroupbindings.yaml"
    EKS_CLUSTER_NAME=hello-cluster AWS_REGION=eu-west-1 VPC_ID=vpc-0123456789abcdef0
    LB_CONTROLLER_SERVICE_ACCOUNT=kube-system/aws-load-balancer-controller
  )
  local arg kept=() setting
  for arg in "$@"; do
    if [[ "$arg" == -* ]]; then
      kept=()
      for setting in "${env_args[@]}"; do [[ "$setting" == "${arg#-}="* ]] || kept+=("$setting"); done
      env_args=("${kept[@]}")
    else
      env_args+=("$arg")
    fi
  done
  : >"$WORK/$name.calls"
  env -u KUBECONFIG -u EKS_CLUSTER_NAME -u AWS_REGION -u VPC_ID -u LB_CONTROLLER_SERVICE_ACCOUNT "${env_args[@]}" \
    "$REPO_ROOT/scripts/install-lb-controller.sh" >"$WORK/$name.out" 2>&1
}

installer_calls_in_order() {
  python3 - "$WORK/$1.calls" <<'PY'
import sys
calls = open(sys.argv[1]).read().splitlines()
def index(prefix):
    found = [i for i, c in enumerate(calls) if c.startswith(prefix)]
    assert found, f"no call starting {prefix!r} in {calls}"
    return found[0]
pull = index("helm pull aws-load-balancer-controller --repo https://aws.github.io/eks-charts --version 3.5.0 --untar")
crds = index("kubectl apply --server-side")
upgrade = index("helm upgrade --install aws-load-balancer-controller ")
status = index("kubectl rollout status deployment aws-load-balancer-controller --namespace kube-system")
assert index("kubectl auth can-i") < pull < crds < upgrade < status, calls
line = calls[upgrade]
for wanted in ("--namespace kube-system", "--set-string clusterName=hello-cluster", "--set-string region=eu-west-1",
               "--set-string vpcId=vpc-0123456789abcdef0", "--set serviceAccount.create=true",
               "--set-string serviceAccount.name=aws-load-balancer-controller", "--wait"):
    assert f" {wanted} " in f" {line} ", f"{wanted!r} missing from {line}"
assert not any(c.startswith("kubectl rollout restart") for c in calls), "restarted pods that had Pod Identity"
PY
}

test_lb_controller_installer() {
  mkdir -p "$WORK/standin-bin" "$WORK/home"
  ln -sf "$TEST_DIR/lb-controller-standin.sh" "$WORK/standin-bin/helm"
  ln -sf "$TEST_DIR/lb-controller-standin.sh" "$WORK/standin-bin/kubectl"
  printf 'apiVersion: v1\nkind: Config\n' >"$WORK/kubeconfig"

  if run_installer first && installer_calls_in_order first >"$WORK/order.err" 2>&1; then
    pass "install-lb-controller.sh: CRDs, then helm upgrade --install of chart 3.5.0 with cluster, region, VPC and the Pod Identity ServiceAccount, then rollout status"
  else
    fail "install-lb-controller.sh: $(tail -n 2 "$WORK/first.out" "$WORK/order.err" 2>/dev/null | tr '\n' ' ')"
  fi
  # The calls name a temporary directory of each run; apart from it they must be the same.
  if run_installer second &&
    cmp -s <(sed 's#lb-controller\.[A-Za-z0-9]*#lb-controller.TMP#g' "$WORK/first.calls") \
      <(sed 's#lb-controller\.[A-Za-z0-9]*#lb-controller.TMP#g' "$WORK/second.calls"); then
    pass "install-lb-controller.sh is idempotent: a second run makes the same calls"
  else
    fail "install-lb-controller.sh: a second run differs or fails ($(tail -n 1 "$WORK/second.out"))"
  fi
  if [[ -z "$(find "$WORK/home" -mindepth 1 -print -quit)" ]]; then
    pass "install-lb-controller.sh writes nothing under HOME (helm's cache and config are private to the run)"
  else
    fail "install-lb-controller.sh wrote into HOME: $(find "$WORK/home" -mindepth 1 | head -n 3 | tr '\n' ' ')"
  fi
  if run_installer old-pods STANDIN_PODS_WITHOUT_IDENTITY=1 && grep -q '^kubectl rollout restart deployment aws-load-balancer-controller' "$WORK/old-pods.calls"; then
    pass "install-lb-controller.sh restarts controller pods created before the Pod Identity association"
  else
    fail "install-lb-controller.sh left controller pods without Pod Identity credentials running"
  fi
  local case_name expected settings
  while IFS='|' read -r case_name expected settings; do
    # shellcheck disable=SC2086 # settings are several words on purpose
    if run_installer refused $settings; then
      fail "install-lb-controller.sh accepted $case_name"
    elif ! grep -q "$expected" "$WORK/refused.out"; then
      fail "install-lb-controller.sh refused $case_name without saying '$expected': $(tail -n 1 "$WORK/refused.out")"
    elif grep -q '^helm upgrade' "$WORK/refused.calls"; then
      fail "install-lb-controller.sh refused $case_name only after helm upgrade"
    else
      pass "install-lb-controller.sh refuses $case_name before installing ($(tail -n 1 "$WORK/refused.out"))"
    fi
  done <<'CASES'
no KUBECONFIG|KUBECONFIG is not set|-KUBECONFIG
a VPC ID that is not one|VPC_ID 'vpc-xyz' is not a VPC ID|VPC_ID=vpc-xyz
a ServiceAccount without namespace|is not namespace/name|LB_CONTROLLER_SERVICE_ACCOUNT=aws-load-balancer-controller
no cluster name|EKS_CLUSTER_NAME '' is not|-EKS_CLUSTER_NAME
an identity that may not create CRDs|may not create CustomResourceDefinitions|STANDIN_DENY=1
a chart that carries another controller version|carries controller v3.4.0, not v3.5.0|STANDIN_APP_VERSION=v3.4.0
CASES
}

main() {
  require_tools
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/test-k8s.XXXXXX")"
  # kubectl never needs a cluster here; a kubeconfig of its own keeps it off localhost:8080.
  export KUBECONFIG="$WORK/kubeconfig-unused"
  export NODE_MODULES_PARENT="$REPO_ROOT"

  local crd
  for crd in "$TEST_DIR"/crds/*.yaml; do
    cat "$crd"
    printf '\n---\n'
  done | to_json >"$WORK/crds.json"

  echo "== every kustomization builds, validates strictly and passes the policy checks"
  local dir name eks_args
  while IFS= read -r dir; do
    dir="$(dirname "$dir")"
    name="$(tr '/' '-' <<<"${dir#"$REPO_ROOT"/}")"
    render "$dir" "$name" || continue
    validate_schema "$name"
    eks_args=()
    [[ "$dir" == */overlays/eks ]] && eks_args=(--eks)
    run_checker "$name policy" python3 "$TEST_DIR/check_policy.py" "$WORK/$name.json" "${eks_args[@]}"
  done < <(find "$REPO_ROOT/k8s" -name kustomization.yaml | sort)

  echo "== the overlay a deploy writes: registry image and the stack's target group"
  local deploy_image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster:0123456789ab"
  mkdir -p "$WORK/deploy-overlay"
  if "$REPO_ROOT/scripts/deploy-k8s-overlay.sh" "$WORK/deploy-overlay" "$deploy_image" "$DEPLOY_TARGET_GROUP_ARN" "$DEPLOY_SECURITY_GROUP" &&
    render "$WORK/deploy-overlay" deploy "the deploy overlay"; then
    validate_schema deploy
    run_checker "deploy policy" python3 "$TEST_DIR/check_policy.py" "$WORK/deploy.json" --eks --image "$deploy_image" \
      --target-group-arn "$DEPLOY_TARGET_GROUP_ARN" --alb-security-group "$DEPLOY_SECURITY_GROUP"
    # Apart from the image and the two AWS identifiers, a deploy applies exactly the eks
    # overlay, in the same order.
    if python3 - "$WORK/k8s-overlays-eks.json" "$WORK/deploy.json" "$deploy_image" "$DEPLOY_TARGET_GROUP_ARN" "$DEPLOY_SECURITY_GROUP" <<'PY'; then
import json, sys
plain, deployed = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
image, arn, sg = sys.argv[3:6]
for o in plain:
    if o["kind"] == "Deployment":
        o["spec"]["template"]["spec"]["containers"][0]["image"] = image
    if o["kind"] == "TargetGroupBinding":
        o["spec"]["targetGroupARN"] = arn
        o["spec"]["networking"]["ingress"][0]["from"][0]["securityGroup"]["groupID"] = sg
sys.exit(0 if plain == deployed else 1)
PY
      pass "the deploy overlay differs from k8s/overlays/eks only in the image, target group and security group"
    else
      fail "the deploy overlay changes more than the image, target group and security group (or the order)"
    fi
  else
    fail "scripts/deploy-k8s-overlay.sh could not write a buildable overlay"
  fi
  local bad
  while IFS= read -r bad; do
    # shellcheck disable=SC2086 # several words on purpose: image, target group, security group
    if "$REPO_ROOT/scripts/deploy-k8s-overlay.sh" "$WORK/deploy-overlay" $bad 2>"$WORK/overlay.err"; then
      fail "deploy-k8s-overlay.sh accepted '$bad'"
    else
      pass "deploy-k8s-overlay.sh refuses '$bad' ($(head -c 90 "$WORK/overlay.err"))"
    fi
  done <<BAD
hello-cluster:latest $DEPLOY_TARGET_GROUP_ARN $DEPLOY_SECURITY_GROUP
hello-cluster $DEPLOY_TARGET_GROUP_ARN $DEPLOY_SECURITY_GROUP
hello-cluster:abc 30080 $REPO_ROOT/k8s/overlays/eks
hello-cluster:abc arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/0123456789abcdef $DEPLOY_SECURITY_GROUP
hello-cluster:abc $DEPLOY_TARGET_GROUP_ARN sg-xyz
BAD

  echo "== scripts/install-lb-controller.sh (helm and kubectl stand-ins)"
  test_lb_controller_installer

  echo "== negative controls: the checks can fail"
  schema_negative_controls k8s-overlays-eks
  binding_negative_controls deploy
  run_checker "policy self-test (base)" python3 "$TEST_DIR/check_policy.py" "$WORK/k8s-base.json" --self-test
  run_checker "policy self-test (eks)" python3 "$TEST_DIR/check_policy.py" "$WORK/deploy.json" --eks --self-test

  echo "== shellcheck of the deploy scripts and their tests"
  if ! command -v shellcheck >/dev/null 2>&1; then
    fail "shellcheck not found: install the Debian package shellcheck"
  else
    local script
    for script in "$REPO_ROOT"/scripts/deploy*.sh "$REPO_ROOT"/scripts/destroy.sh "$REPO_ROOT"/scripts/install-lb-controller.sh \
      "$TEST_DIR"/*.sh "$REPO_ROOT"/tests/deploy/*.sh; do
      [[ -e "$script" ]] || continue
      if shellcheck -x "$script" >"$WORK/shellcheck.out" 2>&1; then
        pass "shellcheck ${script#"$REPO_ROOT"/}"
      else
        fail "shellcheck ${script#"$REPO_ROOT"/}"
        cat "$WORK/shellcheck.out"
      fi
    done
  fi

  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  ((FAILED == 0))
}

main "$@"
