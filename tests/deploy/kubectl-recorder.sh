#!/usr/bin/env bash
# Stand-in for kubectl in the deploy test, installed as `kubectl` first on PATH: no API
# server can be had here. It records every call (KUBECTL_LOG), renders what `apply -k`
# would send with the real kubectl (REAL_KUBECTL kustomize -> KUBECTL_APPLIED), and plays
# the cluster's part: access granted, rollout complete (or with FAKE_ROLLOUT=fail, a
# rollout that misses its deadline), objects listed from KUBECTL_OBJECTS_DIR, deletions
# accepted. It never opens a network connection.
set -euo pipefail

: "${REAL_KUBECTL:?}" "${KUBECTL_LOG:?}" "${KUBECTL_APPLIED:?}"
printf '%s\n' "$*" >>"$KUBECTL_LOG"

case "${1:-} ${2:-}" in
  "kustomize "*)
    exec "$REAL_KUBECTL" "$@"
    ;;
  "auth can-i")
    echo yes
    ;;
  "apply --server-side")
    # The controller's CRDs (scripts/install-lb-controller.sh).
    ;;
  "get pods")
    # The controller's pods, created after the Pod Identity association.
    echo "aws-load-balancer-controller-0=AWS_CONTAINER_CREDENTIALS_FULL_URI"
    ;;
  "get targetgroupbinding")
    # The binding's target group: KUBECTL_BOUND_TARGET_GROUP, none when unset.
    printf '%s' "${KUBECTL_BOUND_TARGET_GROUP:-}"
    ;;
  "apply -k")
    "$REAL_KUBECTL" kustomize "$3" >"$KUBECTL_APPLIED"
    grep -A2 '^kind:' "$KUBECTL_APPLIED" | awk '/^kind:/ { kind = $2 } /^  name:/ { print tolower(kind) "/" $2 " configured" }'
    ;;
  "rollout status")
    if [[ "${FAKE_ROLLOUT:-}" == fail && "$3" == deployment/hello ]]; then
      echo 'error: deployment "hello" exceeded its progress deadline' >&2
      exit 1
    fi
    echo 'deployment "hello" successfully rolled out'
    ;;
  "rollout undo")
    echo 'deployment.apps/hello rolled back'
    ;;
  "get services" | "get ingresses")
    # The cluster's objects for the destroy flow: KUBECTL_OBJECTS_DIR/<services|ingresses>.json.
    if [[ -n "${KUBECTL_OBJECTS_DIR:-}" && -f "$KUBECTL_OBJECTS_DIR/$2.json" ]]; then
      cat "$KUBECTL_OBJECTS_DIR/$2.json"
    else
      echo '{"apiVersion": "v1", "kind": "List", "items": []}'
    fi
    ;;
  "delete "*)
    echo "deleted: $*"
    ;;
  *)
    echo "kubectl stand-in: unexpected call: kubectl $*" >&2
    exit 1
    ;;
esac
