#!/usr/bin/env bash
# Make the build stage's base image (debian:bookworm-slim) available to the local engine,
# for one platform, under a tag of its own: <BASE_IMAGE>-<arch>, e.g.
# debian:bookworm-slim-amd64 and debian:bookworm-slim-arm64, so the two never overwrite
# each other. For the engine's own platform the plain BASE_IMAGE tag is made too (the
# Dockerfile's default stage and the legacy builder name it).
#
# Order: already present with the right architecture -> nothing to do; a registry answers
# -> `docker pull --platform` of the digest docker/base.Dockerfile pins for BASE_IMAGE (so
# every image fetched from a registry, on a runner or a laptop, is the one Dependabot keeps
# current, never whatever the tag points to that day); otherwise (air-gapped hosts, CI without a registry) build the
# same thing from the Debian mirror: `debootstrap --variant=minbase --arch`, trim it like the
# official slim image (apt lists, docs, man pages, locales) and turn the tree into an image
# with a BuildKit `FROM scratch` + `ADD rootfs.tar /` build for that platform.
# (`docker import --platform` on Debian's docker 20.10 ignores the platform and records the
# host's architecture, so it is not used.) A foreign platform needs user-mode emulation
# (qemu-user-static registered with binfmt_misc: `make deps`) for debootstrap's second stage
# and for the build stage that runs on this base.
#
# Prints the platform's tag on stdout when done; everything else goes to stderr.
#
# Knobs: PLATFORM (default: the engine's own, e.g. linux/amd64), BASE_IMAGE (default
#        debian:bookworm-slim), SUITE (bookworm), DEBIAN_MIRROR / SECURITY_MIRROR (default:
#        what this host's apt sources use), PULL_TIMEOUT (seconds, default 30),
#        FORCE_BOOTSTRAP=1 (skip the pull attempt), DOCKER_CLI (see docker/buildkit-cli.sh),
#        BASE_DOCKERFILE (where the pin is read: docker/base.Dockerfile).
set -euo pipefail

readonly BASE_IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"
readonly SUITE="${SUITE:-bookworm}"
readonly PULL_TIMEOUT="${PULL_TIMEOUT:-30}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly BASE_DOCKERFILE="${BASE_DOCKERFILE:-$SCRIPT_DIR/base.Dockerfile}"
# Set by main: the platform, its Docker and Debian architecture names, the tag to make.
PLATFORM="${PLATFORM:-}"
ARCH=""
DEB_ARCH=""
PLATFORM_TAG=""
NATIVE=0

log() { printf 'bootstrap-base: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# Prints the first apt source URI on this host whose path matches $1 (a regex), if any.
host_mirror() {
  local pattern="$1" file
  for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$file" ]] || continue
    cat "$file"
  done | awk -v pat="$pattern" '
      found || /^[[:space:]]*#/ { next }
      /^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ pat) { print $i; found = 1; next } }
      /^deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/ && $i ~ pat) { print $i; found = 1; next } }'
  return 0
}

# Prints the os/architecture an image records ("" when the tag is absent).
image_platform() {
  docker image inspect -f '{{.Os}}/{{.Architecture}}' "$1" 2>/dev/null || true
}

# The platform's tag exists and holds an image of that platform. A tag that names the
# wrong architecture (an amd64 image under the arm64 tag) counts as missing.
platform_image_present() { [[ "$(image_platform "$PLATFORM_TAG")" == "$PLATFORM" ]]; }

# The registry reference to pull for BASE_IMAGE: the image@sha256 docker/base.Dockerfile pins
# when its repository:tag is BASE_IMAGE, else BASE_IMAGE itself (a base the pin does not cover).
pull_ref() {
  local pinned
  pinned="$("$SCRIPT_DIR/base-pin.sh" "$BASE_DOCKERFILE" 2>/dev/null || true)"
  if [[ -n "$pinned" && "${pinned%@*}" == "$BASE_IMAGE" ]]; then
    printf '%s\n' "$pinned"
  else
    printf '%s\n' "$BASE_IMAGE"
  fi
}

# Pull the platform's image and tag it as the platform's tag. A pull by digest leaves every tag
# alone; a pull by tag names the local image after the remote one, so pulling another platform
# would overwrite the host's BASE_IMAGE tag: put the plain tag back as it was.
# docker-image-pull(1): "docker image pull [OPTIONS] NAME[:TAG|@DIGEST]", "--platform: Set
# platform if server is multi-platform capable"; docs.docker.com (Image digests): "if you pull
# an image using its digest, you can be confident that you are retrieving exactly the same image
# that was originally built". The pin is the digest of debian's multi-platform index, so one pin
# serves both platforms. moby#43188: two platforms pulled by one index digest collide on the
# digest reference ("Cannot overwrite digest"), hence the platform tag taken at once.
try_pull() {
  [[ "${FORCE_BOOTSTRAP:-0}" == 1 ]] && return 1
  local previous ref rc=0
  ref="$(pull_ref)"
  previous="$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)"
  log "trying docker pull --platform $PLATFORM $ref (timeout ${PULL_TIMEOUT}s)"
  timeout "$PULL_TIMEOUT" docker pull --platform "$PLATFORM" "$ref" >&2 || rc=$?
  if ((rc == 0)) && [[ "$(image_platform "$ref")" == "$PLATFORM" ]]; then
    docker tag "$ref" "$PLATFORM_TAG"
  elif ((rc == 0)); then
    log "the registry served $(image_platform "$ref"), not $PLATFORM"
    rc=1
  fi
  if ((NATIVE == 0)) && [[ "$ref" == "$BASE_IMAGE" ]]; then
    if [[ -n "$previous" ]]; then
      docker tag "$previous" "$BASE_IMAGE"
    else
      docker rmi "$BASE_IMAGE" >/dev/null 2>&1 || true
    fi
  fi
  ((rc == 0)) && return 0
  log "no registry answered; building $PLATFORM_TAG from the Debian mirror instead"
  return 1
}

ROOTFS=""
# Unmount anything debootstrap left mounted inside the target before deleting it,
# so a failed run can never delete through a bind mount.
cleanup() {
  [[ -n "$ROOTFS" && -d "$ROOTFS" ]] || return 0
  local target
  awk -v root="$ROOTFS/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r target; do umount -l "$target" || true; done
  rm -rf --one-file-system "$ROOTFS"
}

# Trim the tree the way the official slim image is trimmed, and keep it trimmed
# for packages installed later in the build stage.
trim_rootfs() {
  local root="$1"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/usr/share/groff/* "$root"/usr/share/lintian/* "$root"/usr/share/locale/*
  find "$root"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
  find "$root"/usr/share/doc -mindepth 1 -type d -empty -delete
  mkdir -p "$root"/etc/dpkg/dpkg.cfg.d "$root"/etc/apt/apt.conf.d
  cat >"$root"/etc/dpkg/dpkg.cfg.d/docker <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  cat >"$root"/etc/apt/apt.conf.d/docker-clean <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT::Install-Recommends "false";
EOF
  # The image has no hostname or resolver of its own; the engine provides both.
  : >"$root"/etc/hostname
  rm -f "$root"/etc/resolv.conf
}

write_sources() {
  local root="$1" mirror="$2" security="$3"
  rm -f "$root"/etc/apt/sources.list
  cat >"$root"/etc/apt/sources.list.d/debian.sources <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# Maps a Docker platform to its architecture names: sets ARCH (Docker's: amd64, arm64)
# and DEB_ARCH (Debian's), or fails naming the platforms it knows.
set_platform() {
  PLATFORM="$1"
  case "$PLATFORM" in
    linux/amd64) ARCH=amd64 DEB_ARCH=amd64 ;;
    linux/arm64 | linux/arm64/v8) PLATFORM=linux/arm64 ARCH=arm64 DEB_ARCH=arm64 ;;
    *) die "PLATFORM=$PLATFORM is not one this script builds (linux/amd64, linux/arm64)" ;;
  esac
  PLATFORM_TAG="$BASE_IMAGE-$ARCH"
}

# A foreign platform needs its binfmt_misc entry; say how to get it before debootstrap
# fails halfway with "exec format error".
require_emulation() {
  local qemu_arch entry
  case "$ARCH" in
    amd64) qemu_arch=x86_64 ;;
    arm64) qemu_arch=aarch64 ;;
  esac
  entry="/proc/sys/fs/binfmt_misc/qemu-$qemu_arch"
  if [[ ! -r "$entry" ]] || [[ "$(head -n 1 "$entry")" != enabled ]]; then
    die "$PLATFORM binaries cannot run here: no enabled $entry. Register user-mode emulation with make deps (scripts/deps.sh: qemu-user-static + binfmt_misc)"
  fi
}

bootstrap_and_import() {
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found: install the Debian package debootstrap (make deps)"
  [[ "$(id -u)" == 0 ]] || die "debootstrap needs root (it creates device nodes and chroots)"
  ((NATIVE == 1)) || require_emulation
  local mirror security cli
  cli="$("$SCRIPT_DIR/buildkit-cli.sh")" || die "no docker CLI can build the image for $PLATFORM (see above)"
  mirror="${DEBIAN_MIRROR:-$(host_mirror '/debian/?$')}"
  mirror="${mirror:-http://deb.debian.org/debian}"
  security="${SECURITY_MIRROR:-$(host_mirror '/debian-security/?$')}"
  security="${security:-http://deb.debian.org/debian-security}"

  ROOTFS="$(mktemp -d /tmp/bootstrap-base.XXXXXX)"
  trap cleanup EXIT
  log "debootstrap --variant=minbase --arch=$DEB_ARCH $SUITE from $mirror"
  debootstrap --variant=minbase --arch="$DEB_ARCH" "$SUITE" "$ROOTFS/rootfs" "$mirror" >"$ROOTFS/debootstrap.log" 2>&1 || {
    tail -n 20 "$ROOTFS/debootstrap.log" >&2
    die "debootstrap failed (mirror $mirror, arch $DEB_ARCH)"
  }
  write_sources "$ROOTFS/rootfs" "$mirror" "$security"
  trim_rootfs "$ROOTFS/rootfs"
  # The engine provides /dev, /proc and /sys at run time; the tree's device nodes stay out.
  mkdir "$ROOTFS/context"
  tar --numeric-owner -C "$ROOTFS/rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -cf "$ROOTFS/context/rootfs.tar" .
  cat >"$ROOTFS/context/Dockerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["bash"]
EOF
  log "building $PLATFORM_TAG from the tree (FROM scratch + ADD rootfs.tar, --platform $PLATFORM, $cli)"
  DOCKER_BUILDKIT=1 "$cli" build --platform "$PLATFORM" \
    --label "org.opencontainers.image.description=debootstrap --variant=minbase $SUITE ($DEB_ARCH) from $mirror, trimmed" \
    -t "$PLATFORM_TAG" "$ROOTFS/context" >"$ROOTFS/build.log" 2>&1 || {
    tail -n 20 "$ROOTFS/build.log" >&2
    die "building $PLATFORM_TAG failed"
  }
}

# The image runs: its own `uname -m` (through emulation for a foreign platform) names the
# architecture the tag promises.
prove_runs() {
  local want got
  case "$ARCH" in amd64) want=x86_64 ;; arm64) want=aarch64 ;; esac
  got="$(timeout 60 docker run --rm --platform "$PLATFORM" --network none "$PLATFORM_TAG" uname -m 2>&1)" ||
    die "docker run --platform $PLATFORM $PLATFORM_TAG uname -m failed: $got"
  [[ "$got" == "$want" ]] || die "$PLATFORM_TAG runs as '$got', not $want"
}

main() {
  command -v docker >/dev/null 2>&1 || die "docker not found: install the Debian package docker.io (make deps)"
  timeout 10 docker info >/dev/null 2>&1 || die "no Docker engine answers: run docker/engine.sh start"
  local engine_platform
  engine_platform="linux/$(docker version -f '{{.Server.Arch}}')"
  set_platform "${PLATFORM:-$engine_platform}"
  [[ "$PLATFORM" == "$engine_platform" ]] && NATIVE=1
  if platform_image_present; then
    log "$PLATFORM_TAG ($PLATFORM) is already present; nothing to do"
  else
    if [[ -n "$(image_platform "$PLATFORM_TAG")" ]]; then
      log "$PLATFORM_TAG holds a $(image_platform "$PLATFORM_TAG") image, not $PLATFORM: replacing it"
    fi
    if ! try_pull; then
      bootstrap_and_import
    fi
    platform_image_present || die "$PLATFORM_TAG is still missing or not $PLATFORM (it is '$(image_platform "$PLATFORM_TAG")')"
    prove_runs
    log "$PLATFORM_TAG ready ($PLATFORM): $(docker image ls --format '{{.Size}}' "$PLATFORM_TAG")"
  fi
  # The host's own platform also answers to the plain name, which the Dockerfile's default
  # stage names; a foreign platform never takes it.
  if ((NATIVE == 1)) && [[ "$(image_platform "$BASE_IMAGE")" != "$PLATFORM" ]]; then
    docker tag "$PLATFORM_TAG" "$BASE_IMAGE"
  fi
  printf '%s\n' "$PLATFORM_TAG"
}

main "$@"
