#!/usr/bin/env bash
# Make the build stage's base image (debian:bookworm-slim) available to the local engine.
#
# Order: already present -> nothing to do; a registry answers -> `docker pull`;
# otherwise (air-gapped hosts, CI without a registry) build the same thing from the
# Debian mirror: `debootstrap --variant=minbase`, trim it like the official slim image
# (apt lists, docs, man pages, locales) and `docker import` it under the same name.
#
# Knobs: BASE_IMAGE (default debian:bookworm-slim), SUITE (bookworm),
#        DEBIAN_MIRROR / SECURITY_MIRROR (default: what this host's apt sources use),
#        PULL_TIMEOUT (seconds, default 30), FORCE_BOOTSTRAP=1 (skip the pull attempt).
set -euo pipefail

readonly BASE_IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"
readonly SUITE="${SUITE:-bookworm}"
readonly PULL_TIMEOUT="${PULL_TIMEOUT:-30}"

log() { printf 'bootstrap-base: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

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

image_present() { docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; }

try_pull() {
  [[ "${FORCE_BOOTSTRAP:-0}" == 1 ]] && return 1
  log "trying docker pull $BASE_IMAGE (timeout ${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" docker pull "$BASE_IMAGE" >&2; then
    return 0
  fi
  log "no registry answered; building $BASE_IMAGE from the Debian mirror instead"
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

bootstrap_and_import() {
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found: install the Debian package debootstrap (make deps)"
  [[ "$(id -u)" == 0 ]] || die "debootstrap needs root (it creates device nodes and chroots)"
  local mirror security arch
  mirror="${DEBIAN_MIRROR:-$(host_mirror '/debian/?$')}"
  mirror="${mirror:-http://deb.debian.org/debian}"
  security="${SECURITY_MIRROR:-$(host_mirror '/debian-security/?$')}"
  security="${security:-http://deb.debian.org/debian-security}"
  arch="$(dpkg --print-architecture)"

  ROOTFS="$(mktemp -d /tmp/bootstrap-base.XXXXXX)"
  trap cleanup EXIT
  log "debootstrap --variant=minbase $SUITE ($arch) from $mirror"
  debootstrap --variant=minbase --arch="$arch" "$SUITE" "$ROOTFS" "$mirror" >"$ROOTFS.log" 2>&1 || {
    tail -n 20 "$ROOTFS.log" >&2
    rm -f "$ROOTFS.log"
    die "debootstrap failed (mirror $mirror)"
  }
  rm -f "$ROOTFS.log"
  write_sources "$ROOTFS" "$mirror" "$security"
  trim_rootfs "$ROOTFS"
  log "importing the root filesystem as $BASE_IMAGE"
  tar --numeric-owner -C "$ROOTFS" -c . |
    docker import \
      --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --message "debootstrap --variant=minbase $SUITE from $mirror, trimmed" \
      - "$BASE_IMAGE" >/dev/null
}

main() {
  command -v docker >/dev/null 2>&1 || die "docker not found: install the Debian package docker.io (make deps)"
  timeout 10 docker info >/dev/null 2>&1 || die "no Docker engine answers: run docker/engine.sh start"
  if image_present; then
    log "$BASE_IMAGE is already present; nothing to do"
    return 0
  fi
  if ! try_pull; then
    bootstrap_and_import
  fi
  image_present || die "$BASE_IMAGE is still missing"
  log "$BASE_IMAGE ready: $(docker image ls --format '{{.Size}}' "$BASE_IMAGE")"
}

main "$@"
