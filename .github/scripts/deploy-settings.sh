#!/usr/bin/env bash
# Decide which deploy.yml jobs this repository is configured for, from its Actions variables.
#
#   .github/scripts/deploy-settings.sh
#
# Reads AWS_REGION, AWS_PLAN_ROLE_ARN, AWS_DEPLOY_ROLE_ARN and TF_STATE_BUCKET from the
# environment (the workflow passes the repository variables). Writes plan=true|false and
# deploy=true|false to $GITHUB_OUTPUT (stdout elsewhere) and, for each job it turns off, a
# ::notice:: naming the missing variables. Always exits 0 when it could decide: a repository
# without AWS settings (a fork, a fresh copy) gets skipped jobs and a notice, not a red run.
# Repository variables belong to the repository: a fork has none of its own until someone sets
# them, so a fork's push to main skips the deploy here; and GitHub: "Variables are not passed
# to workflows that are triggered by a pull request from a fork"
# (https://docs.github.com/en/actions/learn-github-actions/variables).
set -euo pipefail

# missing NAME...: prints the names whose value is empty or unset.
missing() {
  local name
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || printf '%s ' "$name"
  done
}

# decide OUTPUT JOB NAME...: one output line and, when something is missing, one notice.
decide() {
  local output="$1" job="$2" absent
  shift 2
  absent="$(missing "$@")"
  if [[ -z "$absent" ]]; then
    printf '%s=true\n' "$output" >>"$out"
    echo "deploy-settings: $job: configured"
  else
    printf '%s=false\n' "$output" >>"$out"
    echo "::notice title=${job} skipped::repository variable(s) ${absent% } not set (Settings -> Secrets and variables -> Actions -> Variables); see the header of .github/workflows/deploy.yml"
  fi
}

main() {
  (($# == 0)) || {
    echo "usage: deploy-settings.sh (reads the repository variables from the environment)" >&2
    return 2
  }
  out="${GITHUB_OUTPUT:-/dev/stdout}"
  decide plan "Terraform plan" AWS_REGION AWS_PLAN_ROLE_ARN TF_STATE_BUCKET
  decide deploy "Deploy to production" AWS_REGION AWS_PLAN_ROLE_ARN AWS_DEPLOY_ROLE_ARN TF_STATE_BUCKET
}

main "$@"
