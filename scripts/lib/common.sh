# shellcheck shell=bash
# What the deploy scripts (deploy.sh, destroy.sh, deploy-all.sh) share: their messages, the
# knobs that say where the Terraform stack is, and reading its outputs. Source it after
# setting SCRIPT_NAME (the prefix of every error); set -euo pipefail is the caller's.
#
# Knobs (environment):
#   TF_DIR            Terraform root (default: tf/ of this checkout)
#   TF_OUTPUTS_JSON   read the outputs from this file instead of running terraform
#   EKS_UPDATE_KUBECONFIG=0  use the caller's KUBECONFIG as it is instead of a kubeconfig
#                     private to this run written by `aws eks update-kubeconfig`
#                     (CI runners with a prepared context). The caller's file is never
#                     written either way.
#   K8S_OVERLAY       kustomize overlay of the app (default k8s/overlays/eks)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly TF_DIR="${TF_DIR:-$REPO_ROOT/tf}"
readonly TF_OUTPUTS_JSON="${TF_OUTPUTS_JSON:-}"
readonly EKS_UPDATE_KUBECONFIG="${EKS_UPDATE_KUBECONFIG:-1}"
readonly K8S_OVERLAY="${K8S_OVERLAY:-$REPO_ROOT/k8s/overlays/eks}"

OUTPUTS=""

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}

# Dies, naming each of the tools $@ that is not on PATH and what to install.
check_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]})) || return 0
  for tool in "${missing[@]}"; do
    case "$tool" in
      aws) printf '%s: error: aws not found: install the AWS CLI (Debian: awscli)\n' "$SCRIPT_NAME" >&2 ;;
      docker) printf '%s: error: docker not found: install Docker (Debian: docker.io)\n' "$SCRIPT_NAME" >&2 ;;
      kubectl) printf '%s: error: kubectl not found: install kubectl (needed because deploy_eks is true)\n' "$SCRIPT_NAME" >&2 ;;
      helm) printf '%s: error: helm not found: install Helm 3 (https://helm.sh/docs/intro/install/; installs the AWS Load Balancer Controller because deploy_eks is true)\n' "$SCRIPT_NAME" >&2 ;;
      terraform) printf '%s: error: terraform not found: install Terraform >= 1.10, or set TF_OUTPUTS_JSON to a saved "terraform output -json"\n' "$SCRIPT_NAME" >&2 ;;
      jq) printf '%s: error: jq not found: install jq (Debian: jq)\n' "$SCRIPT_NAME" >&2 ;;
      python3) printf '%s: error: python3 not found: install Python 3 (Debian: python3)\n' "$SCRIPT_NAME" >&2 ;;
      *) printf '%s: error: %s not found\n' "$SCRIPT_NAME" "$tool" >&2 ;;
    esac
  done
  exit 1
}

# Prints the stack's outputs: TF_OUTPUTS_JSON, or `terraform output -json` in TF_DIR.
read_outputs() {
  if [[ -n "$TF_OUTPUTS_JSON" ]]; then
    [[ -r "$TF_OUTPUTS_JSON" ]] || die "TF_OUTPUTS_JSON=$TF_OUTPUTS_JSON is not a readable file"
    cat -- "$TF_OUTPUTS_JSON"
  else
    terraform -chdir="$TF_DIR" output -json
  fi
}

# Sets OUTPUTS to the stack's outputs; dies when there are none or they cannot be read.
load_outputs() {
  if [[ -n "$TF_OUTPUTS_JSON" ]]; then
    OUTPUTS="$(read_outputs)" || exit 1
  else
    OUTPUTS="$(read_outputs)" ||
      die "terraform -chdir=$TF_DIR output -json failed: run make tf_init and make tf_deploy first"
  fi
  jq -e 'type == "object" and length > 0' >/dev/null 2>&1 <<<"$OUTPUTS" ||
    die "the Terraform stack has no outputs: run make tf_deploy first"
}

# Sets OUTPUTS to the stack's outputs, or to "{}" when there is no stack that terraform can
# read (nothing deployed, for destroy). An unreadable TF_OUTPUTS_JSON is still an error.
load_outputs_if_any() {
  if [[ -n "$TF_OUTPUTS_JSON" ]]; then
    OUTPUTS="$(read_outputs)" || exit 1
  else
    OUTPUTS="$(read_outputs 2>/dev/null || true)"
  fi
  [[ -n "$OUTPUTS" ]] || OUTPUTS='{}'
}

# Prints output $1 of the stack (or of outputs JSON $2): strings raw, other types as JSON,
# nothing when absent or null (Terraform leaves null outputs out of `output -json`).
tf_output() {
  jq -r --arg name "$1" \
    '.[$name].value | if . == null then empty elif type == "string" then . else tojson end' \
    <<<"${2:-$OUTPUTS}"
}

# Like tf_output, but dies when the output is missing or null.
require_output() {
  local value
  value="$(tf_output "$1")"
  [[ -n "$value" ]] || die "Terraform output $1 is missing or null: run make tf_deploy first"
  printf '%s\n' "$value"
}

# Points KUBECONFIG at a file in directory $1 holding only cluster $2 (region $3).
# `aws eks update-kubeconfig` "Configures kubectl so that you can connect to an Amazon EKS
# cluster" by writing the file, and "the current context ... is set to the cluster" (AWS
# CLI reference, eks update-kubeconfig): pointed at ~/.kube/config it would switch the
# operator's context behind their back, so it only ever writes a file of this run's.
use_private_kubeconfig() {
  local err
  export KUBECONFIG="$1/kubeconfig"
  err="$(aws eks update-kubeconfig --region "$3" --name "$2" --kubeconfig "$KUBECONFIG" 2>&1 >/dev/null)" ||
    die "aws eks update-kubeconfig --name $2 failed ($(tail -n 1 <<<"$err")): check AWS credentials (aws sts get-caller-identity)"
}
