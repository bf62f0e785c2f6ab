#!/usr/bin/env bash
# Re-records tests/deploy/terraform-outputs.json: `terraform output -json` after a real
# `terraform apply` of tf/ (default variables) against the local AWS emulator of the
# Terraform tests (tests/tf/aws_emulator.py, moto underneath) on 127.0.0.1. Run it when
# tf/outputs.tf or ecs-taskdef/ changes; test-deploy fails when the outputs it needs are
# missing from the recording or no longer declared in tf/outputs.tf.
#
# The emulator may lack a call that a resource needs (the apply then fails for that
# resource); the recording is still written when every output the deploy reads has a
# value, and the failure is reported.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly FIXTURE="$REPO_ROOT/tests/deploy/terraform-outputs.json"
readonly REQUIRED='["aws_region","ecr_repository_url","deploy_eks","deploy_ecs","eks_cluster_name",
  "eks_update_kubeconfig_command","eks_node_port","ecs_cluster_name","ecs_service_name",
  "ecs_task_definition_family","ecs_task_definition_json","ecs_container_name","alb_url","image_architecture"]'

WORK=""
EMULATOR_PID=""

cleanup() {
  if [[ -n "$EMULATOR_PID" ]]; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
  fi
  if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

main() {
  local tool
  for tool in terraform python3 jq; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "record-outputs: $tool not found" >&2
      exit 1
    }
  done
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/record-outputs.XXXXXX")"
  cp -r "$REPO_ROOT/tf" "$REPO_ROOT/ecs-taskdef" "$REPO_ROOT/k8s" "$WORK/"
  rm -rf "$WORK/tf/.terraform" "$WORK"/tf/terraform.tfstate*
  printf 'provider_installation {\n  filesystem_mirror { path = "%s" }\n}\n' "${TF_PLUGIN_MIRROR:-/opt/tf-plugins}" >"$WORK/terraformrc"

  python3 "$REPO_ROOT/tests/tf/aws_emulator.py" --port-file "$WORK/port" >"$WORK/emulator.log" 2>&1 &
  EMULATOR_PID=$!
  local waited=0
  until [[ -s "$WORK/port" ]]; do
    ((waited++ < 100)) || {
      echo "record-outputs: the emulator did not start" >&2
      exit 1
    }
    sleep 0.2
  done

  AWS_ENDPOINT_URL="http://127.0.0.1:$(<"$WORK/port")"
  export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing \
    AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1 AWS_MAX_ATTEMPTS=2 AWS_EC2_METADATA_DISABLED=true \
    TF_CLI_CONFIG_FILE="$WORK/terraformrc" TF_IN_AUTOMATION=1
  terraform -chdir="$WORK/tf" init -input=false -no-color >"$WORK/init.log" 2>&1 ||
    {
      tail -n 20 "$WORK/init.log" >&2
      exit 1
    }
  if ! terraform -chdir="$WORK/tf" apply -auto-approve -input=false -no-color >"$WORK/apply.log" 2>&1; then
    echo "record-outputs: the apply failed in the emulator for:" >&2
    grep '^Error: ' "$WORK/apply.log" >&2 || tail -n 20 "$WORK/apply.log" >&2
  fi
  terraform -chdir="$WORK/tf" output -json | jq -S . >"$WORK/outputs.json"
  local missing
  missing="$(jq -r --argjson required "$REQUIRED" '[$required[] as $k | select(.[$k].value == null) | $k] | join(" ")' "$WORK/outputs.json")"
  [[ -z "$missing" ]] || {
    echo "record-outputs: outputs without a value: $missing" >&2
    exit 1
  }
  cp "$WORK/outputs.json" "$FIXTURE"
  echo "record-outputs: wrote ${FIXTURE#"$REPO_ROOT"/} ($(wc -c <"$FIXTURE") bytes)"
}

main "$@"
