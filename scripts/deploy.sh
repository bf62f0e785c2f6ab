#!/usr/bin/env bash
# Ship the checked-out commit to whichever sides the Terraform stack runs (make deploy).
#
# Everything comes from the stack's outputs (`terraform -chdir=$TF_DIR output -json`, or a
# saved copy in TF_OUTPUTS_JSON): no account, region or name is written down here.
#
#   1. checks, before anything changes: tools, outputs, a clean git tree, AWS credentials,
#      the Docker engine, access to the Kubernetes API, the ECS service, the manifests
#   2. ECR login, image build (multi-arch with buildx, else the host architecture), push
#      under the commit tag
#   3. EKS: kubectl apply -k (the eks overlay with the image set), rollout status, and
#      rollout undo plus a non-zero exit when the rollout fails
#   4. ECS: register a task definition revision (Terraform's rendering with the new image),
#      update-service, wait for services-stable
#   5. print the URL
#
# Knobs (environment):
#   TF_DIR                 Terraform root (default: tf/ beside this script)
#   TF_OUTPUTS_JSON        read the outputs from this file instead of running terraform
#   IMAGE                  local image name that `make image` builds (default hello-cluster)
#   ALLOW_DIRTY=1          deploy a tree with uncommitted changes (tag <commit>-dirty-<time>)
#   BUILDX=auto|0          auto: multi-arch buildx build when buildx exists; 0: never
#   ROLLOUT_TIMEOUT        kubectl rollout status timeout (default 300s)
#   EKS_UPDATE_KUBECONFIG=0  use the current KUBECONFIG context instead of writing one with
#                          `aws eks update-kubeconfig` (CI runners with a prepared context)
#   K8S_OVERLAY            kustomize overlay to deploy (default k8s/overlays/eks)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly TF_DIR="${TF_DIR:-$REPO_ROOT/tf}"
readonly TF_OUTPUTS_JSON="${TF_OUTPUTS_JSON:-}"
readonly IMAGE="${IMAGE:-hello-cluster}"
readonly ALLOW_DIRTY="${ALLOW_DIRTY:-0}"
readonly BUILDX="${BUILDX:-auto}"
readonly ROLLOUT_TIMEOUT="${ROLLOUT_TIMEOUT:-300s}"
readonly EKS_UPDATE_KUBECONFIG="${EKS_UPDATE_KUBECONFIG:-1}"
readonly K8S_OVERLAY="${K8S_OVERLAY:-$REPO_ROOT/k8s/overlays/eks}"
readonly PLATFORMS="linux/arm64,linux/amd64"
# Names inside the manifests (k8s/base), not cloud names.
readonly K8S_NAMESPACE=hello
readonly K8S_DEPLOYMENT=hello

WORK_DIR=""
OUTPUTS=""

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'deploy: warning: %s\n' "$*" >&2; }
die() {
  printf 'deploy: error: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  if [[ -n "$WORK_DIR" ]]; then rm -rf "$WORK_DIR"; fi
}
trap cleanup EXIT

# Prints output $1 of the stack: strings raw, other types as JSON, nothing when absent or
# null (Terraform leaves null outputs out of `output -json`).
tf_output() {
  jq -r --arg name "$1" \
    '.[$name].value | if . == null then empty elif type == "string" then . else tojson end' \
    <<<"$OUTPUTS"
}

require_output() {
  local value
  value="$(tf_output "$1")"
  [[ -n "$value" ]] || die "Terraform output $1 is missing or null: run make tf_deploy first"
  printf '%s\n' "$value"
}

# ---------------------------------------------------------------- checks

check_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    for tool in "${missing[@]}"; do
      case "$tool" in
        aws) printf 'deploy: error: aws not found: install the AWS CLI (Debian: awscli)\n' >&2 ;;
        docker) printf 'deploy: error: docker not found: install Docker (Debian: docker.io)\n' >&2 ;;
        kubectl) printf 'deploy: error: kubectl not found: install kubectl (needed because deploy_eks is true)\n' >&2 ;;
        terraform) printf 'deploy: error: terraform not found: install Terraform, or set TF_OUTPUTS_JSON to a saved "terraform output -json"\n' >&2 ;;
        jq) printf 'deploy: error: jq not found: install jq (Debian: jq)\n' >&2 ;;
        *) printf 'deploy: error: %s not found\n' "$tool" >&2 ;;
      esac
    done
    exit 1
  fi
}

load_outputs() {
  if [[ -n "$TF_OUTPUTS_JSON" ]]; then
    [[ -r "$TF_OUTPUTS_JSON" ]] || die "TF_OUTPUTS_JSON=$TF_OUTPUTS_JSON is not a readable file"
    OUTPUTS="$(<"$TF_OUTPUTS_JSON")"
  else
    OUTPUTS="$(terraform -chdir="$TF_DIR" output -json)" ||
      die "terraform -chdir=$TF_DIR output -json failed: run make tf_init and make tf_deploy first"
  fi
  jq -e 'type == "object" and length > 0' >/dev/null 2>&1 <<<"$OUTPUTS" ||
    die "the Terraform stack has no outputs: run make tf_deploy first"
}

# Sets DEPLOY_TAG: the commit, or, with ALLOW_DIRTY=1 on a changed tree, a tag that can
# never collide with the clean build of the same commit (the registry's tags are immutable).
choose_tag() {
  git -C "$REPO_ROOT" rev-parse --verify HEAD >/dev/null 2>&1 || die "$REPO_ROOT is not a git checkout with a commit"
  local commit dirty
  commit="$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD)"
  dirty="$(git -C "$REPO_ROOT" status --porcelain --untracked-files=normal)"
  if [[ -n "$dirty" ]]; then
    [[ "$ALLOW_DIRTY" == 1 ]] ||
      die "the git tree has uncommitted changes (git status: $(wc -l <<<"$dirty") entries): commit them, or set ALLOW_DIRTY=1"
    DEPLOY_TAG="$commit-dirty-$(date -u +%Y%m%d%H%M%S)"
    warn "deploying uncommitted changes as $DEPLOY_TAG"
  else
    DEPLOY_TAG="$commit"
  fi
}

check_aws_credentials() {
  local err
  if ! err="$(aws sts get-caller-identity --region "$REGION" --output text --query Account 2>&1 >/dev/null)"; then
    die "AWS credentials missing or rejected (aws sts get-caller-identity: $(tail -n 1 <<<"$err"))"
  fi
}

check_docker_engine() {
  timeout 20 docker info >/dev/null 2>&1 ||
    die "docker cannot reach a Docker engine (docker info failed): start dockerd (docker/engine.sh start)"
}

# Writes the kubeconfig entry (unless EKS_UPDATE_KUBECONFIG=0) and proves that the API
# answers and lets us manage Deployments, before anything changes.
check_kubernetes_access() {
  if [[ "$EKS_UPDATE_KUBECONFIG" == 1 ]]; then
    aws eks update-kubeconfig --region "$REGION" --name "$EKS_CLUSTER" >/dev/null ||
      die "aws eks update-kubeconfig --name $EKS_CLUSTER failed"
  fi
  local answer
  if ! answer="$(kubectl auth can-i create deployments.apps --namespace "$K8S_NAMESPACE" --request-timeout=15s 2>&1)"; then
    if [[ "$answer" == no* ]]; then
      die "kubectl may not create Deployments in namespace $K8S_NAMESPACE: give this identity an EKS access entry (Terraform variable for admin ARNs)"
    fi
    die "kubectl cannot reach the Kubernetes API of $EKS_CLUSTER ($(tail -n 1 <<<"$answer"))"
  fi
}

# Writes a throw-away overlay on top of K8S_OVERLAY that sets the image and the NodePort
# from the stack's outputs (kustomize `images:`, no text substitution), and renders it once
# so a broken manifest stops the deploy before anything changes.
prepare_k8s_overlay() {
  local overlay="$WORK_DIR/k8s-overlay"
  mkdir -p "$overlay"
  "$REPO_ROOT/scripts/deploy-k8s-overlay.sh" "$overlay" "$IMAGE_REF" "$EKS_NODE_PORT" "$K8S_OVERLAY"
  kubectl kustomize "$overlay" >"$WORK_DIR/k8s-rendered.yaml" ||
    die "kubectl kustomize $K8S_OVERLAY failed"
  K8S_OVERLAY_DIR="$overlay"
}

check_ecs_service() {
  local status
  status="$(aws ecs describe-services --region "$REGION" --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
    --query 'services[0].status' --output text 2>&1)" ||
    die "aws ecs describe-services failed for $ECS_CLUSTER/$ECS_SERVICE ($(tail -n 1 <<<"$status"))"
  [[ "$status" == ACTIVE ]] || die "ECS service $ECS_CLUSTER/$ECS_SERVICE is not ACTIVE (status: $status): run make tf_deploy"
}

# The registered revision is Terraform's rendering of ecs-taskdef/ with only the image of
# the app container replaced.
prepare_task_definition() {
  jq -e --arg name "$ECS_CONTAINER" 'any(.containerDefinitions[]; .name == $name)' \
    >/dev/null 2>&1 <<<"$ECS_TASK_DEFINITION_JSON" ||
    die "ecs_task_definition_json has no container named $ECS_CONTAINER"
  jq --arg name "$ECS_CONTAINER" --arg image "$IMAGE_REF" \
    '.containerDefinitions |= map(if .name == $name then .image = $image else . end)' \
    <<<"$ECS_TASK_DEFINITION_JSON" >"$WORK_DIR/task-definition.json"
}

# ---------------------------------------------------------------- changes

registry_login() {
  local host="${ECR_URL%%/*}" out
  # docker login warns on stderr about storing the token unencrypted; show it only on failure.
  if ! out="$(aws ecr get-login-password --region "$REGION" |
    docker login --username AWS --password-stdin "$host" 2>&1)"; then
    die "docker login to $host failed: $(tail -n 1 <<<"$out")"
  fi
  note "logged in to $host"
}

image_in_registry() {
  local repository="${ECR_URL#*/}"
  aws ecr describe-images --region "$REGION" --repository-name "$repository" \
    --image-ids "imageTag=$DEPLOY_TAG" >/dev/null 2>&1
}

build_and_push() {
  if image_in_registry; then
    note "$IMAGE_REF is already in the registry (tags are immutable); not rebuilding"
    return 0
  fi
  local want_arch="$IMAGE_ARCH"
  if [[ "$BUILDX" != 0 ]] && docker buildx version >/dev/null 2>&1; then
    note "docker buildx build --platform $PLATFORMS --push"
    docker buildx build --platform "$PLATFORMS" -f "$REPO_ROOT/docker/Dockerfile" \
      --build-arg "VERSION=$DEPLOY_TAG" --build-arg "COMMIT=$(git -C "$REPO_ROOT" rev-parse HEAD)" \
      --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      --build-arg "SOURCE=$(git -C "$REPO_ROOT" config --get remote.origin.url || echo unknown)" \
      --tag "$IMAGE_REF" --push "$REPO_ROOT" || die "docker buildx build failed"
    return 0
  fi
  local host_arch
  host_arch="$(docker version --format '{{.Server.Arch}}' 2>/dev/null || uname -m)"
  case "$host_arch" in x86_64) host_arch=amd64 ;; aarch64) host_arch=arm64 ;; esac
  if [[ "$host_arch" != "$want_arch" ]]; then
    warn "docker buildx is not available, so the image is built for this host ($host_arch) only, but the stack runs $want_arch: pods and tasks will fail to start. Install buildx (docker-buildx-plugin), or deploy from a host of that architecture."
  fi
  note "make image (single architecture: $host_arch)"
  make --no-print-directory -C "$REPO_ROOT" image IMAGE="$IMAGE" TAG="$DEPLOY_TAG" || die "make image failed"
  docker tag "$IMAGE:$DEPLOY_TAG" "$IMAGE_REF"
  docker push --quiet "$IMAGE_REF" >/dev/null || die "docker push $IMAGE_REF failed"
}

rollout_eks() {
  kubectl apply -k "$K8S_OVERLAY_DIR" || die "kubectl apply -k failed"
  if ! kubectl rollout status "deployment/$K8S_DEPLOYMENT" --namespace "$K8S_NAMESPACE" --timeout="$ROLLOUT_TIMEOUT"; then
    warn "rollout of $IMAGE_REF did not complete within $ROLLOUT_TIMEOUT; rolling back"
    if kubectl rollout undo "deployment/$K8S_DEPLOYMENT" --namespace "$K8S_NAMESPACE"; then
      die "EKS rollout failed and was rolled back to the previous revision (kubectl -n $K8S_NAMESPACE describe deployment $K8S_DEPLOYMENT); ECS left unchanged"
    fi
    die "EKS rollout failed and kubectl rollout undo failed too (first deploy?); ECS left unchanged"
  fi
}

rollout_ecs() {
  local arn desired min args=()
  arn="$(aws ecs register-task-definition --region "$REGION" \
    --cli-input-json "file://$WORK_DIR/task-definition.json" \
    --query taskDefinition.taskDefinitionArn --output text)" || die "aws ecs register-task-definition failed"
  note "registered $arn"
  # Terraform creates the service with no tasks (no image existed yet); the first deploy
  # raises it to the autoscaler's minimum. Later deploys leave the count to the autoscaler.
  desired="$(aws ecs describe-services --region "$REGION" --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
    --query 'services[0].desiredCount' --output text)"
  min="$(tf_output ecs_min_capacity)"
  if [[ -n "$min" && "$desired" =~ ^[0-9]+$ ]] && ((desired < min)); then
    args=(--desired-count "$min")
    note "raising the desired count from $desired to $min"
  fi
  aws ecs update-service --region "$REGION" --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" \
    --task-definition "$arn" "${args[@]}" >/dev/null || die "aws ecs update-service failed"
  note "waiting for $ECS_CLUSTER/$ECS_SERVICE to become stable"
  aws ecs wait services-stable --region "$REGION" --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" ||
    die "ECS service $ECS_SERVICE did not become stable; its deployment circuit breaker rolls back to the last working revision (aws ecs describe-services --cluster $ECS_CLUSTER --services $ECS_SERVICE)"
}

# ---------------------------------------------------------------- main

main() {
  step "Checking tools and Terraform outputs"
  if [[ -n "$TF_OUTPUTS_JSON" ]]; then check_tools jq git; else check_tools jq git terraform; fi
  load_outputs
  REGION="$(require_output aws_region)"
  ECR_URL="$(require_output ecr_repository_url)"
  IMAGE_ARCH="$(require_output image_architecture)"
  DEPLOY_EKS="$(require_output deploy_eks)"
  DEPLOY_ECS="$(require_output deploy_ecs)"
  local tools=(aws docker)
  [[ "$DEPLOY_EKS" == true ]] && tools+=(kubectl)
  check_tools "${tools[@]}"
  if [[ "$DEPLOY_EKS" == true ]]; then
    EKS_CLUSTER="$(require_output eks_cluster_name)"
    EKS_NODE_PORT="$(require_output eks_node_port)"
  fi
  if [[ "$DEPLOY_ECS" == true ]]; then
    ECS_CLUSTER="$(require_output ecs_cluster_name)"
    ECS_SERVICE="$(require_output ecs_service_name)"
    ECS_CONTAINER="$(require_output ecs_container_name)"
    ECS_TASK_DEFINITION_JSON="$(require_output ecs_task_definition_json)"
  fi
  [[ "$DEPLOY_EKS" == true || "$DEPLOY_ECS" == true ]] ||
    die "deploy_eks and deploy_ecs are both false: nothing runs the image (set one in Terraform and run make tf_deploy)"

  choose_tag
  IMAGE_REF="$ECR_URL:$DEPLOY_TAG"
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hello-deploy.XXXXXX")"
  note "image $IMAGE_REF; region $REGION; EKS $DEPLOY_EKS; ECS $DEPLOY_ECS"

  step "Checking credentials and access"
  check_aws_credentials
  check_docker_engine
  if [[ "$DEPLOY_EKS" == true ]]; then
    check_kubernetes_access
    prepare_k8s_overlay
    note "Kubernetes API of $EKS_CLUSTER answers; manifests render"
  fi
  if [[ "$DEPLOY_ECS" == true ]]; then
    check_ecs_service
    prepare_task_definition
    note "ECS service $ECS_CLUSTER/$ECS_SERVICE is active"
  fi

  step "Logging in to the registry"
  registry_login

  step "Building and pushing $IMAGE_REF"
  build_and_push

  if [[ "$DEPLOY_EKS" == true ]]; then
    step "Rolling out to EKS ($EKS_CLUSTER, namespace $K8S_NAMESPACE)"
    rollout_eks
  fi
  if [[ "$DEPLOY_ECS" == true ]]; then
    step "Rolling out to ECS ($ECS_CLUSTER/$ECS_SERVICE)"
    rollout_ecs
  fi

  step "Deployed $IMAGE_REF"
  local url
  url="$(tf_output alb_url)"
  printf 'URL: %s\n' "${url:-(no load balancer in the stack)}"
}

main "$@"
