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
# The outputs the deploy scripts read (test-deploy checks the same list).
readonly REQUIRED_FILE="$REPO_ROOT/tests/deploy/required-outputs.txt"

# What the recording pushes before the apply that creates the ECS service: a commit-like tag
# and a minimal image manifest (ECR PutImage stores it; nothing pulls it here).
readonly IMAGE_TAG="0123456789ab"

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
  for tool in terraform python3 jq aws; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "record-outputs: $tool not found" >&2
      exit 1
    }
  done
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/record-outputs.XXXXXX")"
  cp -r "$REPO_ROOT/tf" "$REPO_ROOT/ecs-taskdef" "$REPO_ROOT/k8s" "$WORK/"
  rm -rf "$WORK/tf/.terraform" "$WORK"/tf/terraform.tfstate*
  printf 'provider_installation {\n  filesystem_mirror { path = "%s" }\n}\n' "${TF_PLUGIN_MIRROR:-/opt/tf-plugins}" >"$WORK/terraformrc"
  # The emulator serves S3 by path on 127.0.0.1, not on bucket host names (the ALB's access
  # log bucket); an override file merges this one argument into tf/'s provider block.
  printf '# Recording only: S3 by path, as the emulator serves it.\nprovider "aws" {\n  s3_use_path_style = true\n}\n' \
    >"$WORK/tf/emulator_override.tf"

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
  # make deploy_all's order: the registry, the image in it, then everything with image_tag (tf/
  # refuses to create the ECS service on an image that is not pushed).
  terraform -chdir="$WORK/tf" apply -auto-approve -input=false -no-color \
    -target=module.registry -target=data.aws_region.current >"$WORK/apply-registry.log" 2>&1 || {
    grep '^Error: ' "$WORK/apply-registry.log" >&2 || tail -n 20 "$WORK/apply-registry.log" >&2
    exit 1
  }
  aws --endpoint-url "$AWS_ENDPOINT_URL" --region "$AWS_REGION" ecr put-image --repository-name hello-cluster \
    --image-tag "$IMAGE_TAG" --image-manifest "file://$REPO_ROOT/tests/lib/minimal-image-manifest.json" \
    >/dev/null || exit 1
  if ! terraform -chdir="$WORK/tf" apply -auto-approve -input=false -no-color -var "image_tag=$IMAGE_TAG" \
    >"$WORK/apply.log" 2>&1; then
    echo "record-outputs: the apply failed in the emulator for:" >&2
    grep '^Error: ' "$WORK/apply.log" >&2 || tail -n 20 "$WORK/apply.log" >&2
  fi
  terraform -chdir="$WORK/tf" output -json | jq -S . >"$WORK/outputs.json"
  local missing
  missing="$(jq -r --rawfile required "$REQUIRED_FILE" \
    '. as $o | [$required | split("\n")[] | select(length > 0) | select($o[.].value == null)] | join(" ")' \
    "$WORK/outputs.json")"
  [[ -z "$missing" ]] || {
    echo "record-outputs: outputs without a value: $missing" >&2
    exit 1
  }
  cp "$WORK/outputs.json" "$FIXTURE"
  echo "record-outputs: wrote ${FIXTURE#"$REPO_ROOT"/} ($(wc -c <"$FIXTURE") bytes)"
}

main "$@"
