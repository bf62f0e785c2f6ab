#!/usr/bin/env bash
# Render a saved Terraform plan as Markdown: appended to the GitHub job summary when the runner
# provides one ($GITHUB_STEP_SUMMARY), printed to stdout otherwise.
#
#   .github/scripts/tf-plan-summary.sh PLAN_FILE [TF_DIR]
#
# TF_DIR (default: the plan file's directory) is the initialised configuration the plan came
# from. TERRAFORM names the binary (default: terraform).
set -euo pipefail

readonly TERRAFORM="${TERRAFORM:-terraform}"
# A job summary holds at most 1 MiB; keep room for the surrounding Markdown.
readonly MAX_PLAN_BYTES=900000

die() {
  printf 'tf-plan-summary: %s\n' "$*" >&2
  exit 1
}

main() {
  local plan="${1:-}" dir text headline out
  [[ -n "$plan" ]] || die "usage: tf-plan-summary.sh PLAN_FILE [TF_DIR]"
  [[ -f "$plan" ]] || die "$plan not found: run make tf_plan first"
  command -v "$TERRAFORM" >/dev/null 2>&1 || die "$TERRAFORM not found: install Terraform (https://developer.hashicorp.com/terraform/install)"
  plan="$(cd "$(dirname "$plan")" && pwd)/$(basename "$plan")"
  dir="${2:-$(dirname "$plan")}"

  text="$("$TERRAFORM" -chdir="$dir" show -no-color "$plan")" || die "terraform show $plan failed"
  headline="$(grep -m1 -E '^(Plan: |No changes\.|You can apply this plan)' <<<"$text" || true)"
  out="${GITHUB_STEP_SUMMARY:-/dev/stdout}"
  {
    printf '## Terraform plan\n\n'
    printf '**%s**\n\n' "${headline:-(no summary line found; see the full plan)}"
    printf '<details><summary>Full plan</summary>\n\n```text\n'
    head -c "$MAX_PLAN_BYTES" <<<"$text"
    if ((${#text} > MAX_PLAN_BYTES)); then
      printf '\n... (truncated: the plan is longer than a job summary can hold)'
    fi
    printf '\n```\n\n</details>\n'
  } >>"$out"
}

main "$@"
