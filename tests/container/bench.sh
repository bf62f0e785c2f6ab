#!/usr/bin/env bash
# Container benchmark (a measurement, not a test): image size against the 10 MB target,
# cold start (docker run -> first 200) against the 300 ms target, idle memory, and for
# comparison the size of a plain debian:bookworm-slim + nginx image.
#
# Usage: IMAGE_REF=hello-cluster:<tag> tests/container/bench.sh   (make bench-container)
# Knobs: COLD_START_RUNS (default 5), COMPARE_NGINX_IMAGE=0 to skip the comparison build.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly IMAGE_REF="${IMAGE_REF:?IMAGE_REF (image to measure) is required}"
readonly BUILD_BASE="${BUILD_BASE:-debian:bookworm-slim}"
readonly RUNS="${COLD_START_RUNS:-5}"
readonly SIZE_TARGET=10000000
readonly COLD_TARGET_MS=300
readonly COMPARE_IMAGE="hello-cluster-compare:bookworm-slim-nginx"

CONTAINER=""
cleanup() {
  if [[ -n "$CONTAINER" ]]; then docker rm -f "$CONTAINER" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

verdict() { if [[ "$1" == 1 ]]; then echo "meets target"; else echo "MISSES target"; fi; }

command -v docker >/dev/null 2>&1 || {
  echo "docker not found: install the Debian package docker.io" >&2
  exit 1
}
timeout 15 docker info >/dev/null 2>&1 || {
  echo "no Docker engine answers: run docker/engine.sh start" >&2
  exit 1
}

echo "== image size ($IMAGE_REF)"
size="$(docker image inspect -f '{{.Size}}' "$IMAGE_REF")"
size_ok=0
((size <= SIZE_TARGET)) && size_ok=1
printf '  %s bytes = %s (docker image ls), target <= 10 MB: %s\n' \
  "$size" "$(docker image ls --format '{{.Size}}' "$IMAGE_REF")" "$(verdict "$size_ok")"

compare_size=""
if [[ "${COMPARE_NGINX_IMAGE:-1}" == 1 ]]; then
  echo "== comparison: $BUILD_BASE + Debian's nginx (built once, then cached)"
  if printf 'FROM %s\nRUN apt-get update && apt-get install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*\n' \
    "$BUILD_BASE" | docker build -q -t "$COMPARE_IMAGE" - >/dev/null 2>&1; then
    compare_size="$(docker image inspect -f '{{.Size}}' "$COMPARE_IMAGE")"
    printf '  %s = %s bytes (%s); ours is %.1fx smaller\n' "$COMPARE_IMAGE" "$compare_size" \
      "$(docker image ls --format '{{.Size}}' "$COMPARE_IMAGE")" "$(awk -v a="$compare_size" -v b="$size" 'BEGIN { print a / b }')"
  else
    echo "  could not build the comparison image (is the Debian mirror reachable from containers?)"
  fi
fi

echo "== cold start: docker run -> first 200 on GET / ($RUNS runs, hardened flags, port on 127.0.0.1)"
cold_json="$(python3 "$REPO_ROOT/tests/container/coldstart.py" --image "$IMAGE_REF" --runs "$RUNS" \
  --base "$BUILD_BASE" | tee /dev/stderr | tail -n 1)"
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$cold_json" "$1"; }
cold_median="$(field median_ms)"
image_part="$(field process_start_to_200_median_ms)"
noop_median="$(field noop_container_median_ms)"
cold_ok=0
((cold_median < COLD_TARGET_MS)) && cold_ok=1
printf '  docker run -> first 200: median %s ms, target < %s ms: %s\n' "$cold_median" "$COLD_TARGET_MS" "$(verdict "$cold_ok")"
printf '  of which the image (process start -> first 200): median %s ms; a no-op container on this engine: median %s ms\n' \
  "$image_part" "$noop_median"

echo "== idle memory (docker stats, 3 s after start)"
CONTAINER="hc-bench-idle-$$"
docker run -d --name "$CONTAINER" --read-only --cap-drop ALL --security-opt no-new-privileges --tmpfs /tmp \
  "$IMAGE_REF" >/dev/null
sleep 3
idle_mem="$(docker stats --no-stream --format '{{.MemUsage}}' "$CONTAINER" | awk -F' / ' '{ print $1 }')"
printf '  %s (cgroup memory of the whole container: master, workers, nginx, tmpfs)\n' "$idle_mem"
docker rm -f "$CONTAINER" >/dev/null
CONTAINER=""

printf 'bench-container: image %s bytes (target 10000000: %s), cold start median %s ms (target %s ms: %s; process start -> 200 %s ms, no-op container %s ms), idle %s%s\n' \
  "$size" "$(verdict "$size_ok")" "$cold_median" "$COLD_TARGET_MS" "$(verdict "$cold_ok")" "$image_part" "$noop_median" "$idle_mem" \
  "${compare_size:+, bookworm-slim+nginx $compare_size bytes}"
