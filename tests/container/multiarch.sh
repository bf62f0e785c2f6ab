#!/usr/bin/env bash
# Proves scripts/build-multiarch.sh against a registry of our own (Debian's docker-registry on
# 127.0.0.1, a free port): one tag whose manifest list holds every platform of PLATFORMS, each
# entry the local image that the container suite tested (same config digest), the printed
# REF@digest pullable by digest, and scripts/image-platforms.py refusing a single-platform tag.
#
# Usage: IMAGE=hello-cluster TAG=<commit> PLATFORMS=linux/amd64,linux/arm64 tests/container/multiarch.sh
# (`make test-multiarch`; the per-platform images are reused when present, built otherwise.)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
export IMAGE="${IMAGE:-hello-cluster}"
export TAG="${TAG:?TAG (the local images IMAGE:TAG-<arch>) is required}"
readonly PLATFORMS="${PLATFORMS:-linux/amd64,linux/arm64}"

# shellcheck source=tests/lib/checks.sh
source "$REPO_ROOT/tests/lib/checks.sh"
note() { printf '     %s\n' "$*"; }

WORK="$(mktemp -d)"
REGISTRY_PID=""
PUSHED_REFS=()
cleanup() {
  local ref
  if [[ -n "$REGISTRY_PID" ]]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
  fi
  for ref in "${PUSHED_REFS[@]}"; do docker rmi "$ref" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_registry() {
  local port="$1" deadline=$((SECONDS + 15))
  cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: 127.0.0.1:$port
EOF
  docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
  REGISTRY_PID=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; do
    if ((SECONDS >= deadline)) || ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
      cat "$WORK/registry.log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# one_digest_line OUTPUT REF: OUTPUT is the single line REF@sha256:<64 hex>.
one_digest_line() {
  [[ "$1" =~ ^"$2"@sha256:[0-9a-f]{64}$ ]] && [[ "$(wc -l <<<"$1")" -eq 1 ]]
}

# refused_single RC STDERR_FILE: exit code 3 and the message names the missing platform.
refused_single() {
  [[ "$1" -eq 3 ]] && grep -q "but not linux/amd64" "$2"
}

main() {
  local tool
  for tool in docker docker-registry curl python3; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "$tool not found: make deps" >&2
      exit 1
    }
  done
  local port ref out rc=0 platform arch listing line config local_id
  port="$(free_port)"
  start_registry "$port" || {
    echo "docker-registry did not answer on 127.0.0.1:$port" >&2
    exit 1
  }
  ref="127.0.0.1:$port/hello-cluster:$TAG"
  IFS=',' read -r -a platforms <<<"$PLATFORMS"
  for platform in "${platforms[@]}"; do PUSHED_REFS+=("$ref-${platform#linux/}"); done

  echo "== scripts/build-multiarch.sh $ref $PLATFORMS"
  out="$(BUILDX="${BUILDX:-auto}" "$REPO_ROOT/scripts/build-multiarch.sh" "$ref" "$PLATFORMS" 2>"$WORK/build.log")" || rc=$?
  check "exits 0 (got $rc)" test "$rc" -eq 0
  sed 's/^/     /' "$WORK/build.log" | tail -n 12
  check "prints exactly one line, REF@sha256:<digest> (got '$out')" \
    one_digest_line "$out" "$ref"
  ((CHECK_OK == 1)) || return 0

  listing="$("$REPO_ROOT/scripts/image-platforms.py" --digests "$ref")"
  note "registry: $(tr '\n' ' ' <<<"$listing")"
  check "the registry's tag is a manifest list of exactly $PLATFORMS" \
    test "$(awk '{ print $1 }' <<<"$listing" | paste -sd, -)" == "$(tr ',' '\n' <<<"$PLATFORMS" | sort | paste -sd, -)"
  check "the printed digest is the tag's (image-platforms.py reads the same list by digest)" \
    test "$("$REPO_ROOT/scripts/image-platforms.py" --digests "${out}")" == "$listing"
  for platform in "${platforms[@]}"; do
    arch="${platform#linux/}"
    line="$(awk -v p="$platform" '$1 == p { print $2 }' <<<"$listing")"
    config="$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "http://127.0.0.1:$port/v2/hello-cluster/manifests/$line" | python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["digest"])')"
    local_id="$(docker image inspect -f '{{.Id}}' "$IMAGE:$TAG-$arch")"
    check "$platform entry is the tested local image $IMAGE:$TAG-$arch (config $config)" test "$config" == "$local_id"
  done

  echo "== image-platforms.py refuses a single-platform tag"
  rc=0
  "$REPO_ROOT/scripts/image-platforms.py" --require "$PLATFORMS" "$ref-arm64" >"$WORK/single.out" 2>"$WORK/single.err" || rc=$?
  check "--require $PLATFORMS on $ref-arm64 exits 3 (got $rc) and names what is missing" \
    refused_single "$rc" "$WORK/single.err"
  check "it still prints the one platform the tag holds ($(cat "$WORK/single.out"))" \
    test "$(cat "$WORK/single.out")" == linux/arm64
}

main "$@"
echo
printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
((FAILED == 0))
