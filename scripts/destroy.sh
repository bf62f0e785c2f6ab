#!/usr/bin/env bash
# First half of `make destroy`: remove what Kubernetes created in AWS, so that
# `terraform destroy` (make tf-destroy, the second half) does not stop on a
# DependencyViolation. A LoadBalancer Service or an Ingress makes a load balancer and
# security groups inside the VPC that Terraform does not know about.
#
# With EKS on: deletes the app (kubectl delete -k of the eks overlay), then every
# LoadBalancer Service and every Ingress in the cluster, and waits until their finalizers
# have removed the load balancers. With EKS off, or no stack: nothing to do.
#
# Knobs: TF_DIR, TF_OUTPUTS_JSON, EKS_UPDATE_KUBECONFIG=0, K8S_OVERLAY (scripts/lib/common.sh),
#        DELETE_TIMEOUT (default 600s).
set -euo pipefail

readonly SCRIPT_NAME=destroy
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
readonly DELETE_TIMEOUT="${DELETE_TIMEOUT:-600s}"

KUBECONFIG_DIR=""
cleanup() {
  if [[ -n "$KUBECONFIG_DIR" ]]; then rm -rf "$KUBECONFIG_DIR"; fi
}
trap cleanup EXIT

# Prints namespace/kind/name of every LoadBalancer Service and every Ingress.
load_balancer_objects() {
  kubectl get services --all-namespaces --request-timeout=30s -o json |
    jq -r '.items[] | select(.spec.type == "LoadBalancer") | "\(.metadata.namespace) service \(.metadata.name)"'
  kubectl get ingresses --all-namespaces --request-timeout=30s -o json |
    jq -r '.items[] | "\(.metadata.namespace) ingress \(.metadata.name)"'
}

main() {
  if [[ -n "$TF_OUTPUTS_JSON" ]]; then check_tools jq; else check_tools jq terraform; fi
  # No stack, or one without outputs: nothing Kubernetes made can be left.
  load_outputs_if_any
  if [[ "$(tf_output deploy_eks)" != true ]]; then
    step "EKS is off (or the stack is gone): no Kubernetes objects to remove"
    return 0
  fi
  check_tools kubectl aws
  local cluster region
  cluster="$(tf_output eks_cluster_name)"
  region="$(tf_output aws_region)"
  [[ -n "$cluster" && -n "$region" ]] || die "Terraform outputs eks_cluster_name / aws_region are missing"

  step "Connecting to $cluster"
  if [[ "$EKS_UPDATE_KUBECONFIG" == 1 ]]; then
    KUBECONFIG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hello-destroy.XXXXXX")"
    use_private_kubeconfig "$KUBECONFIG_DIR" "$cluster" "$region"
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
