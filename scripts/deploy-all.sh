#!/usr/bin/env bash
# make deploy_all: the infrastructure and the app, in the order AWS needs.
#
#   1. terraform init when tf/ has not been initialised
#   2. registry first: a stack without a registry gets one (apply -target=module.registry)
#   3. push: the commit's image for linux/amd64 and linux/arm64 (scripts/deploy.sh,
#      DEPLOY_PHASE=push), before any ECS service exists that could start tasks on it
#   4. plan with image_tag=<that commit>: a new ECS service starts on the pushed image.
#      A side the stack did not run before gets no traffic in this apply when the other
#      side already serves (ecs_traffic_percent 0 or 100): an empty target group answers
#      503, and unhealthy targets get traffic anyway ("If a target group contains only
#      unhealthy registered targets, the load balancer routes requests to all those
#      targets, regardless of their health status", ALB User Guide, "Health checks for
#      Application Load Balancer target groups"), so its users would see errors until it is up
#   5. apply that plan, then scripts/deploy.sh rolls the commit out on every side
#   6. a held side gets its share only now, with the rollout healthy: one more apply
#      without the hold gives the split that was asked for
#
# Knobs: those of make tf_plan / tf_deploy (TF_DIR, AWS_REGION, TF_VARS,
# TF_BACKEND_CONFIG) and of scripts/deploy.sh.
set -euo pipefail

readonly SCRIPT_NAME=deploy_all
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly TF_VARS="${TF_VARS:-}"
readonly AWS_REGION_ARG="${AWS_REGION:-}"

make_tf() {
  make --no-print-directory -C "$REPO_ROOT" TF_DIR="$TF_DIR" TF_PLAN_FILE="$TF_DIR/tfplan" "$@"
}

region_args() {
  if [[ -n "$AWS_REGION_ARG" ]]; then printf '%s\n' -var "aws_region=$AWS_REGION_ARG"; fi
}

main() {
  check_tools terraform jq
  [[ -d "$TF_DIR/.terraform" ]] || make_tf tf_init

  local before tag hold=() region=()
  before="$(terraform -chdir="$TF_DIR" output -json 2>/dev/null || true)"
  [[ -n "$before" ]] || before='{}'
  mapfile -t region < <(region_args)

  if [[ -z "$(tf_output ecr_repository_url "$before")" ]]; then
    step "Creating the registry first (no image can be pushed before it exists)"
    # shellcheck disable=SC2086 # TF_VARS holds several -var arguments
    terraform -chdir="$TF_DIR" apply -input=false -auto-approve \
      -target=module.registry -target=data.aws_region.current "${region[@]}" $TF_VARS
  fi

  step "Pushing the commit's image before any service can start it"
  local pushed
  pushed="$(DEPLOY_PHASE=push "$REPO_ROOT/scripts/deploy.sh" | tee /dev/stderr | tail -n 1)"
  [[ "$pushed" == *:* && "$pushed" != *@* ]] || die "scripts/deploy.sh did not print the pushed reference (got: $pushed)"
  tag="${pushed##*:}"

  step "Planning with image_tag=$tag"
  make_tf tf_plan TF_VARS="$TF_VARS -var image_tag=$tag"
  local planned was_eks was_ecs now_eks now_ecs
  planned="$(terraform -chdir="$TF_DIR" show -json "$TF_DIR/tfplan" | jq '.planned_values.outputs // {} | map_values({value})')"
  was_eks="$(tf_output deploy_eks "$before")" was_ecs="$(tf_output deploy_ecs "$before")"
  now_eks="$(tf_output deploy_eks "$planned")" now_ecs="$(tf_output deploy_ecs "$planned")"
  if [[ "$now_ecs" == true && "$was_ecs" != true && "$was_eks" == true && "$now_eks" == true ]]; then
    hold=(-var ecs_traffic_percent=0)
    note "ECS is new and EKS serves: ECS gets 0 % until its rollout is healthy"
  elif [[ "$now_eks" == true && "$was_eks" != true && "$was_ecs" == true && "$now_ecs" == true ]]; then
    hold=(-var ecs_traffic_percent=100)
    note "EKS is new and ECS serves: EKS gets 0 % until its rollout is healthy"
  fi
  if ((${#hold[@]})); then
    make_tf tf_plan TF_VARS="$TF_VARS -var image_tag=$tag ${hold[*]}"
  fi

  step "Applying the plan"
  make_tf tf_deploy

  step "Rolling out $pushed"
  "$REPO_ROOT/scripts/deploy.sh"

  if ((${#hold[@]})); then
    step "The new side is healthy: applying the split that was asked for"
    make_tf tf_plan TF_VARS="$TF_VARS -var image_tag=$tag"
    make_tf tf_deploy
  fi
  step "deploy_all done: $pushed on every side the stack runs"
}

main "$@"
