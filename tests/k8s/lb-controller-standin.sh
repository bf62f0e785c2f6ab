#!/usr/bin/env bash
# Stand-in for `helm` and `kubectl` (called through symlinks of those names) for the test of
# scripts/install-lb-controller.sh. Appends each call to $STANDIN_LOG, one line per call.
# It refuses what the real tools refuse for the calls the script makes:
#   helm pull without --version, --untar or a repository; helm upgrade of a chart directory
#   without Chart.yaml, or without --install (the first run has no release to upgrade);
#   kubectl without a readable KUBECONFIG (the real one would fall back to localhost:8080);
#   kubectl apply -f of a file that holds no CustomResourceDefinition.
# STANDIN_APP_VERSION: appVersion of the chart `helm pull` writes (default v3.5.0).
# STANDIN_PODS_WITHOUT_IDENTITY=1: `kubectl get pods` reports a pod without Pod Identity variables.
# STANDIN_DENY=1: `kubectl auth can-i` answers no.
set -euo pipefail

TOOL="$(basename "$0")"
readonly TOOL
printf '%s %s\n' "$TOOL" "$*" >>"$STANDIN_LOG"

refuse() {
  printf '%s (stand-in): %s\n' "$TOOL" "$*" >&2
  exit 1
}

helm_pull() {
  local untardir="" version="" repo="" untar=0 chart=""
  while (($#)); do
    case "$1" in
      --untardir)
        untardir="$2"
        shift
        ;;
      --version)
        version="$2"
        shift
        ;;
      --repo)
        repo="$2"
        shift
        ;;
      --untar) untar=1 ;;
      -*) refuse "unknown flag $1" ;;
      *) chart="$1" ;;
    esac
    shift
  done
  [[ -n "$version" && -n "$repo" && "$untar" == 1 && -d "$untardir" && -n "$chart" ]] ||
    refuse "pull needs a chart, --repo, --version, --untar and an existing --untardir"
  mkdir -p "$untardir/$chart/crds"
  printf 'apiVersion: v2\nname: %s\nversion: %s\nappVersion: %s\n' \
    "$chart" "$version" "${STANDIN_APP_VERSION:-v3.5.0}" >"$untardir/$chart/Chart.yaml"
  cat "$STANDIN_CRDS" >"$untardir/$chart/crds/crds.yaml"
}

helm_upgrade() {
  local install=0 positional=()
  shift
  while (($#)); do
    case "$1" in
      --install) install=1 ;;
      --wait) ;;
      --namespace | --set | --set-string | --timeout | --version) shift ;;
      -*) refuse "unknown flag $1" ;;
      *) positional+=("$1") ;;
    esac
    shift
  done
  ((install)) || refuse "Error: UPGRADE FAILED: release has no deployed releases"
  ((${#positional[@]} == 2)) || refuse "Error: \"helm upgrade\" requires 2 arguments"
  [[ -f "${positional[1]}/Chart.yaml" ]] || refuse "Error: path \"${positional[1]}\" not found"
}

kubectl_main() {
  [[ -n "${KUBECONFIG:-}" && -r "${KUBECONFIG%%:*}" ]] ||
    refuse "no kubeconfig: the real kubectl would talk to localhost:8080"
  case "$1" in
    auth) [[ "${STANDIN_DENY:-0}" != 1 ]] ;;
    apply)
      local file=""
      while (($#)); do
        if [[ "$1" == -f ]]; then file="$2"; fi
        shift
      done
      grep -q '^kind: CustomResourceDefinition' "$file" || refuse "error: no objects passed to apply"
      ;;
    get)
      # What the script's jsonpath prints: pod=name of the Pod Identity variable, one a line.
      if [[ "${STANDIN_PODS_WITHOUT_IDENTITY:-0}" == 1 ]]; then
        printf 'lbc-new=AWS_CONTAINER_CREDENTIALS_FULL_URI\nlbc-old=\n'
      else
        printf 'lbc-a=AWS_CONTAINER_CREDENTIALS_FULL_URI\nlbc-b=AWS_CONTAINER_CREDENTIALS_FULL_URI\n'
      fi
      ;;
    rollout) ;;
    *) refuse "unexpected command $1" ;;
  esac
}

case "$TOOL" in
  helm)
    case "${1:-}" in
      pull)
        shift
        helm_pull "$@"
        ;;
      upgrade) helm_upgrade "$@" ;;
      *) refuse "unexpected command ${1:-}" ;;
    esac
    ;;
  kubectl) kubectl_main "$@" ;;
  *) refuse "called as $TOOL" ;;
esac
