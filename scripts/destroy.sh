#!/usr/bin/env bash
# First half of `make destroy`: remove what Kubernetes created in AWS, so that
# `terraform destroy` (make tf_destroy, the second half) does not stop on a
# DependencyViolation. A LoadBalancer Service or an Ingress makes a load balancer and
# security groups inside the VPC that Terraform does not know about.
#
# With EKS on: deletes the app (kubectl delete -k of the eks overlay), then every
# LoadBalancer Service and every Ingress in the cluster, and waits until their finalizers
# have removed the load balancers. With EKS off, or no stack: nothing to do.
#
# Knobs: TF_DIR, TF_OUTPUTS_JSON (as for deploy.sh), EKS_UPDATE_KUBECONFIG=0,
#        K8S_OVERLAY, DELETE_TIMEOUT (default 600s).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly TF_DIR="${TF_DIR:-$REPO_ROOT/tf}"
readonly TF_OUTPUTS_JSON="${TF_OUTPUTS_JSON:-}"
readonly EKS_UPDATE_KUBECONFIG="${EKS_UPDATE_KUBECONFIG:-1}"
readonly K8S_OVERLAY="${K8S_OVERLAY:-$REPO_ROOT/k8s/overlays/eks}"
readonly DELETE_TIMEOUT="${DELETE_TIMEOUT:-600s}"

KUBECONFIG_DIR=""
cleanup() {
  if [[ -n "$KUBECONFIG_DIR" ]]; then rm -rf "$KUBECONFIG_DIR"; fi
}
trap cleanup EXIT

step() { printf '==> %s\n' "$*"; }
die() {
  printf 'destroy: error: %s\n' "$*" >&2
  exit 1
}

tf_output() {
  jq -r --arg name "$1" \
    '.[$name].value | if . == null then empty elif type == "string" then . else tojson end' \
    <<<"$OUTPUTS"
}

load_outputs() {
  command -v jq >/dev/null 2>&1 || die "jq not found: install jq (Debian: jq)"
  if [[ -n "$TF_OUTPUTS_JSON" ]]; then
    OUTPUTS="$(<"$TF_OUTPUTS_JSON")"
  else
    command -v terraform >/dev/null 2>&1 || die "terraform not found: install Terraform"
    OUTPUTS="$(terraform -chdir="$TF_DIR" output -json 2>/dev/null || echo '{}')"
  fi
}

# Prints namespace/kind/name of every LoadBalancer Service and every Ingress.
load_balancer_objects() {
  kubectl get services --all-namespaces --request-timeout=30s -o json |
    jq -r '.items[] | select(.spec.type == "LoadBalancer") | "\(.metadata.namespace) service \(.metadata.name)"'
  kubectl get ingresses --all-namespaces --request-timeout=30s -o json |
    jq -r '.items[] | "\(.metadata.namespace) ingress \(.metadata.name)"'
}

main() {
  load_outputs
  if [[ "$(tf_output deploy_eks)" != true ]]; then
    step "EKS is off (or the stack is gone): no Kubernetes objects to remove"
    return 0
  fi
  command -v kubectl >/dev/null 2>&1 || die "kubectl not found: install kubectl (needed because deploy_eks is true)"
  command -v aws >/dev/null 2>&1 || die "aws not found: install the AWS CLI"
  local cluster region
  cluster="$(tf_output eks_cluster_name)"
  region="$(tf_output aws_region)"
  [[ -n "$cluster" && -n "$region" ]] || die "Terraform outputs eks_cluster_name / aws_region are missing"

  step "Connecting to $cluster"
  if [[ "$EKS_UPDATE_KUBECONFIG" == 1 ]]; then
    # A kubeconfig private to this run: update-kubeconfig would otherwise rewrite the
    # operator's ~/.kube/config and switch its current context (as in deploy.sh).
    KUBECONFIG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hello-destroy.XXXXXX")"
    export KUBECONFIG="$KUBECONFIG_DIR/kubeconfig"
    aws eks update-kubeconfig --region "$region" --name "$cluster" --kubeconfig "$KUBECONFIG" >/dev/null ||
      die "aws eks update-kubeconfig --name $cluster failed: check AWS credentials (aws sts get-caller-identity)"
  fi
  kubectl auth can-i delete services --all-namespaces --request-timeout=15s >/dev/null 2>&1 ||
    die "kubectl cannot reach $cluster or may not delete Services there; terraform destroy would leave Kubernetes-made load balancers behind"

  step "Deleting the app (kubectl delete -k ${K8S_OVERLAY#"$REPO_ROOT"/})"
  kubectl delete -k "$K8S_OVERLAY" --ignore-not-found --wait --timeout="$DELETE_TIMEOUT"

  step "Deleting LoadBalancer Services and Ingresses (their load balancers live in the VPC)"
  local namespace kind name found=0
  while read -r namespace kind name; do
    [[ -n "$name" ]] || continue
    found=1
    printf '    %s %s/%s\n' "$kind" "$namespace" "$name"
    kubectl delete "$kind" "$name" --namespace "$namespace" --wait --timeout="$DELETE_TIMEOUT"
  done < <(load_balancer_objects)
  ((found)) || printf '    none\n'
  step "Kubernetes side clean; Terraform can destroy the stack"
}

main "$@"
