#!/usr/bin/env bash
# Ship the checked-out commit to whichever sides the Terraform stack runs (make deploy).
#
# Everything comes from the stack's outputs (`terraform -chdir=$TF_DIR output -json`, or a
# saved copy in TF_OUTPUTS_JSON): no account, region or name is written down here.
#
#   1. checks, before anything changes: tools, outputs, a clean git tree, AWS credentials,
#      the Docker engine, access to the Kubernetes API, the ECS service, the manifests
#   2. ECR login; the image for linux/amd64 and linux/arm64 under the commit tag: an
#      existing tag is reused only when its manifest list holds both platforms, a new one
#      is built for both and pushed as one manifest list; a single-architecture image is
#      never pushed under the tag (ECR tags are immutable: it would stay wrong forever)
#   3. EKS: the AWS Load Balancer Controller at its pinned version
#      (scripts/install-lb-controller.sh), kubectl apply -k (the eks overlay with the image
#      set, bound to the stack's target group), rollout status, and rollout undo plus a
#      non-zero exit when the rollout fails
#   4. ECS: register a task definition revision (Terraform's rendering with the new image),
#      update-service, then follow that deployment until ECS reports it COMPLETED; a FAILED
#      or rolled-back deployment fails the deploy, names the revision ECS runs now, and
#      rolls EKS back to its previous revision so both sides serve the same version
#   5. print the URL
#
# Knobs (environment): TF_DIR, TF_OUTPUTS_JSON, EKS_UPDATE_KUBECONFIG=0 and K8S_OVERLAY
# (scripts/lib/common.sh), and
#   IMAGE                  local image name that `make image` builds (default hello-cluster)
#   ALLOW_DIRTY=1          deploy a tree with uncommitted changes (tag <commit>-dirty-<time>)
#   IMAGE_DIGEST=sha256:…  deploy <ecr_repository_url>@<digest>, an image the pipeline built,
#                          scanned and pushed; nothing is built (its platforms are checked)
#   DEPLOY_PHASE=push      build and push only, print the reference on the last line
#                          (make deploy_all pushes before Terraform creates an ECS service)
#   BUILDX=auto|1|0        auto: buildx with a docker-container builder when buildx exists;
#                          0: per-platform builds and `docker manifest` (scripts/build-multiarch.sh)
#   ROLLOUT_TIMEOUT        kubectl rollout status timeout (default 300s)
#   ECS_ROLLOUT_TIMEOUT    seconds to wait for the ECS deployment (default 1800)
#   ECS_POLL_SECONDS       seconds between ECS deployment checks (default 15)
set -euo pipefail

readonly SCRIPT_NAME=deploy
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly IMAGE="${IMAGE:-hello-cluster}"
readonly ALLOW_DIRTY="${ALLOW_DIRTY:-0}"
readonly BUILDX="${BUILDX:-auto}"
readonly ROLLOUT_TIMEOUT="${ROLLOUT_TIMEOUT:-300s}"
readonly IMAGE_DIGEST="${IMAGE_DIGEST:-}"
readonly DEPLOY_PHASE="${DEPLOY_PHASE:-all}"
readonly ECS_ROLLOUT_TIMEOUT="${ECS_ROLLOUT_TIMEOUT:-1800}"
readonly ECS_POLL_SECONDS="${ECS_POLL_SECONDS:-15}"
# One image for every place it runs: Graviton nodes and Fargate ARM64 in the cloud,
# amd64 laptops and runners. Both platforms always, whatever the stack runs today.
readonly PLATFORMS="linux/amd64,linux/arm64"
# Names inside the manifests (k8s/base), not cloud names.
readonly K8S_NAMESPACE=hello
readonly K8S_DEPLOYMENT=hello

WORK_DIR=""
REF_PLATFORMS=""
REGISTRY_PASSWORD=""
EKS_ROLLED_OUT=0

cleanup() {
  if [[ -n "$WORK_DIR" ]]; then rm -rf "$WORK_DIR"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- checks

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

# Proves that the API answers and lets us manage Deployments, before anything changes.
# Unless EKS_UPDATE_KUBECONFIG=0, the cluster's entry goes into a kubeconfig private to
# this run (use_private_kubeconfig).
check_kubernetes_access() {
  if [[ "$EKS_UPDATE_KUBECONFIG" == 1 ]]; then use_private_kubeconfig "$WORK_DIR" "$EKS_CLUSTER" "$REGION"; fi
  local answer
  if ! answer="$(kubectl auth can-i create deployments.apps --namespace "$K8S_NAMESPACE" --request-timeout=15s 2>&1)"; then
    if [[ "$answer" == no* ]]; then
      die "kubectl may not create Deployments in namespace $K8S_NAMESPACE: give this identity an EKS access entry (Terraform: eks_admin_principal_arns, or eks_grant_caller_admin=true)"
    fi
    die "kubectl cannot reach the Kubernetes API of $EKS_CLUSTER ($(tail -n 1 <<<"$answer"))"
  fi
}

# Writes a throw-away overlay on top of K8S_OVERLAY that sets the image and binds the pods
# to the load balancer's target group (the stack's outputs; no text substitution), and
# renders it once so a broken manifest stops the deploy before anything changes.
prepare_k8s_overlay() {
  local overlay="$WORK_DIR/k8s-overlay"
  mkdir -p "$overlay"
  TRUSTED_PROXY_CIDRS="$VPC_CIDR" "$REPO_ROOT/scripts/deploy-k8s-overlay.sh" "$overlay" "$IMAGE_REF" \
    "$EKS_TARGET_GROUP_ARN" "$ALB_SECURITY_GROUP_ID" "$K8S_OVERLAY"
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
  local want
  want="$(jq -r '.runtimePlatform.cpuArchitecture // "X86_64"' <<<"$ECS_TASK_DEFINITION_JSON")"
  [[ "$want" == "$([[ "$IMAGE_ARCH" == arm64 ]] && echo ARM64 || echo X86_64)" ]] ||
    die "the task definition's runtimePlatform is $want but the stack's image_architecture is $IMAGE_ARCH: run make tf_deploy"
  jq --arg name "$ECS_CONTAINER" --arg image "$IMAGE_REF" \
    '.containerDefinitions |= map(if .name == $name then .image = $image else . end)' \
    <<<"$ECS_TASK_DEFINITION_JSON" >"$WORK_DIR/task-definition.json"
}

# ---------------------------------------------------------------- changes

# Logs docker in to the registry and keeps the password for scripts/image-platforms.py,
# which sends it as AWS:<password>: the token holds "the username AWS and an encoded
# password", and "is valid for 12 hours", longer than any deploy (ECR User Guide, "Private
# registry authentication in Amazon ECR",
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html).
registry_login() {
  local host="${ECR_URL%%/*}" out
  REGISTRY_PASSWORD="$(aws ecr get-login-password --region "$REGION")" ||
    die "aws ecr get-login-password failed"
  # docker login warns on stderr about storing the token unencrypted; show it only on failure.
  if ! out="$(docker login --username AWS --password-stdin "$host" 2>&1 <<<"$REGISTRY_PASSWORD")"; then
    die "docker login to $host failed: $(tail -n 1 <<<"$out")"
  fi
  note "logged in to $host"
}

# Prints the platforms (os/arch, one a line, variants such as arm64/v8 folded) of reference
# $1 in the registry (scripts/image-platforms.py); fails when the registry has no such image.
registry_platforms() {
  local listing
  listing="$(REGISTRY_BASIC_AUTH="AWS:$REGISTRY_PASSWORD" "$REPO_ROOT/scripts/image-platforms.py" "$1" 2>/dev/null)" ||
    return 1
  cut -d/ -f1,2 <<<"$listing" | sort -u
}

# Dies unless reference $1 lists every platform in PLATFORMS. $2 says where it came from;
# $3, when given, is what registry_platforms already printed for it (no second request).
# Sets REF_PLATFORMS to the platforms found, space-separated.
require_platforms() {
  local ref="$1" origin="$2" have="${3:-}" missing=() platform
  if [[ -z "$have" ]]; then have="$(registry_platforms "$ref")" || die "$ref is not in the registry"; fi
  REF_PLATFORMS="$(paste -sd' ' <<<"$have")"
  for platform in ${PLATFORMS//,/ }; do
    grep -qxF "$platform" <<<"$have" || missing+=("$platform")
  done
  ((${#missing[@]} == 0)) && return 0
  die "$origin $ref holds $(paste -sd, <<<"$have") but not ${missing[*]}: nodes and tasks of that architecture would fail with \"exec format error\" or CannotPullContainerError. Registry tags are immutable, so this tag cannot be repaired: deploy another commit (or delete the tag in ECR first)."
}

# Sets IMAGE_REF to what the sides will run: the pipeline's digest, the commit's existing
# tag when it is complete, or a fresh multi-platform build of the commit.
build_and_push() {
  if [[ -n "$IMAGE_DIGEST" ]]; then
    require_platforms "$IMAGE_REF" "IMAGE_DIGEST"
    note "$IMAGE_REF: $REF_PLATFORMS; nothing to build"
    return 0
  fi
  local existing
  if existing="$(registry_platforms "$IMAGE_REF")"; then
    require_platforms "$IMAGE_REF" "the existing tag" "$existing"
    note "$IMAGE_REF is already in the registry for $PLATFORMS (tags are immutable); not rebuilding"
    return 0
  fi
  # scripts/build-multiarch.sh: buildx on a docker-container builder where buildx exists
  # (the default docker driver refuses multi-platform builds), else one `make image
  # PLATFORM=…` per platform (reusing the images of this commit the container suite tested)
  # and `docker manifest`; it checks the pushed list entry by entry against what it built.
  local status=0
  env IMAGE="$IMAGE" TAG="$DEPLOY_TAG" BUILDX="$BUILDX" "$REPO_ROOT/scripts/build-multiarch.sh" "$IMAGE_REF" "$PLATFORMS" \
    >"$WORK_DIR/pushed" || status=$?
  case "$status" in
    0) ;;
    3) die "cannot build $PLATFORMS here (scripts/build-multiarch.sh: a prerequisite is missing, above; make deps registers emulation)" ;;
    4) die "the registry's manifest list under $IMAGE_REF is not what was built (scripts/build-multiarch.sh, above)" ;;
    *) die "building or pushing $IMAGE_REF failed (scripts/build-multiarch.sh exit $status, above)" ;;
  esac
  require_platforms "$IMAGE_REF" "the pushed tag"
  note "pushed $IMAGE_REF: $REF_PLATFORMS"
}

# The controller fills the target group with the pods' IPs and admits the binding, so it
# comes first. A binding whose target group was replaced (new ARN) is deleted before the
# apply: the controller's webhook refuses to change spec.targetGroupARN in place.
rollout_eks() {
  KUBECONFIG="${KUBECONFIG:-$HOME/.kube/config}" EKS_CLUSTER_NAME="$EKS_CLUSTER" AWS_REGION="$REGION" VPC_ID="$VPC_ID" \
    LB_CONTROLLER_SERVICE_ACCOUNT="$LB_CONTROLLER_SERVICE_ACCOUNT" "$REPO_ROOT/scripts/install-lb-controller.sh" ||
    die "installing the AWS Load Balancer Controller failed; nothing of the app was changed"
  local bound
  bound="$(kubectl get targetgroupbinding "$K8S_DEPLOYMENT" --namespace "$K8S_NAMESPACE" --ignore-not-found \
    -o jsonpath='{.spec.targetGroupARN}')" || die "kubectl get targetgroupbinding failed"
  if [[ -n "$bound" && "$bound" != "$EKS_TARGET_GROUP_ARN" ]]; then
    note "the target group was replaced: deleting the binding to ${bound##*/} first"
    kubectl delete targetgroupbinding "$K8S_DEPLOYMENT" --namespace "$K8S_NAMESPACE" --wait >/dev/null ||
      die "kubectl delete targetgroupbinding $K8S_DEPLOYMENT failed"
  fi
  kubectl apply -k "$K8S_OVERLAY_DIR" || die "kubectl apply -k failed"
  if ! kubectl rollout status "deployment/$K8S_DEPLOYMENT" --namespace "$K8S_NAMESPACE" --timeout="$ROLLOUT_TIMEOUT"; then
    warn "rollout of $IMAGE_REF did not complete within $ROLLOUT_TIMEOUT; rolling back"
    if kubectl rollout undo "deployment/$K8S_DEPLOYMENT" --namespace "$K8S_NAMESPACE"; then
      die "EKS rollout failed and was rolled back to the previous revision (kubectl -n $K8S_NAMESPACE describe deployment $K8S_DEPLOYMENT); ECS left unchanged"
    fi
    die "EKS rollout failed and kubectl rollout undo failed too (first deploy?); ECS left unchanged"
  fi
  EKS_ROLLED_OUT=1
}

rollout_ecs() {
  local arn
  arn="$(aws ecs register-task-definition --region "$REGION" \
    --cli-input-json "file://$WORK_DIR/task-definition.json" \
    --query taskDefinition.taskDefinitionArn --output text)" || die "aws ecs register-task-definition failed"
  note "registered $arn"
  # The count is the autoscaler's: Terraform created the service on a pushed image and
  # its scalable target holds the count inside [min, max].
  aws ecs update-service --region "$REGION" --cluster "$ECS_CLUSTER" --service "$ECS_SERVICE" \
    --task-definition "$arn" >/dev/null || ecs_failed "aws ecs update-service failed"
  wait_for_ecs_deployment "$arn"
}

# Follows the deployment of task definition $1 until ECS reports it. `aws ecs wait
# services-stable` cannot be used: it waits for "length(deployments) == 1 && runningCount
# == desiredCount" (AWS CLI reference), which also holds after the circuit breaker rolled
# the service back to the old revision, and it gives up after 40 checks 15 s apart. ECS
# itself says how a deployment ended: "When the service reaches a steady state, the
# deployment transitions to a COMPLETED state. If the service fails to reach a steady
# state and circuit breaker is turned on, the deployment transitions to a FAILED state"
# (Deployment.rolloutState, ECS API reference).
wait_for_ecs_deployment() {
  local arn="$1" deadline=$((SECONDS + ECS_ROLLOUT_TIMEOUT)) service verdict last=""
  note "following the ECS deployment of ${arn##*/} (up to ${ECS_ROLLOUT_TIMEOUT}s)"
  while :; do
    service="$(aws ecs describe-services --region "$REGION" --cluster "$ECS_CLUSTER" --services "$ECS_SERVICE" \
      --query 'services[0]' --output json 2>&1)" || ecs_failed "aws ecs describe-services failed ($(tail -n 1 <<<"$service"))"
    verdict="$(jq -r --arg arn "$arn" '
      ([.deployments[] | select(.taskDefinition == $arn)] | first) as $ours
      | if $ours == null then "gone"
        elif $ours.rolloutState == "FAILED" then "failed"
        elif $ours.status != "PRIMARY" then "gone"
        elif $ours.rolloutState == "COMPLETED" and (.deployments | length) == 1
             and $ours.runningCount == $ours.desiredCount then "done"
        else "waiting \($ours.rolloutState // "?"): \($ours.runningCount) of \($ours.desiredCount) running, \($ours.failedTasks // 0) failed"
        end' <<<"$service")"
    case "$verdict" in
      done)
        note "ECS deployment COMPLETED: $(jq -r '.runningCount' <<<"$service") tasks of ${arn##*/} running"
        return 0
        ;;
      failed | gone)
        ecs_failed "ECS deployment of ${arn##*/} $(jq -r --arg arn "$arn" \
          '([.deployments[] | select(.taskDefinition == $arn)] | first) as $d
           | if $d == null then "was replaced" else "ended \($d.rolloutState): \($d.rolloutStateReason)" end' <<<"$service")." \
          "ECS now runs $(jq -r '[.deployments[] | select(.status == "PRIMARY")][0] | "\(.taskDefinition | split("/") | last) (\(.rolloutState))"' <<<"$service")$(
            [[ "$(jq -r '[.deployments[] | select(.status == "PRIMARY")][0].rolloutStateReason // ""' <<<"$service")" == *"rolling back"* ]] &&
              printf '%s' ': the circuit breaker rolled the service back'
          )." \
          "$(jq -r '"Latest ECS events:", (.events[:4][] | "      \(.message)")' <<<"$service")"
        ;;
    esac
    [[ "$verdict" != "$last" ]] && note "ECS: $verdict"
    last="$verdict"
    ((SECONDS < deadline)) ||
      ecs_failed "the ECS deployment of ${arn##*/} did not finish within ${ECS_ROLLOUT_TIMEOUT}s (${verdict#waiting }); ECS keeps trying (aws ecs describe-services --cluster $ECS_CLUSTER --services $ECS_SERVICE)"
    sleep "$ECS_POLL_SECONDS"
  done
}

# The ECS side failed after EKS took the new image: put EKS back on its previous revision
# so both sides serve one version, or say plainly that they differ. Then exit 1.
ecs_failed() {
  local line
  for line in "$@"; do printf 'deploy: error: %s\n' "$line" >&2; done
  if [[ "$EKS_ROLLED_OUT" == 1 ]]; then
    warn "rolling EKS back to its previous revision, so both sides serve the same version"
    if kubectl rollout undo "deployment/$K8S_DEPLOYMENT" --namespace "$K8S_NAMESPACE" >&2 &&
      kubectl rollout status "deployment/$K8S_DEPLOYMENT" --namespace "$K8S_NAMESPACE" --timeout="$ROLLOUT_TIMEOUT" >&2; then
      printf 'deploy: error: EKS was rolled back too: neither side runs %s\n' "$IMAGE_REF" >&2
    else
      printf 'deploy: error: the sides differ: EKS runs %s, ECS does not (kubectl rollout undo failed)\n' "$IMAGE_REF" >&2
    fi
  fi
  exit 1
}

# ---------------------------------------------------------------- main

main() {
  step "Checking tools and Terraform outputs"
  if [[ -n "$TF_OUTPUTS_JSON" ]]; then check_tools jq git python3; else check_tools jq git python3 terraform; fi
  load_outputs
  REGION="$(require_output aws_region)"
  ECR_URL="$(require_output ecr_repository_url)"
  IMAGE_ARCH="$(require_output image_architecture)"
  DEPLOY_EKS="$(tf_output deploy_eks)"
  DEPLOY_ECS="$(tf_output deploy_ecs)"
  case "$DEPLOY_PHASE" in all | push) ;; *) die "DEPLOY_PHASE=$DEPLOY_PHASE: use all or push" ;; esac
  [[ ",$PLATFORMS," == *",linux/$IMAGE_ARCH,"* ]] ||
    die "the stack runs $IMAGE_ARCH, which is not among the platforms built ($PLATFORMS)"
  local tools=(aws docker)
  [[ "$DEPLOY_PHASE" == all && "$DEPLOY_EKS" == true ]] && tools+=(kubectl helm)
  check_tools "${tools[@]}"
  if [[ "$DEPLOY_PHASE" == all ]]; then
    if [[ "$DEPLOY_EKS" == true ]]; then
      EKS_CLUSTER="$(require_output eks_cluster_name)"
      EKS_TARGET_GROUP_ARN="$(require_output eks_target_group_arn)"
      ALB_SECURITY_GROUP_ID="$(require_output alb_security_group_id)"
      VPC_ID="$(require_output vpc_id)"
      VPC_CIDR="$(require_output vpc_cidr)"
      LB_CONTROLLER_SERVICE_ACCOUNT="$(require_output eks_lb_controller_service_account)"
    fi
    if [[ "$DEPLOY_ECS" == true ]]; then
      ECS_CLUSTER="$(require_output ecs_cluster_name)"
      ECS_SERVICE="$(require_output ecs_service_name)"
      ECS_CONTAINER="$(require_output ecs_container_name)"
      ECS_TASK_DEFINITION_JSON="$(require_output ecs_task_definition_json)"
    fi
    [[ "$DEPLOY_EKS" == true || "$DEPLOY_ECS" == true ]] ||
      die "deploy_eks and deploy_ecs are both false: nothing runs the image (set one in Terraform and run make tf_deploy)"
  fi

  if [[ -n "$IMAGE_DIGEST" ]]; then
    [[ "$IMAGE_DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]] || die "IMAGE_DIGEST=$IMAGE_DIGEST is not sha256:<64 lowercase hex digits>"
    DEPLOY_TAG="${IMAGE_DIGEST#sha256:}"
    IMAGE_REF="$ECR_URL@$IMAGE_DIGEST"
  else
    choose_tag
    IMAGE_REF="$ECR_URL:$DEPLOY_TAG"
  fi
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hello-deploy.XXXXXX")"
  note "image $IMAGE_REF; region $REGION${DEPLOY_EKS:+; EKS $DEPLOY_EKS}${DEPLOY_ECS:+; ECS $DEPLOY_ECS}"

  step "Checking credentials and access"
  check_aws_credentials
  check_docker_engine
  if [[ "$DEPLOY_PHASE" == all && "$DEPLOY_EKS" == true ]]; then
    check_kubernetes_access
    prepare_k8s_overlay
    note "Kubernetes API of $EKS_CLUSTER answers; manifests render"
  fi
  if [[ "$DEPLOY_PHASE" == all && "$DEPLOY_ECS" == true ]]; then
    check_ecs_service
    prepare_task_definition
    note "ECS service $ECS_CLUSTER/$ECS_SERVICE is active"
  fi

  step "Logging in to the registry"
  registry_login

  step "Building and pushing $IMAGE_REF"
  build_and_push
  if [[ "$DEPLOY_PHASE" == push ]]; then
    step "Pushed $IMAGE_REF"
    printf '%s\n' "$IMAGE_REF"
    return 0
  fi

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
