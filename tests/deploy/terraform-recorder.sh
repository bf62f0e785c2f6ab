#!/usr/bin/env bash
# Stand-in for terraform in the deploy_all test, installed as `terraform` first on PATH:
# it plays the Terraform stack for scripts/deploy-all.sh, whose decisions (registry first,
# push before the service, which side to hold, when) are what the test checks. The real
# configuration is applied against the emulator by make test-tf.
#
# State lives in TF_FAKE_DIR: outputs.json is what `terraform output -json` prints,
# config.json the configuration's sides ({"deploy_eks": bool, "deploy_ecs": bool}), and
# full-outputs.json every output of a stack with both sides on. Every call is appended
# to TF_FAKE_DIR/calls.log. An apply that creates the ECS side creates it in the emulator
# as Terraform would (task definition on image_tag, service with no tasks, scalable
# target), through the aws CLI of the test.
set -euo pipefail

: "${TF_FAKE_DIR:?}"
log() { printf '%s\n' "$*" >>"$TF_FAKE_DIR/calls.log"; }

args=("$@")
[[ "${args[0]:-}" == -chdir=* ]] && args=("${args[@]:1}")
command="${args[0]:-}"
log "$command ${args[*]:1}"

# -var name=value arguments of the call as a JSON object.
vars_json() {
  local out='{}' a next=0
  for a in "$@"; do
    if ((next)); then
      out="$(jq --arg kv "$a" '. + {($kv | split("=")[0]): ($kv | split("=")[1:] | join("="))}' <<<"$out")"
      next=0
    elif [[ "$a" == -var ]]; then
      next=1
    fi
  done
  printf '%s\n' "$out"
}

# The outputs of the configuration with the given variables applied.
outputs_for() {
  local vars="$1"
  jq --argjson config "$(<"$TF_FAKE_DIR/config.json")" --argjson vars "$vars" '
    ($config.deploy_eks) as $eks | ($config.deploy_ecs) as $ecs
    | (if $vars.ecs_traffic_percent then ($vars.ecs_traffic_percent | tonumber)
       elif $eks and $ecs then 50 elif $ecs then 100 else 0 end) as $pct
    | with_entries(select(
        ($eks or (.key | startswith("eks_") | not)) and ($ecs or (.key | startswith("ecs_") | not))))
    | .deploy_eks.value = $eks | .deploy_ecs.value = $ecs
    | .ecs_traffic_percent = {"sensitive": false, "type": "number", "value": $pct}' \
    "$TF_FAKE_DIR/full-outputs.json"
}

create_ecs_side() {
  local tag="$1" image
  image="$(jq -r .ecr_repository_url.value "$TF_FAKE_DIR/full-outputs.json"):$tag"
  "$TF_FAKE_CREATE_ECS" "$(jq -r .ecs_service_name.value "$TF_FAKE_DIR/full-outputs.json")" "$image"
}

case "$command" in
  init | version | fmt | validate) ;;
  output)
    cat "$TF_FAKE_DIR/outputs.json" 2>/dev/null || echo '{}'
    ;;
  plan)
    out=""
    for a in "${args[@]}"; do [[ "$a" == -out=* ]] && out="${a#-out=}"; done
    [[ -n "$out" ]] || {
      echo "terraform stand-in: plan without -out" >&2
      exit 1
    }
    vars_json "${args[@]}" >"$out"
    ;;
  show)
    jq -n --argjson outputs "$(outputs_for "$(<"${args[-1]}")")" '{planned_values: {outputs: ($outputs | map_values({value: .value}))}}'
    ;;
  apply)
    if printf '%s\n' "${args[@]}" | grep -qx -- '-target=module.registry'; then
      jq '{aws_region, ecr_repository_url, image_architecture}' "$TF_FAKE_DIR/full-outputs.json" >"$TF_FAKE_DIR/outputs.json"
    else
      vars="$(<"${args[-1]}")"
      had_ecs="$(jq -r '.deploy_ecs.value // false' "$TF_FAKE_DIR/outputs.json" 2>/dev/null || echo false)"
      if [[ "$(jq -r .deploy_ecs "$TF_FAKE_DIR/config.json")" == true && "$had_ecs" != true ]]; then
        tag="$(jq -r '.image_tag // empty' <<<"$vars")"
        [[ -n "$tag" ]] || {
          echo "Error: The ECS service does not exist yet and no pushed image was named" >&2
          exit 1
        }
        create_ecs_side "$tag"
      fi
      outputs_for "$vars" >"$TF_FAKE_DIR/outputs.json"
      log "applied: ecs_traffic_percent=$(jq -r .ecs_traffic_percent.value "$TF_FAKE_DIR/outputs.json")"
    fi
    ;;
  *)
    echo "terraform stand-in: unexpected call: terraform $*" >&2
    exit 1
    ;;
esac
