#!/usr/bin/env bash
# Builds the image for several platforms and pushes them as ONE tag whose manifest list holds
# every platform; checks the list in the registry before saying so.
#
#   scripts/build-multiarch.sh REF [PLATFORMS]
#
#   REF        where to push: REGISTRY/REPOSITORY:TAG (e.g. 127.0.0.1:5000/hello-cluster:abc123,
#              or an ECR repository URL with a tag). A tag, not a digest.
#   PLATFORMS  comma-separated, default linux/amd64,linux/arm64.
#
# stdout: exactly one line on success, REF@sha256:<digest of the manifest list>. Everything
#         else (progress, the per-platform digests) goes to stderr.
# Exit codes: 0 pushed and verified; 1 a build or push failed; 2 bad usage; 3 a prerequisite is
#         missing (no docker CLI able to build for another platform, no emulation registered,
#         no engine); 4 the registry's manifest list under REF lacks a platform or an entry is
#         not the image that was built (and tested) here.
#
# Two ways, chosen by BUILDX=auto|1|0 (auto: buildx when the CLI has the plugin):
#   - without buildx (Debian's docker.io, as in CI here): each platform is `make image
#     PLATFORM=...` (BuildKit of the engine; emulated where foreign), the local image
#     IMAGE:TAG-<arch>; an existing one of the same commit is reused, so what is pushed is
#     what `make test-container PLATFORM=...` tested. Each is pushed as REF-<arch>, then
#     `docker manifest create` + `docker manifest push` make REF the list of them, and every
#     entry's config digest is checked against the local image's id. ECR takes such lists (AWS
#     docs, "Pushing a multi-architecture image to an Amazon ECR private repository": "Images
#     must be pushed to your repository before you create the Docker manifest", and "A manifest
#     list can be pulled or referenced in an Amazon ECS task definition or Amazon EKS pod spec
#     like other Amazon ECR images"). The REF-<arch> tags stay: with immutable tags, a second
#     run for the same REF fails at the first push (exit 1), as a re-push of REF would.
#   - with buildx (a GitHub-hosted runner): `docker buildx build --platform ... --push` on a
#     builder of the docker-container driver, created once as hello-cluster-multiarch. The
#     default `docker` driver cannot: Docker docs, "Multi-platform builds": "The default image
#     store in Docker Engine doesn't support multi-platform images", and the docker driver
#     fails with "Multi-platform build is not supported for the docker driver".
#
# Knobs: IMAGE (local repository, default hello-cluster), TAG (local tag, default the short
#        commit), REUSE=1 (0: always rebuild), BUILDX, INSECURE=auto|1|0 (auto: plain HTTP for
#        a registry on 127.0.0.1/localhost), BUILD_BASE (buildx only, default
#        debian:bookworm-slim from the registry), VERSION/COMMIT/CREATED/SOURCE (image labels).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_ROOT
readonly BUILDER=hello-cluster-multiarch

log() { printf 'build-multiarch: %s\n' "$*" >&2; }
die() {
  local code="$1"
  shift
  log "error: $*"
  exit "$code"
}

usage() {
  sed -n '4,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Per platform: the digest its push reported, and the local image's id (its config digest).
declare -A PUSHED=() IMAGE_IDS=()
WORK=""
cleanup() { [[ -z "$WORK" ]] || rm -rf "$WORK"; }
trap cleanup EXIT

# Sets REGISTRY_HOST from REF and checks REF's shape: a registry host, a repository, a tag.
parse_ref() {
  local ref="$1" host rest
  [[ "$ref" == */* ]] || die 2 "REF=$ref: expected REGISTRY/REPOSITORY:TAG"
  host="${ref%%/*}"
  rest="${ref#*/}"
  [[ "$host" == *.* || "$host" == *:* || "$host" == localhost ]] ||
    die 2 "REF=$ref: '$host' is not a registry host (expected e.g. 127.0.0.1:5000/hello-cluster:TAG)"
  [[ "$rest" != *@* ]] || die 2 "REF=$ref: give a tag, not a digest (the digest is what this prints)"
  [[ "${rest##*/}" == *:?* ]] || die 2 "REF=$ref: no tag"
  REGISTRY_HOST="$host"
}

# Plain HTTP for a loopback registry (what tests and `make deploy` against the local registry
# use). The engine already allows it for pushes (Docker Engine API, RegistryServiceConfig:
# "By default, local registries (::1/128 and 127.0.0.0/8) are configured as insecure"); the
# CLI's manifest commands talk to the registry themselves and need --insecure.
insecure() {
  case "${INSECURE:-auto}" in
    1) return 0 ;;
    0) return 1 ;;
  esac
  [[ "${REGISTRY_HOST%:*}" == localhost || "${REGISTRY_HOST%:*}" == 127.* ]]
}

platform_arch() {
  case "$1" in
    linux/amd64) echo amd64 ;;
    linux/arm64 | linux/arm64/v8) echo arm64 ;;
    *) die 2 "platform $1 is not one this project builds (linux/amd64, linux/arm64)" ;;
  esac
}

# Prints the digest `docker push` reports for $1 (the last "digest: sha256:..." it prints).
push_digest() {
  local out
  out="$(docker push "$1" 2>&1)" || {
    printf '%s\n' "$out" | tail -n 5 >&2
    return 1
  }
  grep -o 'digest: sha256:[0-9a-f]*' <<<"$out" | tail -n 1 | cut -d' ' -f2
}

# ---------------------------------------------------------------- without buildx
build_per_platform() {
  WORK="$(mktemp -d)"
  local ref="$1" platform arch local_ref revision commit parts=() flags=() digest
  commit="$(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
  insecure && flags=(--insecure)
  for platform in "${PLATFORMS[@]}"; do
    arch="$(platform_arch "$platform")"
    local_ref="$IMAGE:$TAG-$arch"
    revision="$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$local_ref" 2>/dev/null || true)"
    if [[ "${REUSE:-1}" == 1 && -n "$revision" && "$revision" == "${COMMIT:-$commit}" ]]; then
      log "$platform: reusing $local_ref (revision $revision, the image make test-container PLATFORM=$platform tests)"
    else
      log "$platform: make image PLATFORM=$platform TAG=$TAG"
      make --no-print-directory -C "$REPO_ROOT" image PLATFORM="$platform" IMAGE="$IMAGE" TAG="$TAG" >&2 ||
        die 1 "make image PLATFORM=$platform failed (a foreign platform needs emulation: make deps)"
    fi
    [[ "$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$local_ref" 2>/dev/null)" == "linux/$arch" ]] ||
      die 1 "$local_ref is not a linux/$arch image"
    IMAGE_IDS[$platform]="$(docker image inspect -f '{{.Id}}' "$local_ref")"
    docker tag "$local_ref" "$ref-$arch"
    digest="$(push_digest "$ref-$arch")" || die 1 "docker push $ref-$arch failed"
    [[ -n "$digest" ]] || die 1 "docker push $ref-$arch printed no digest"
    log "$platform: pushed $ref-$arch@$digest"
    PUSHED[$platform]="$digest"
    parts+=("$ref-$arch@$digest")
  done
  # `docker manifest` is experimental in the 20.10 CLI (Docker docs, "docker manifest": "This
  # command is experimental"); create reads each part's platform from the registry.
  export DOCKER_CLI_EXPERIMENTAL=enabled
  docker manifest rm "$ref" >/dev/null 2>&1 || true
  docker manifest create "${flags[@]}" "$ref" "${parts[@]}" >/dev/null || die 1 "docker manifest create $ref failed"
  # manifest push prints the digest of the list it pushed.
  LIST_DIGEST="$(docker manifest push "${flags[@]}" --purge "$ref" | tail -n 1)" || die 1 "docker manifest push $ref failed"
  verify "$ref"
}

# verify REF: the registry's list under REF names every platform, each entry is the manifest
# pushed for it (PUSHED), and that manifest's config is the local image's id (IMAGE_IDS).
# Read with `docker manifest inspect --verbose`, which uses the CLI's registry login (so ECR
# works after `docker login` as well as a local registry).
verify() {
  local ref="$1" platform entry flags=()
  insecure && flags=(--insecure)
  DOCKER_CLI_EXPERIMENTAL=enabled docker manifest inspect "${flags[@]}" --verbose "$ref" >"$WORK/list.json" 2>"$WORK/list.err" ||
    die 4 "docker manifest inspect $ref failed: $(tail -n 1 "$WORK/list.err")"
  for platform in "${PLATFORMS[@]}"; do
    entry="$(list_entry "$WORK/list.json" "$platform")" || die 4 "$ref is not a manifest list"
    [[ -n "$entry" ]] || die 4 "$ref has no $platform entry"
    [[ "${entry% *}" == "${PUSHED[$platform]}" ]] ||
      die 4 "$ref lists $platform as ${entry% *}, not the pushed ${PUSHED[$platform]}"
    [[ "${entry#* }" == "${IMAGE_IDS[$platform]}" ]] ||
      die 4 "$ref's $platform entry has config ${entry#* }, but the local (tested) image is ${IMAGE_IDS[$platform]}"
    log "$platform: $ref lists ${entry% *}, config ${entry#* } = the local image"
  done
}

# list_entry FILE PLATFORM: prints "<manifest digest> <config digest>" of PLATFORM's entry in
# the `docker manifest inspect --verbose` output FILE (nothing when absent; fails when FILE is
# not a list).
list_entry() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
listing = json.load(open(sys.argv[1]))
if not isinstance(listing, list):
    sys.exit("not a manifest list")
for e in listing:
    p = e["Descriptor"].get("platform", {})
    if f"{p.get('os')}/{p.get('architecture')}" == sys.argv[2]:
        m = e.get("SchemaV2Manifest") or e.get("OCIManifest")
        print(e["Descriptor"]["digest"], m["config"]["digest"])
        break
EOF
}

# ---------------------------------------------------------------- with buildx
build_with_buildx() {
  local ref="$1" list_digest
  WORK="$(mktemp -d)"
  if ! docker buildx inspect "$BUILDER" >/dev/null 2>&1; then
    local create=(--name "$BUILDER" --driver docker-container)
    if insecure; then
      # The builder runs in a container: 127.0.0.1 there is not the host's, so it shares the
      # host's network (driver option network=host), and it speaks plain HTTP to that registry
      # (buildkitd.toml, [registry."host:port"] http = true; BuildKit's RegistryConfig fields
      # `http` and `insecure`).
      printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$REGISTRY_HOST" >"$WORK/buildkitd.toml"
      create+=(--driver-opt network=host --buildkitd-config "$WORK/buildkitd.toml")
    fi
    log "docker buildx create ${create[*]}"
    docker buildx create "${create[@]}" >/dev/null || die 3 "docker buildx create --driver docker-container failed"
  fi
  [[ "$(docker buildx inspect "$BUILDER" | awk '$1 == "Driver:" { print $2 }')" == docker-container ]] ||
    die 3 "builder $BUILDER exists but does not use the docker-container driver: docker buildx rm $BUILDER"
  log "docker buildx build --builder $BUILDER --platform $(
    IFS=,
    echo "${PLATFORMS[*]}"
  ) --push"
  docker buildx build --builder "$BUILDER" --platform "$(
    IFS=,
    echo "${PLATFORMS[*]}"
  )" \
    -f "$REPO_ROOT/docker/Dockerfile" --build-arg "BUILD_BASE=${BUILD_BASE:-debian:bookworm-slim}" \
    --build-arg "VERSION=${VERSION:-$TAG}" --build-arg "COMMIT=${COMMIT:-$(git -C "$REPO_ROOT" rev-parse HEAD)}" \
    --build-arg "CREATED=${CREATED:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}" --build-arg "SOURCE=${SOURCE:-unknown}" \
    --metadata-file "$WORK/metadata.json" --tag "$ref" --push "$REPO_ROOT" >&2 ||
    die 1 "docker buildx build --push failed"
  list_digest="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["containerimage.digest"])' "$WORK/metadata.json")"
  # The index as the registry holds it (buildx's own client, with the CLI's registry login).
  docker buildx imagetools inspect --raw "$ref@$list_digest" >"$WORK/index.json" ||
    die 4 "docker buildx imagetools inspect $ref@$list_digest failed"
  python3 - "$WORK/index.json" "${PLATFORMS[@]}" <<'EOF' || die 4 "the registry's $ref@$list_digest does not hold every platform of ${PLATFORMS[*]}"
import json, sys
index = json.load(open(sys.argv[1]))
have = {f"{m['platform']['os']}/{m['platform']['architecture']}" for m in index.get("manifests", []) if "platform" in m}
missing = [p for p in sys.argv[2:] if p not in have]
if missing:
    sys.exit(f"build-multiarch: the index holds {sorted(have)}, not {missing}")
EOF
  LIST_DIGEST="$list_digest"
}

main() {
  [[ $# -ge 1 && $# -le 2 && "$1" != -* ]] || usage
  local ref="$1" mode
  IFS=',' read -r -a PLATFORMS <<<"${2:-linux/amd64,linux/arm64}"
  ((${#PLATFORMS[@]} >= 1)) || die 2 "PLATFORMS is empty"
  local p
  for p in "${PLATFORMS[@]}"; do platform_arch "$p" >/dev/null; done
  parse_ref "$ref"
  IMAGE="${IMAGE:-hello-cluster}"
  TAG="${TAG:-$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo dev)}"
  command -v docker >/dev/null 2>&1 || die 3 "docker not found: install docker.io (make deps)"
  timeout 15 docker info >/dev/null 2>&1 || die 3 "no Docker engine answers: docker/engine.sh start"
  mode="${BUILDX:-auto}"
  if [[ "$mode" == auto ]]; then
    if docker buildx version >/dev/null 2>&1; then mode=1; else mode=0; fi
  fi
  LIST_DIGEST=""
  if [[ "$mode" == 1 ]]; then
    docker buildx version >/dev/null 2>&1 || die 3 "BUILDX=1 but docker buildx is not installed"
    build_with_buildx "$ref"
  else
    "$REPO_ROOT/docker/buildkit-cli.sh" >/dev/null || die 3 "no docker CLI can build for another platform (see above)"
    build_per_platform "$ref"
  fi
  [[ "$LIST_DIGEST" == sha256:* ]] || die 4 "no digest for $ref"
  log "pushed $ref: $(
    IFS=,
    echo "${PLATFORMS[*]}"
  ) as one manifest list"
  printf '%s@%s\n' "$ref" "$LIST_DIGEST"
}

main "$@"
