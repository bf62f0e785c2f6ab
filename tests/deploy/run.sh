#!/usr/bin/env bash
# test-deploy: `make deploy` end to end against local stand-ins for the cloud, all on
# 127.0.0.1 and started here:
#   - Debian's docker-registry as the container registry (ECR),
#   - tests/tf/aws_emulator.py (moto plus what moto lacks) for the STS, ECR, ECS, EKS and
#     Application Auto Scaling calls: its ECS deployments behave as AWS documents them
#     (tests/tf/ecs_rollouts.py): a scalable target raises the service's count at once,
#     tasks need an image of their architecture in the registry, and the circuit
#     breaker fails a deployment and rolls it back,
#   - the Docker engine (docker/engine.sh start when none answers),
#   - a kubectl stand-in (tests/deploy/kubectl-recorder.sh) for the Kubernetes API, which
#     cannot be had here: it records the calls and renders what `apply -k` would send.
#
# The Terraform outputs come from tests/deploy/terraform-outputs.json, recorded from a real
# apply of tf/ against the emulator (tests/deploy/record-outputs.sh); the task definition in
# them is first checked against botocore's RegisterTaskDefinition model and the Fargate rules
# (tests/deploy/validate_task_definition.py). The test creates in
# moto the ECR repository, ECS cluster, service (desired count 0, as Terraform creates it)
# and first task definition revision that the recording names.
#
# How "ECR" becomes the local registry without touching the deploy script: the test's copy
# of the outputs names the local registry (127.0.0.1:PORT/hello-cluster) as
# ecr_repository_url. deploy.sh logs in exactly as in production,
# `aws ecr get-login-password | docker login --password-stdin <host of that URL>`: moto
# issues the token and the registry, which has no authentication, accepts it. Docker
# talks plain HTTP to registries on 127.0.0.0/8 without further configuration.
#
# deploy.sh runs from a clean clone of this repository (HEAD plus the working-tree copies
# of the deploy files, committed in the clone), so the tag is a real commit and the
# dirty-tree refusal is testable without touching the shared working tree.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly FIXTURE="$REPO_ROOT/tests/deploy/terraform-outputs.json"
# Paths of the deploy flow whose working-tree state the clone must test.
readonly DEPLOY_PATHS=(k8s scripts/deploy.sh scripts/deploy-all.sh scripts/deploy-k8s-overlay.sh scripts/destroy.sh
  scripts/lib scripts/image-platforms.py mk/deploy.mk)

WORK=""
REGISTRY_PID=""
MOTO_PID=""
ENGINE_STARTED_HERE=0

log() { printf '%s\n' "$*"; }
# shellcheck source=tests/lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"
abort() {
  printf 'test-deploy: %s\n' "$*" >&2
  FAILED=$((FAILED + 1))
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  exit 1
}

stop_pid() {
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Removes the image references this run made (its registry's port is its own, so a
# concurrent run keeps its images); the build cache stays for the next run.
remove_test_images() {
  local repo="127.0.0.1:$REGISTRY_PORT/hello-cluster" tag digest
  while read -r tag digest; do
    if [[ "$tag" != "<none>" ]]; then
      docker image rm "$repo:$tag" "hello-cluster-deploy-test:$tag" >/dev/null 2>&1 || true
    fi
    if [[ "$digest" == sha256:* ]]; then docker image rm "$repo@$digest" >/dev/null 2>&1 || true; fi
  done < <(docker image ls --digests --format '{{.Tag}} {{.Digest}}' "$repo" 2>/dev/null)
  # `make image` also tags :dev, and PLATFORM builds <tag>-<arch>; no run relies on them.
  docker image ls --format '{{.Repository}}:{{.Tag}}' hello-cluster-deploy-test 2>/dev/null |
    xargs -r docker image rm >/dev/null 2>&1 || true
}

cleanup() {
  stop_pid "$REGISTRY_PID"
  stop_pid "$MOTO_PID"
  if [[ -n "${REGISTRY_PORT:-}" ]]; then remove_test_images; fi
  if ((ENGINE_STARTED_HERE)); then "$REPO_ROOT/docker/engine.sh" stop >/dev/null 2>&1 || true; fi
  if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {
  local url="$1" what="$2" pid="$3" i
  for i in $(seq 100); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || abort "$what exited during start-up (log: $(tail -n 5 "$WORK/$what.log"))"
    sleep 0.1
    : "$i"
  done
  abort "$what did not answer on $url within 10 s"
}

# ---------------------------------------------------------------- setup

require_tools() {
  local tool missing=()
  for tool in docker docker-registry aws kubectl jq git python3 make curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) ||
    abort "missing tools: ${missing[*]} (make deps installs docker.io, docker-registry, jq; moto and awscli come from pip)"
  python3 -c 'import moto, werkzeug' 2>/dev/null || abort "python module moto not found: pip install 'moto[server]==5.2.1'"
}

start_docker_engine() {
  if timeout 15 docker info >/dev/null 2>&1; then
    log "docker: using the engine that answers"
    return 0
  fi
  [[ -x "$REPO_ROOT/docker/engine.sh" ]] || abort "docker: no engine answers and docker/engine.sh is missing"
  "$REPO_ROOT/docker/engine.sh" start || abort "docker: no engine answers and docker/engine.sh start failed"
  ENGINE_STARTED_HERE=1
}

start_registry() {
  REGISTRY_PORT="$(free_port)"
  mkdir -p "$WORK/registry"
  cat >"$WORK/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry/data
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
  docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry.log" 2>&1 &
  REGISTRY_PID=$!
  wait_http "http://127.0.0.1:$REGISTRY_PORT/v2/" registry "$REGISTRY_PID"
  log "registry: docker-registry on 127.0.0.1:$REGISTRY_PORT"
}

start_emulator() {
  EMULATOR_ECS_ROLLOUT_SECONDS=1 EMULATOR_ECS_CRASHING_IMAGES_FILE="$WORK/crashing-images" \
    python3 "$REPO_ROOT/tests/tf/aws_emulator.py" --port-file "$WORK/emulator.port" >"$WORK/moto.log" 2>&1 &
  MOTO_PID=$!
  local i
  for i in $(seq 100); do
    [[ -s "$WORK/emulator.port" ]] && break
    kill -0 "$MOTO_PID" 2>/dev/null || abort "the AWS emulator exited during start-up (log: $(tail -n 5 "$WORK/moto.log"))"
    sleep 0.1
    : "$i"
  done
  MOTO_PORT="$(<"$WORK/emulator.port")"
  wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" moto "$MOTO_PID"
  log "emulator: tests/tf/aws_emulator.py on 127.0.0.1:$MOTO_PORT"
}

# The cloud side as `make deploy_all` leaves it before it pushes: the registry and, with
# EKS on, the cluster. The ECS service comes once an image is pushed (seed_ecs_service).
seed_cloud() {
  local f="$FIXTURE" vpc role
  REGION="$(jq -r .aws_region.value "$f")"
  ECS_CLUSTER="$(jq -r .ecs_cluster_name.value "$f")"
  ECS_SERVICE="$(jq -r .ecs_service_name.value "$f")"
  ECS_FAMILY="$(jq -r .ecs_task_definition_family.value "$f")"
  EKS_CLUSTER="$(jq -r .eks_cluster_name.value "$f")"
  MIN_CAPACITY="$(jq -r .ecs_min_capacity.value "$f")"
  export FIXTURE ECS_CLUSTER ECS_MIN_CAPACITY="$MIN_CAPACITY"
  local repository
  repository="$(jq -r '.ecr_repository_url.value | sub("^[^/]+/"; "")' "$f")"
  export AWS_DEFAULT_REGION="$REGION"
  vpc="$(aws ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)"
  export SUBNET SECURITY_GROUP
  SUBNET="$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.1.0/24 --query Subnet.SubnetId --output text)"
  SECURITY_GROUP="$(aws ec2 create-security-group --group-name app --description app --vpc-id "$vpc" --query GroupId --output text)"
  aws ecr create-repository --repository-name "$repository" --image-tag-mutability IMMUTABLE >/dev/null
  aws ecs create-cluster --cluster-name "$ECS_CLUSTER" >/dev/null
  role="$(aws iam create-role --role-name eks-cluster --assume-role-policy-document '{"Version":"2012-10-17","Statement":[]}' \
    --query Role.Arn --output text)"
  aws eks create-cluster --name "$EKS_CLUSTER" --role-arn "$role" \
    --resources-vpc-config "subnetIds=$SUBNET,securityGroupIds=$SECURITY_GROUP" >/dev/null
  log "emulator: ECR $repository, ECS cluster $ECS_CLUSTER, EKS $EKS_CLUSTER"
}

# What Terraform creates for the ECS side (tests/deploy/create-ecs-side.sh SERVICE IMAGE).
seed_ecs_service() {
  "$REPO_ROOT/tests/deploy/create-ecs-side.sh" "$@"
}

# A clean clone: HEAD, plus the working-tree state of the deploy files, committed.
make_clone() {
  CLONE="$WORK/src"
  git clone --quiet --no-hardlinks "$REPO_ROOT" "$CLONE"
  local path
  for path in "${DEPLOY_PATHS[@]}"; do
    rm -rf "${CLONE:?}/$path"
    mkdir -p "$(dirname "$CLONE/$path")"
    cp -r "$REPO_ROOT/$path" "$CLONE/$path"
  done
  git -C "$CLONE" add -- "${DEPLOY_PATHS[@]}"
  # Only when the deploy files differ from HEAD: a clone of a clean tree keeps HEAD's commit,
  # so its image builds find the layers `make image` already built for that commit.
  # A fixed date makes the same state the same commit from run to run (and so the same
  # image layers).
  if ! git -C "$CLONE" diff --cached --quiet; then
    GIT_AUTHOR_DATE=2000-01-01T00:00:00Z GIT_COMMITTER_DATE=2000-01-01T00:00:00Z \
      git -C "$CLONE" -c user.name=test -c user.email=test@127.0.0.1 commit --quiet -m "deploy test state"
  fi
  COMMIT_TAG="$(git -C "$CLONE" rev-parse --short=12 HEAD)"
}

# Outputs as deploy.sh sees them: the recording, with the local registry as "ECR".
write_outputs() {
  REGISTRY_URL="127.0.0.1:$REGISTRY_PORT/$(jq -r '.ecr_repository_url.value | sub("^[^/]+/"; "")' "$FIXTURE")"
  jq --arg url "$REGISTRY_URL" '.ecr_repository_url.value = $url' "$FIXTURE" >"$WORK/outputs.json"
  # ECS only: what terraform output -json prints with deploy_eks=false (null outputs are absent).
  jq '.deploy_eks.value = false | del(.eks_cluster_name, .eks_update_kubeconfig_command)' \
    "$WORK/outputs.json" >"$WORK/outputs-ecs-only.json"
  jq '.deploy_ecs.value = false | with_entries(select(.key | startswith("ecs_") | not))' \
    "$WORK/outputs.json" >"$WORK/outputs-eks-only.json"
}

# A directory holding every command of PATH except the named ones, to test missing tools.
path_without() {
  local dir="$WORK/path-without-$1"
  python3 - "$dir" "$@" <<'PY'
import os, sys
target, excluded = sys.argv[1], set(sys.argv[2:])
os.makedirs(target, exist_ok=True)
for d in os.environ["PATH"].split(":"):
    if not os.path.isdir(d):
        continue
    for name in os.listdir(d):
        src, dst = os.path.join(d, name), os.path.join(target, name)
        if name in excluded or os.path.lexists(dst) or not os.access(src, os.X_OK):
            continue
        os.symlink(src, dst)
PY
  printf '%s\n' "$dir"
}

# ---------------------------------------------------------------- probes

task_definition_revisions() {
  aws ecs list-task-definitions --family-prefix "$ECS_FAMILY" --query 'length(taskDefinitionArns)' --output text
}
service_task_definition() {
  aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" --query 'services[0].taskDefinition' --output text
}
service_desired_count() {
  aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" --query 'services[0].desiredCount' --output text
}
registry_tags() {
  curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/${REGISTRY_URL#*/}/tags/list" 2>/dev/null | jq -r '.tags // [] | join(" ")' 2>/dev/null || true
}
registry_has_manifest() {
  curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://127.0.0.1:$REGISTRY_PORT/v2/${REGISTRY_URL#*/}/manifests/$1"
}
image_of_revision() {
  aws ecs describe-task-definition --task-definition "$1" \
    --query "taskDefinition.containerDefinitions[?name=='hello'].image | [0]" --output text
}
output_has() { grep -qF -- "$2" "$WORK/$1.out"; }
output_has_all() {
  local name="$1" text
  shift
  for text in "$@"; do output_has "$name" "$text" || return 1; done
}
last_line_is() { [[ "$(tail -n 1 "$WORK/$1.out")" == "$2" ]]; }
# True when run $2 exited non-zero ($1) and printed $3.
failed_saying() { (($1 != 0)) && output_has "$2" "$3"; }
succeeded_saying() { (($1 == 0)) && output_has "$2" "$3"; }
is_dirty_tag() { [[ "$1" =~ ^$2-dirty-[0-9]{14}$ ]]; }
# Tag $1 is in the registry and task definition $2 is revision $3.
pushed_and_registered() { registry_has_manifest "$1" && [[ "${2##*:}" == "$3" ]]; }
ecs_unchanged() { [[ "$(task_definition_revisions)" == "$1" && "$(service_task_definition)" == "$2" ]]; }
revision_runs() { [[ "${1##*:}" == "$2" && "$(image_of_revision "$1")" == "$3" ]]; }
apply_then_rollout_status() {
  [[ "$(grep -E '^(apply -k|rollout status deployment/hello)' "$KUBECTL_LOG" | cut -d' ' -f1-2 | paste -sd, -)" == "apply -k,rollout status" ]] &&
    grep -q '^rollout status deployment/hello --namespace hello --timeout=' "$KUBECTL_LOG"
}
# The controller (scripts/install-lb-controller.sh: CRDs, helm upgrade --install of the
# pinned chart, its rollout) comes before the app's apply.
controller_before_app() {
  in_order "$KUBECTL_LOG" '^apply --server-side .*-f ' '^helm upgrade --install aws-load-balancer-controller ' \
    '^rollout status deployment aws-load-balancer-controller' '^apply -k '
}
undo_follows_status() {
  grep -A1 '^rollout status' "$KUBECTL_LOG" | grep -q '^rollout undo deployment/hello --namespace hello'
}
applied_passes_checks() {
  python3 -c 'import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))' \
    "$KUBECTL_APPLIED" >"$WORK/applied.json" &&
    NODE_MODULES_PARENT="$REPO_ROOT" node "$REPO_ROOT/tests/k8s/validate-schema.mjs" <"$WORK/applied.json" >/dev/null &&
    python3 "$REPO_ROOT/tests/k8s/check_policy.py" "$WORK/applied.json" --eks --image "$1" \
      --target-group-arn "$(jq -r .eks_target_group_arn.value "$FIXTURE")" \
      --alb-security-group "$(jq -r .alb_security_group_id.value "$FIXTURE")" >/dev/null
}

# Runs `make deploy` in the clone; $1 names the run (its output goes to $WORK/$1.out), the
# rest are `env` arguments (options such as -u first, then NAME=value).
run_deploy() {
  local name="$1" rc=0
  shift
  log "-- make deploy ($name)"
  # A local image name of its own, so the shared hello-cluster:dev is left alone.
  (cd "$CLONE" && env "$@" IMAGE=hello-cluster-deploy-test make --no-print-directory deploy) >"$WORK/$name.out" 2>&1 || rc=$?
  sed 's/^/   | /' "$WORK/$name.out" | tail -n 25
  return "$rc"
}

# ---------------------------------------------------------------- scenarios

scenario_refusals() {
  local before_revisions before_td rc
  before_revisions="$(task_definition_revisions)"
  before_td="$(service_task_definition)"

  rc=0
  run_deploy no-docker PATH="$(path_without docker)" TF_OUTPUTS_JSON="$WORK/outputs.json" || rc=$?
  check "a missing docker CLI stops the deploy with a one-line error naming it" \
    failed_saying "$rc" no-docker "deploy: error: docker not found"

  rc=0
  run_deploy no-kubectl PATH="$(path_without kubectl)" TF_OUTPUTS_JSON="$WORK/outputs.json" || rc=$?
  check "a missing kubectl (EKS on) stops the deploy with a one-line error naming it" \
    failed_saying "$rc" no-kubectl "deploy: error: kubectl not found"

  rc=0
  run_deploy no-credentials -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY TF_OUTPUTS_JSON="$WORK/outputs.json" \
    AWS_SHARED_CREDENTIALS_FILE="$WORK/none" AWS_CONFIG_FILE="$WORK/none" || rc=$?
  check "missing AWS credentials stop the deploy with a one-line error" \
    failed_saying "$rc" no-credentials "deploy: error: AWS credentials missing or rejected"

  rc=0
  touch "$CLONE/uncommitted-file"
  run_deploy dirty TF_OUTPUTS_JSON="$WORK/outputs.json" || rc=$?
  rm -f "$CLONE/uncommitted-file"
  check "a dirty git tree is refused unless ALLOW_DIRTY=1" \
    failed_saying "$rc" dirty "ALLOW_DIRTY=1"

  # The real kubectl against a kubeconfig whose API server is a closed port.
  local closed_port
  closed_port="$(free_port)"
  cat >"$WORK/kubeconfig-closed" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: closed
    cluster:
      server: https://127.0.0.1:$closed_port
      insecure-skip-tls-verify: true
users:
  - name: nobody
    user:
      token: none
contexts:
  - name: closed
    context: {cluster: closed, user: nobody}
current-context: closed
EOF
  rc=0
  run_deploy unreachable-api TF_OUTPUTS_JSON="$WORK/outputs.json" KUBECONFIG="$WORK/kubeconfig-closed" \
    EKS_UPDATE_KUBECONFIG=0 || rc=$?
  check "an unreachable Kubernetes API stops the deploy with a clear error" \
    failed_saying "$rc" unreachable-api "deploy: error: kubectl cannot reach the Kubernetes API"

  check "after the refusals: no task definition registered, no ECS service created" \
    ecs_unchanged "$before_revisions" "$before_td"
  check "after the refusals: nothing was pushed to the registry" test -z "$(registry_tags)"
}

# The registry's platforms for reference $1 (os/arch, sorted, comma-separated).
registry_platforms() {
  local repo="${REGISTRY_URL#*/}" ref="${1}" manifest
  manifest="$(curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://127.0.0.1:$REGISTRY_PORT/v2/$repo/manifests/$ref")" || return 1
  jq -r '[.manifests[]? | select(.platform.architecture != "unknown") | "\(.platform.os)/\(.platform.architecture)"] | sort | join(",")' <<<"$manifest"
}
registry_digest() {
  curl -fsSI -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    "http://127.0.0.1:$REGISTRY_PORT/v2/${REGISTRY_URL#*/}/manifests/$1" | tr -d '\r' |
    awk 'tolower($1) == "docker-content-digest:" { print $2 }'
}
service_json() {
  aws ecs describe-services --cluster "$ECS_CLUSTER" --services "${1:-$ECS_SERVICE}" --query 'services[0]' --output json
}
# Waits up to 20 s for jq filter $2 to hold on service $1.
service_reaches() {
  local i
  for i in $(seq 40); do
    service_json "$1" | jq -e "$2" >/dev/null && return 0
    sleep 0.5
    : "$i"
  done
  return 1
}
no_pull_errors() { ! service_json "$1" | jq -r '.events[].message' | grep -q 'CannotPullContainerError\|exec format error'; }
crash_on_start() { printf '%s\n' "$@" >"$WORK/crashing-images"; }
unchanged_file() { [[ "$(sha256sum <"$1")" == "$2" ]]; }
not_deployed() { ! grep -q '==> Deployed' "$WORK/$1.out"; }

# make deploy_all pushes before Terraform creates the ECS service (DEPLOY_PHASE=push).
scenario_push_first() {
  local rc=0
  run_deploy push DEPLOY_PHASE=push TF_OUTPUTS_JSON="$WORK/outputs.json" || rc=$?
  check "the push phase succeeds and prints the pushed reference last" \
    last_line_is push "$REGISTRY_URL:$COMMIT_TAG"
  test "$rc" -eq 0 || return 0
  check "the commit tag is one manifest list for linux/amd64 and linux/arm64" \
    test "$(registry_platforms "$COMMIT_TAG")" = "linux/amd64,linux/arm64"
  check "the push phase touches neither side (no kubectl call, no ECS service yet)" \
    test ! -s "$KUBECTL_LOG" -a "$(aws ecs list-services --cluster "$ECS_CLUSTER" --query 'length(serviceArns)')" = 0
}

# What the emulator does with the order of today's Terraform and of the old one: a
# service created on the pushed image runs it; one created on a placeholder that was
# never pushed gets its tasks from the scalable target at once, and they cannot pull.
scenario_service_creation_order() {
  seed_ecs_service "$ECS_SERVICE" "$REGISTRY_URL:$COMMIT_TAG"
  check "a new service on the pushed image: the scalable target starts $MIN_CAPACITY tasks and they run" \
    service_reaches "$ECS_SERVICE" ".desiredCount == $MIN_CAPACITY and .runningCount == $MIN_CAPACITY and .deployments[0].rolloutState == \"COMPLETED\""
  check "... and no task failed to pull its image" no_pull_errors "$ECS_SERVICE"
  seed_ecs_service old-order "$REGISTRY_URL:bootstrap"
  check "old order (service on an unpushed :bootstrap, then the scalable target): tasks fail with CannotPullContainerError" \
    service_reaches old-order '.desiredCount == 2 and .runningCount == 0 and ([.events[].message | select(test("CannotPullContainerError"))] | length > 0)'
  aws application-autoscaling deregister-scalable-target --service-namespace ecs \
    --resource-id "service/$ECS_CLUSTER/old-order" --scalable-dimension ecs:service:DesiredCount >/dev/null
  aws ecs delete-service --cluster "$ECS_CLUSTER" --service old-order --force >/dev/null
}

scenario_first_deploy() {
  local rc=0 image="$REGISTRY_URL:$COMMIT_TAG" revision_arn before_kubeconfig next
  next=$(($(task_definition_revisions) + 1))
  : >"$KUBECTL_LOG"
  # The operator's own kubeconfig, with a context of their own: it must stay as it is.
  printf '%s\n' 'apiVersion: v1' 'kind: Config' \
    'clusters: [{name: theirs, cluster: {server: "https://127.0.0.1:9"}}]' \
    'users: [{name: them, user: {token: none}}]' \
    'contexts: [{name: theirs, context: {cluster: theirs, user: them}}]' \
    'current-context: theirs' >"$WORK/operator-kubeconfig"
  before_kubeconfig="$(sha256sum <"$WORK/operator-kubeconfig")"
  run_deploy first TF_OUTPUTS_JSON="$WORK/outputs.json" PATH="$SHIM_DIR:$PATH" KUBECONFIG="$WORK/operator-kubeconfig" || rc=$?
  check "first deploy (EKS and ECS) succeeds" test "$rc" -eq 0
  check "the pushed tag is reused after checking its platforms, not rebuilt" \
    output_has first "is already in the registry for linux/amd64,linux/arm64"
  check "progress lines name each step" output_has_all first "==> Checking credentials and access" \
    "==> Building and pushing $image" "==> Rolling out to EKS" "==> Rolling out to ECS" "==> Deployed $image"
  check "the operator's kubeconfig (KUBECONFIG) is byte for byte unchanged" \
    unchanged_file "$WORK/operator-kubeconfig" "$before_kubeconfig"
  check "the AWS Load Balancer Controller is installed (CRDs, helm upgrade --install, ready) before the app" \
    controller_before_app
  check "kubectl apply -k, then rollout status with a timeout, in that order" apply_then_rollout_status
  check "the applied manifests are what deploy-k8s-overlay.sh renders from the stack's outputs" \
    python3 - "$KUBECTL_APPLIED" "$CLONE" "$image" "$WORK/outputs.json" <<'PY'
import json, os, subprocess, sys, tempfile, yaml
applied_file, clone, image, outputs = sys.argv[1:5]
out = json.load(open(outputs))
with tempfile.TemporaryDirectory() as d:
    subprocess.run([f"{clone}/scripts/deploy-k8s-overlay.sh", d, image, out["eks_target_group_arn"]["value"],
                    out["alb_security_group_id"]["value"], f"{clone}/k8s/overlays/eks"], check=True, capture_output=True,
                   env=dict(os.environ, TRUSTED_PROXY_CIDRS=out["vpc_cidr"]["value"]))
    expected = [o for o in yaml.safe_load_all(subprocess.run([os.environ["REAL_KUBECTL"], "kustomize", d],
                check=True, capture_output=True, text=True).stdout) if o]
applied = [o for o in yaml.safe_load_all(open(applied_file)) if o]
images = {c["image"] for o in applied if o["kind"] == "Deployment" for c in o["spec"]["template"]["spec"]["containers"]}
sys.exit(0 if applied == expected and images == {image} else 1)
PY
  check "the applied manifests pass the strict schema and policy checks with that image" applied_passes_checks "$image"
  check "the pods trust X-Forwarded-For from the VPC only (TRUSTED_PROXY_CIDRS = vpc_cidr)" python3 - "$KUBECTL_APPLIED" \
    "$(jq -r .vpc_cidr.value "$FIXTURE")" <<'PY'
import sys, yaml
applied = [o for o in yaml.safe_load_all(open(sys.argv[1])) if o]
env = {e["name"]: e.get("value") for o in applied if o["kind"] == "Deployment"
       for c in o["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}
sys.exit(0 if env.get("TRUSTED_PROXY_CIDRS") == sys.argv[2] else 1)
PY
  revision_arn="$(service_task_definition)"
  check "the ECS service points at the new revision $next ($revision_arn), running $image" \
    revision_runs "$revision_arn" "$next" "$image"
  check "ECS reports that deployment COMPLETED, alone, all tasks running" \
    service_reaches "$ECS_SERVICE" "(.deployments | length) == 1 and .deployments[0].taskDefinition == \"$revision_arn\" and .deployments[0].rolloutState == \"COMPLETED\" and .runningCount == .desiredCount"
  check "the deploy followed the ECS deployment to COMPLETED" output_has first "ECS deployment COMPLETED"
  check "revision $next is Terraform's rendering with only the image changed" python3 - "$FIXTURE" "$revision_arn" <<'PY'
import json, subprocess, sys
rendered = json.loads(json.load(open(sys.argv[1]))["ecs_task_definition_json"]["value"])
registered = json.loads(subprocess.run(["aws", "ecs", "describe-task-definition", "--task-definition", sys.argv[2],
    "--query", "taskDefinition"], check=True, capture_output=True, text=True).stdout)
for key in ("family", "cpu", "memory", "networkMode", "runtimePlatform", "executionRoleArn", "taskRoleArn", "volumes"):
    assert registered.get(key) == rendered.get(key), key
want, got = rendered["containerDefinitions"][0], registered["containerDefinitions"][0]
for key, value in want.items():
    if key != "image":
        assert got.get(key) == value, key
PY
  check "the count stays the autoscaler's ($MIN_CAPACITY)" test "$(service_desired_count)" = "$MIN_CAPACITY"
  check "no ECS task ever failed to pull its image" no_pull_errors "$ECS_SERVICE"
  check "the URL is printed at the end" last_line_is first "URL: $(jq -r .alb_url.value "$FIXTURE")"
}

# Terraform replaced the target group (new ARN): the binding is deleted before the apply,
# since the controller refuses to change spec.targetGroupARN.
scenario_replaced_target_group() {
  local rc=0
  : >"$KUBECTL_LOG"
  run_deploy replaced-tg TF_OUTPUTS_JSON="$WORK/outputs-eks-only.json" PATH="$SHIM_DIR:$PATH" \
    KUBECONFIG="$WORK/operator-kubeconfig" \
    KUBECTL_BOUND_TARGET_GROUP="arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/hello-cluster-eks-old/fedcba9876543210" || rc=$?
  check "a deploy after the target group was replaced succeeds" test "$rc" -eq 0
  check "the old binding is deleted before kubectl apply -k" \
    in_order "$KUBECTL_LOG" '^delete targetgroupbinding hello --namespace hello --wait' '^apply -k '
  : >"$KUBECTL_LOG"
  rc=0
  run_deploy same-tg TF_OUTPUTS_JSON="$WORK/outputs-eks-only.json" PATH="$SHIM_DIR:$PATH" \
    KUBECONFIG="$WORK/operator-kubeconfig" KUBECTL_BOUND_TARGET_GROUP="$(jq -r .eks_target_group_arn.value "$FIXTURE")" || rc=$?
  check "with the same target group the binding is left alone" \
    bash -c "(($rc == 0)) && ! grep -q '^delete targetgroupbinding' '$KUBECTL_LOG'"
}

scenario_failed_rollout() {
  local rc=0 before_revisions before_td
  before_revisions="$(task_definition_revisions)"
  before_td="$(service_task_definition)"
  : >"$KUBECTL_LOG"
  run_deploy failed-rollout TF_OUTPUTS_JSON="$WORK/outputs.json" PATH="$SHIM_DIR:$PATH" \
    KUBECONFIG="$WORK/operator-kubeconfig" FAKE_ROLLOUT=fail || rc=$?
  check "a rollout that misses its deadline fails the deploy" test "$rc" -ne 0
  check "kubectl rollout undo follows the failed rollout status" undo_follows_status
  check "the failure says it rolled back" output_has failed-rollout "EKS rollout failed and was rolled back"
  check "ECS is left alone when EKS fails (no new revision, same task definition)" \
    ecs_unchanged "$before_revisions" "$before_td"
}

# The new image does not start on ECS: the circuit breaker fails the deployment and rolls
# the service back; the deploy must say so, exit non-zero, and put EKS back as well.
scenario_ecs_circuit_breaker() {
  local rc=0 digest before_td
  digest="$(registry_digest "$COMMIT_TAG")"
  before_td="$(service_task_definition)"
  crash_on_start "$REGISTRY_URL@$digest"
  : >"$KUBECTL_LOG"
  run_deploy ecs-fails TF_OUTPUTS_JSON="$WORK/outputs.json" PATH="$SHIM_DIR:$PATH" \
    KUBECONFIG="$WORK/operator-kubeconfig" IMAGE_DIGEST="$digest" ECS_POLL_SECONDS=1 || rc=$?
  crash_on_start
  check "a deployment the circuit breaker fails makes the deploy exit non-zero" test "$rc" -ne 0
  check "the deploy says the ECS deployment ended FAILED, and why" \
    output_has ecs-fails "ended FAILED: ECS deployment circuit breaker: tasks failed to start"
  check "the deploy names the revision ECS runs now and that the circuit breaker rolled it back" \
    output_has_all ecs-fails "ECS now runs ${before_td##*/}" "the circuit breaker rolled the service back"
  check "the deploy shows ECS's events (the task's stop reason)" output_has ecs-fails "Essential container in task exited"
  check "EKS is rolled back as well, so both sides serve one version" output_has ecs-fails "EKS was rolled back too"
  check "kubectl rollout undo follows the ECS failure" \
    grep -q '^rollout undo deployment/hello --namespace hello' "$KUBECTL_LOG"
  check "ECS ends on the previous revision, its rollback COMPLETED" \
    service_reaches "$ECS_SERVICE" "(.deployments | length) == 1 and .taskDefinition == \"$before_td\" and .deployments[0].rolloutState == \"COMPLETED\""
  check "the deploy does not claim it deployed" not_deployed ecs-fails
}

# A tag that holds one architecture (pushed once by hand or by an old deploy) is immutable:
# the deploy must refuse it, not reuse it.
scenario_single_arch_tag() {
  local rc=0 tag before_revisions before_td
  echo "single-arch commit" >"$CLONE/SINGLE.txt"
  git -C "$CLONE" add SINGLE.txt
  git -C "$CLONE" -c user.name=test -c user.email=test@127.0.0.1 commit --quiet -m "single-arch commit"
  tag="$(git -C "$CLONE" rev-parse --short=12 HEAD)"
  docker tag "hello-cluster-deploy-test:$COMMIT_TAG-amd64" "$REGISTRY_URL:$tag"
  docker push --quiet "$REGISTRY_URL:$tag" >/dev/null
  before_revisions="$(task_definition_revisions)"
  before_td="$(service_task_definition)"
  run_deploy single-arch TF_OUTPUTS_JSON="$WORK/outputs-ecs-only.json" || rc=$?
  check "a reused single-architecture tag is refused with a clear error" \
    failed_saying "$rc" single-arch "holds linux/amd64 but not linux/arm64"
  check "after the refusal: no revision registered, the service still on its task definition" \
    ecs_unchanged "$before_revisions" "$before_td"
  rc=0
  run_deploy bad-digest TF_OUTPUTS_JSON="$WORK/outputs-ecs-only.json" IMAGE_DIGEST=sha256:1234 || rc=$?
  check "a malformed IMAGE_DIGEST is refused" failed_saying "$rc" bad-digest "is not sha256:<64 lowercase hex digits>"
  git -C "$CLONE" reset --quiet --hard HEAD~1
}

# ---------------------------------------------------------------- make deploy_all
# scripts/deploy-all.sh decides the order: registry first, push before any ECS service,
# hold a newly enabled side at 0 % until its rollout is healthy. Terraform is played by
# tests/deploy/terraform-recorder.sh (the configuration itself is applied by test-tf);
# its calls and kubectl's go to one log, so the order is visible.

# Removes the ECS service of earlier scenarios: the next one starts without an ECS side.
remove_ecs_side() {
  aws application-autoscaling deregister-scalable-target --service-namespace ecs \
    --resource-id "service/$ECS_CLUSTER/$ECS_SERVICE" --scalable-dimension ecs:service:DesiredCount >/dev/null 2>&1 || true
  aws ecs delete-service --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" --force >/dev/null
}

# $1 names the run; $2 the outputs before it ("{}" for a fresh account).
prepare_fake_stack() {
  TF_FAKE_DIR="$WORK/tf-fake-$1"
  mkdir -p "$TF_FAKE_DIR/root/.terraform"
  cp "$WORK/outputs.json" "$TF_FAKE_DIR/full-outputs.json"
  printf '%s\n' '{"deploy_eks": true, "deploy_ecs": true}' >"$TF_FAKE_DIR/config.json"
  printf '%s\n' "$2" >"$TF_FAKE_DIR/outputs.json"
  : >"$TF_FAKE_DIR/calls.log"
  export TF_FAKE_DIR TF_FAKE_CREATE_ECS="$REPO_ROOT/tests/deploy/create-ecs-side.sh"
}

run_deploy_all() {
  local name="$1" rc=0
  log "-- make deploy_all ($name)"
  (cd "$CLONE" && env PATH="$TF_SHIM_DIR:$SHIM_DIR:$PATH" TF_DIR="$TF_FAKE_DIR/root" KUBECONFIG="$WORK/operator-kubeconfig" \
    KUBECTL_LOG="$TF_FAKE_DIR/calls.log" ECS_POLL_SECONDS=1 IMAGE=hello-cluster-deploy-test \
    make --no-print-directory deploy_all) >"$WORK/$name.out" 2>&1 || rc=$?
  sed 's/^/   | /' "$WORK/$name.out" | tail -n 25
  return "$rc"
}

# Lines matching $2..$n appear in file $1 in that order, each at least once.
in_order() {
  local file="$1" previous=0 n
  shift
  while (($#)); do
    n="$(tail -n +"$((previous + 1))" "$file" | grep -n -m1 -E -- "$1" | cut -d: -f1)"
    [[ -n "$n" ]] || return 1
    previous=$((previous + n))
    shift
  done
}

scenario_deploy_all_fresh() {
  local rc=0 calls
  remove_ecs_side
  prepare_fake_stack fresh '{}'
  run_deploy_all deploy-all-fresh || rc=$?
  calls="$TF_FAKE_DIR/calls.log"
  check "deploy_all on a fresh account succeeds" test "$rc" -eq 0
  check "the registry is created first, alone (apply -target=module.registry)" \
    in_order "$calls" '^apply .*-target=module\.registry' '^plan '
  check "the image is pushed before Terraform plans the ECS service, which gets its tag" \
    in_order "$WORK/deploy-all-fresh.out" '==> Pushed ' '==> Planning with image_tag='"$COMMIT_TAG"
  check "the plan names image_tag=$COMMIT_TAG and holds no side (nothing served before)" \
    test "$(grep -c -E "^plan .*-var image_tag=$COMMIT_TAG" "$calls")" = 1 -a "$(grep -c -- '-var ecs_traffic_percent' "$calls")" = 0
  check "then the apply, then the rollout on both sides" \
    in_order "$calls" '^apply -input=false ' '^applied: ' '^apply -k ' '^rollout status '
  check "the new ECS service ran the pushed image from its first task: no pull error, deployment COMPLETED" \
    service_reaches "$ECS_SERVICE" '.status == "ACTIVE" and .runningCount == .desiredCount and .desiredCount > 0 and (.deployments | length) == 1 and .deployments[0].rolloutState == "COMPLETED"'
  check "... and no ECS task ever failed to pull its image" no_pull_errors "$ECS_SERVICE"
}

scenario_deploy_all_switch_on_ecs() {
  local rc=0 calls eks_only
  remove_ecs_side
  eks_only="$(jq 'with_entries(select(.key | startswith("ecs_") | not)) | .deploy_ecs.value = false | .ecs_traffic_percent = {"sensitive": false, "type": "number", "value": 0}' "$WORK/outputs.json")"
  prepare_fake_stack switch-on "$eks_only"
  run_deploy_all deploy-all-switch-on || rc=$?
  calls="$TF_FAKE_DIR/calls.log"
  check "switching ECS on while EKS serves: deploy_all succeeds" test "$rc" -eq 0
  check "the registry exists: no targeted apply" test "$(grep -c -- '-target=module.registry' "$calls")" = 0
  check "the apply that creates ECS gives it 0 % (ecs_traffic_percent=0)" \
    in_order "$calls" "^plan .*-var image_tag=$COMMIT_TAG -var ecs_traffic_percent=0" '^apply -input=false ' '^applied: ecs_traffic_percent=0$'
  check "only after the rollout succeeded does ECS get the share asked for (50 %)" \
    in_order "$calls" '^applied: ecs_traffic_percent=0$' '^rollout status ' "^plan .*-var image_tag=$COMMIT_TAG *\$" '^applied: ecs_traffic_percent=50$'
  check "the deploy_all output says why ECS is held" output_has deploy-all-switch-on "ECS is new and EKS serves: ECS gets 0 %"
  check "the new ECS side runs the pushed image, no pull error" \
    service_reaches "$ECS_SERVICE" '.status == "ACTIVE" and .runningCount == .desiredCount and .desiredCount > 0 and .deployments[0].rolloutState == "COMPLETED"'
}

# scripts/destroy.sh, the first half of `make destroy` (the second, terraform destroy, is
# the Terraform tests' business).
run_destroy() {
  local name="$1" rc=0
  shift
  log "-- scripts/destroy.sh ($name)"
  (cd "$CLONE" && env "$@" scripts/destroy.sh) >"$WORK/$name.out" 2>&1 || rc=$?
  sed 's/^/   | /' "$WORK/$name.out" | tail -n 15
  return "$rc"
}

deleted_in_order() {
  [[ "$(grep '^delete' "$KUBECTL_LOG" | cut -d' ' -f1-3 | paste -sd, -)" == "delete -k $CLONE/k8s/overlays/eks,delete service edge,delete ingress web" ]] &&
    grep -q '^delete service edge --namespace team-a ' "$KUBECTL_LOG" &&
    grep -q '^delete ingress web --namespace team-b ' "$KUBECTL_LOG"
}
every_delete_waits() { ! grep '^delete' "$KUBECTL_LOG" | grep -q -v -- '--wait'; }
kubectl_not_called() { [[ ! -s "$KUBECTL_LOG" ]]; }

scenario_destroy() {
  local rc=0
  mkdir -p "$WORK/cluster-objects"
  # A LoadBalancer Service and an Ingress someone added, next to our NodePort Service.
  cat >"$WORK/cluster-objects/services.json" <<'JSON'
{"apiVersion": "v1", "kind": "List", "items": [
  {"metadata": {"namespace": "hello", "name": "hello"}, "spec": {"type": "NodePort"}},
  {"metadata": {"namespace": "team-a", "name": "edge"}, "spec": {"type": "LoadBalancer"}}]}
JSON
  cat >"$WORK/cluster-objects/ingresses.json" <<'JSON'
{"apiVersion": "v1", "kind": "List", "items": [{"metadata": {"namespace": "team-b", "name": "web"}}]}
JSON
  : >"$KUBECTL_LOG"
  local before_kubeconfig
  before_kubeconfig="$(sha256sum <"$WORK/operator-kubeconfig")"
  run_destroy destroy-eks TF_OUTPUTS_JSON="$WORK/outputs.json" PATH="$SHIM_DIR:$PATH" \
    KUBECONFIG="$WORK/operator-kubeconfig" KUBECTL_OBJECTS_DIR="$WORK/cluster-objects" || rc=$?
  check "destroy (EKS on) succeeds" test "$rc" -eq 0
  check "destroy leaves the operator's kubeconfig byte for byte unchanged" \
    unchanged_file "$WORK/operator-kubeconfig" "$before_kubeconfig"
  check "destroy deletes the app, then every LoadBalancer Service and Ingress, no other Service" deleted_in_order
  check "destroy waits for each deletion (finalizers remove the load balancers)" every_delete_waits

  : >"$KUBECTL_LOG"
  rc=0
  run_destroy destroy-ecs-only TF_OUTPUTS_JSON="$WORK/outputs-ecs-only.json" PATH="$SHIM_DIR:$PATH" || rc=$?
  check "destroy with EKS off succeeds" test "$rc" -eq 0
  check "destroy with EKS off says there is nothing to remove" output_has destroy-ecs-only "EKS is off"
  check "destroy with EKS off calls no kubectl" kubectl_not_called

  rc=0
  run_destroy destroy-unreachable TF_OUTPUTS_JSON="$WORK/outputs.json" KUBECONFIG="$WORK/kubeconfig-closed" \
    EKS_UPDATE_KUBECONFIG=0 || rc=$?
  check "destroy stops with a clear error when the cluster cannot be reached" \
    failed_saying "$rc" destroy-unreachable "destroy: error: kubectl cannot reach"
}

check_fixture() {
  local missing undeclared
  # tests/deploy/required-outputs.txt: one output per line, shared with record-outputs.sh.
  missing="$(jq -r --rawfile required "$REPO_ROOT/tests/deploy/required-outputs.txt" \
    '. as $o | [$required | split("\n")[] | select(length > 0) | select($o[.].value == null)] | join(" ")' "$FIXTURE")"
  check "the recorded outputs hold every output deploy.sh reads${missing:+ (missing: $missing)}" test -z "$missing"
  undeclared=""
  local name
  for name in $(jq -r 'keys[]' "$FIXTURE"); do
    grep -q "^output \"$name\"" "$REPO_ROOT/tf/outputs.tf" || undeclared+=" $name"
  done
  check "every recorded output is still declared in tf/outputs.tf${undeclared:+ (gone:$undeclared)}" test -z "$undeclared"
  check "the recorded outputs have the shape of terraform output -json" has_output_json_shape "$FIXTURE"
}

has_output_json_shape() {
  jq -e 'to_entries | all(.value | has("sensitive") and has("type") and has("value"))' "$1" >/dev/null
}

# The task definition deploy.sh registers is Terraform's rendering with a new image: check
# it against botocore's RegisterTaskDefinition model and the Fargate rules, and that the
# recording still matches what ecs-taskdef/ renders.
check_task_definition() {
  jq -r .ecs_task_definition_json.value "$FIXTURE" >"$WORK/recorded-task-definition.json"
  run_checker "task definition" python3 "$REPO_ROOT/tests/deploy/validate_task_definition.py" \
    "$WORK/recorded-task-definition.json" --template "$REPO_ROOT/ecs-taskdef/taskdef.json.tftpl"
  run_checker "task definition self-test" python3 "$REPO_ROOT/tests/deploy/validate_task_definition.py" \
    "$WORK/recorded-task-definition.json" --self-test
}

# deploy.sh reads a tag's platforms with scripts/image-platforms.py, which must keep the
# registry's credentials off ECR's blob redirect to S3 (the local registry never redirects).
check_image_platforms() {
  check "image-platforms.py reads a single-platform image whose config blob is redirected to another host, sending it no credentials" \
    python3 "$REPO_ROOT/tests/deploy/test_image_platforms.py"
}

main() {
  require_tools
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/test-deploy.XXXXXX")"
  # Everything the AWS CLI, docker and kubectl read or write stays in this directory, and
  # nothing reaches beyond 127.0.0.1 (no instance metadata lookups).
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
  export AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
  export DOCKER_CONFIG="$WORK/docker-config" KUBECONFIG="$WORK/kubeconfig-unused"
  mkdir -p "$DOCKER_CONFIG"
  # An engine started by docker/engine.sh uses the default socket; the CLI config above
  # only holds the registry login.

  echo "== recorded Terraform outputs and the task definition they carry"
  check_fixture
  check_task_definition
  check_image_platforms
  echo "== setup"
  start_docker_engine
  start_registry
  start_emulator
  export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
  seed_cloud
  make_clone
  write_outputs
  SHIM_DIR="$WORK/kubectl-shim"
  mkdir -p "$SHIM_DIR"
  cp "$REPO_ROOT/tests/deploy/kubectl-recorder.sh" "$SHIM_DIR/kubectl"
  REAL_KUBECTL="$(command -v kubectl)"
  # helm for scripts/install-lb-controller.sh: the stand-in of tests/k8s, for every run.
  HELM_SHIM_DIR="$WORK/helm-shim"
  mkdir -p "$HELM_SHIM_DIR"
  ln -s "$REPO_ROOT/tests/k8s/lb-controller-standin.sh" "$HELM_SHIM_DIR/helm"
  export PATH="$HELM_SHIM_DIR:$PATH" STANDIN_LOG="$WORK/kubectl-calls.log"
  export STANDIN_CRDS="$REPO_ROOT/tests/k8s/crds/elbv2.k8s.aws_targetgroupbindings.yaml"
  TF_SHIM_DIR="$WORK/terraform-shim"
  mkdir -p "$TF_SHIM_DIR"
  cp "$REPO_ROOT/tests/deploy/terraform-recorder.sh" "$TF_SHIM_DIR/terraform"
  KUBECTL_LOG="$WORK/kubectl-calls.log"
  KUBECTL_APPLIED="$WORK/kubectl-applied.yaml"
  export REAL_KUBECTL KUBECTL_LOG KUBECTL_APPLIED
  log "clone at commit $COMMIT_TAG; registry URL $REGISTRY_URL"

  echo "== refusals: nothing changes before every check passes"
  scenario_refusals
  echo "== push first: one manifest list for both platforms, before any ECS service"
  : >"$KUBECTL_LOG"
  scenario_push_first
  echo "== the ECS service is created on the pushed image (and what the old order did)"
  scenario_service_creation_order
  echo "== first rollout: both sides, the operator's kubeconfig untouched"
  scenario_first_deploy
  echo "== a replaced target group: the binding is deleted before the apply"
  scenario_replaced_target_group
  echo "== failed EKS rollout: undo, non-zero exit, ECS untouched"
  scenario_failed_rollout
  echo "== failed ECS rollout: the circuit breaker rolls back, the deploy says so and EKS follows"
  scenario_ecs_circuit_breaker
  echo "== a reused single-architecture tag is refused"
  scenario_single_arch_tag
  echo "== make deploy_all on a fresh account: registry, push, then the ECS service on that image"
  scenario_deploy_all_fresh
  echo "== make deploy_all switching ECS on while EKS serves: 0 % until healthy, then the split"
  scenario_deploy_all_switch_on_ecs
  echo "== destroy: Kubernetes-made load balancers go first"
  scenario_destroy

  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  ((FAILED == 0))
}

main "$@"
