#!/usr/bin/env bash
# Installs the AWS Load Balancer Controller into the EKS cluster, or upgrades it, at one
# pinned version, from its Helm chart. The controller keeps the load balancer's EKS target
# group filled with the pod IPs of the TargetGroupBinding in k8s/overlays/eks and sets the
# pods' readiness gates. Idempotent: a second run with the same settings changes nothing.
# Run it after `terraform apply` (the Pod Identity association must exist before the
# controller's pods are created) and before `kubectl apply -k` of the app (the binding is
# admitted by the controller's webhook).
#
# Settings, all from the environment (scripts/deploy.sh passes the Terraform outputs named):
#   KUBECONFIG                     kubeconfig of the cluster (required: never ~/.kube/config by accident)
#   EKS_CLUSTER_NAME               terraform output eks_cluster_name
#   AWS_REGION                     terraform output aws_region
#   VPC_ID                         terraform output vpc_id
#   LB_CONTROLLER_SERVICE_ACCOUNT  terraform output eks_lb_controller_service_account (namespace/name)
#   LB_CONTROLLER_TIMEOUT          how long to wait for the controller (default 300s)
#   HELM_CHART_REPO                chart repository (default https://aws.github.io/eks-charts)
#
# Why Helm and not the released YAML manifests: the project's install guide says "We
# recommend using the Helm chart to install the controller" and the manifests need
# cert-manager for the webhook certificate ("use the Helm chart, since it doesn't depend on
# the cert-manager"). Why here and not in Terraform: see k8s/README.md.
set -euo pipefail

# The pinned release: chart 3.5.0 ships controller v3.5.0. Update together with the CRD in
# tests/k8s/crds/ and tf/modules/eks/lb-controller-iam-policy.json (both from v3.5.0).
readonly LB_CONTROLLER_CHART_VERSION="3.5.0"
readonly LB_CONTROLLER_APP_VERSION="v3.5.0"
readonly RELEASE="aws-load-balancer-controller"

WORK=""

die() {
  printf 'install-lb-controller: error: %s\n' "$*" >&2
  exit 1
}

note() { printf 'install-lb-controller: %s\n' "$*"; }

cleanup() { if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi; }

# Every check before anything is changed.
preflight() {
  local tool
  for tool in helm kubectl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found: install it (https://helm.sh/docs/intro/install/ for helm)"
  done
  [[ -n "${KUBECONFIG:-}" ]] ||
    die "KUBECONFIG is not set: point it at a kubeconfig for the cluster (aws eks update-kubeconfig --kubeconfig FILE)"
  [[ -f "${KUBECONFIG%%:*}" ]] || die "KUBECONFIG ${KUBECONFIG%%:*} does not exist"
  # EKS cluster names: "can contain only alphanumeric characters (case-sensitive), hyphens,
  # and underscores. It must start with an alphanumeric character" (CreateCluster API).
  [[ "${EKS_CLUSTER_NAME:-}" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$ ]] ||
    die "EKS_CLUSTER_NAME '${EKS_CLUSTER_NAME:-}' is not an EKS cluster name (terraform output eks_cluster_name)"
  [[ "${AWS_REGION:-}" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] ||
    die "AWS_REGION '${AWS_REGION:-}' is not a region (terraform output aws_region)"
  [[ "${VPC_ID:-}" =~ ^vpc-([0-9a-f]{8}|[0-9a-f]{17})$ ]] ||
    die "VPC_ID '${VPC_ID:-}' is not a VPC ID (terraform output vpc_id)"
  [[ "${LB_CONTROLLER_SERVICE_ACCOUNT:-}" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] ||
    die "LB_CONTROLLER_SERVICE_ACCOUNT '${LB_CONTROLLER_SERVICE_ACCOUNT:-}' is not namespace/name (terraform output eks_lb_controller_service_account)"
  kubectl auth can-i create customresourcedefinitions.apiextensions.k8s.io --request-timeout=15s >/dev/null 2>&1 ||
    die "kubectl cannot reach the cluster or may not create CustomResourceDefinitions (an EKS access entry with cluster admin is needed)"
}

# Downloads the pinned chart into $WORK and checks that it is the version asked for.
pull_chart() {
  helm pull "$RELEASE" --repo "${HELM_CHART_REPO:-https://aws.github.io/eks-charts}" \
    --version "$LB_CONTROLLER_CHART_VERSION" --untar --untardir "$WORK" ||
    die "helm pull of chart $RELEASE $LB_CONTROLLER_CHART_VERSION failed"
  local chart="$WORK/$RELEASE" app_version
  [[ -f "$chart/Chart.yaml" && -f "$chart/crds/crds.yaml" ]] || die "the pulled chart has no Chart.yaml or crds/crds.yaml"
  app_version="$(sed -n 's/^appVersion:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$chart/Chart.yaml")"
  [[ "$app_version" == "$LB_CONTROLLER_APP_VERSION" ]] ||
    die "chart $LB_CONTROLLER_CHART_VERSION carries controller $app_version, not $LB_CONTROLLER_APP_VERSION"
}

main() {
  (($# == 0)) || die "takes no arguments; settings come from the environment (see the top of $0)"
  preflight
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/lb-controller.XXXXXX")"
  trap cleanup EXIT
  # Helm keeps its repository cache and settings under these; keep them out of $HOME.
  export HELM_CACHE_HOME="$WORK/helm-cache" HELM_CONFIG_HOME="$WORK/helm-config" HELM_DATA_HOME="$WORK/helm-data"
  local namespace="${LB_CONTROLLER_SERVICE_ACCOUNT%%/*}" service_account="${LB_CONTROLLER_SERVICE_ACCOUNT#*/}"

  note "chart $RELEASE $LB_CONTROLLER_CHART_VERSION (controller $LB_CONTROLLER_APP_VERSION) for cluster $EKS_CLUSTER_NAME"
  pull_chart

  # "The helm install command automatically applies the CRDs, but helm upgrade doesn't"
  # (install guide): apply them first on every run. Server-side, since the CRDs are too large
  # for the last-applied annotation of a client-side apply.
  kubectl apply --server-side --force-conflicts --field-manager="$RELEASE-install" \
    -f "$WORK/$RELEASE/crds/crds.yaml" >/dev/null || die "applying the controller's CRDs failed"

  # region and vpcId are explicit: the nodes' IMDS hop limit of 1 keeps pods from the
  # instance metadata the controller would otherwise read ("Instead of depending on IMDSv2,
  # you can specify the AWS Region via the controller flag --aws-region, and the AWS VPC via
  # controller flag --aws-vpc-id", install guide). The ServiceAccount is the one Terraform's
  # Pod Identity association names; it needs no role annotation. The Service mutator webhook
  # would make the controller the default for every new LoadBalancer Service in the cluster;
  # this stack creates none, and others' Services keep the behaviour they had.
  helm upgrade --install "$RELEASE" "$WORK/$RELEASE" \
    --namespace "$namespace" \
    --set-string clusterName="$EKS_CLUSTER_NAME" \
    --set-string region="$AWS_REGION" \
    --set-string vpcId="$VPC_ID" \
    --set serviceAccount.create=true \
    --set-string serviceAccount.name="$service_account" \
    --set enableServiceMutatorWebhook=false \
    --wait --timeout "${LB_CONTROLLER_TIMEOUT:-300s}" >/dev/null ||
    die "helm upgrade --install $RELEASE failed (kubectl -n $namespace describe deployment $RELEASE)"

  # Pod Identity sets its variables only in pods created after the association exists.
  # Controller pods older than that would run without AWS credentials: replace them once.
  local pods
  pods="$(kubectl get pods --namespace "$namespace" -l "app.kubernetes.io/name=$RELEASE" \
    -o jsonpath='{range .items[*]}{.metadata.name}={.spec.containers[0].env[?(@.name=="AWS_CONTAINER_CREDENTIALS_FULL_URI")].name}{"\n"}{end}')" ||
    die "cannot list the controller's pods"
  if grep -q '=$' <<<"$pods"; then
    note "controller pods predate the Pod Identity association: restarting them"
    kubectl rollout restart deployment "$RELEASE" --namespace "$namespace" >/dev/null
  fi
  kubectl rollout status deployment "$RELEASE" --namespace "$namespace" --timeout "${LB_CONTROLLER_TIMEOUT:-300s}" >/dev/null ||
    die "the controller did not become ready (kubectl -n $namespace logs deployment/$RELEASE)"
  note "controller $LB_CONTROLLER_APP_VERSION ready in $namespace as $service_account"
}

main "$@"
