#!/usr/bin/env bash
# Installs what the tests need: Debian packages (given as one space-separated argument) and the
# npm packages pinned in package.json. As root on Debian, or as a user with passwordless sudo (a
# GitHub-hosted runner), it installs them; otherwise it stops at once and names what is missing.
#
# When qemu-user-static is among the packages, it also registers user-mode emulation with the
# kernel's binfmt_misc for every platform in EMULATED_PLATFORMS (default linux/amd64,linux/arm64)
# that is not this machine's own, so foreign-architecture images build and run here; it fails
# with a message saying why when the kernel or the container it runs in does not allow it.
set -euo pipefail

cd "$(dirname "$0")/.."

missing_debian_packages() {
  local pkg
  for pkg in "$@"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# A package is not needed when the command it provides already comes from elsewhere (a CI
# runner's Docker Engine from docker-ce, say, which Debian's docker.io would conflict with).
provided_elsewhere() {
  case "$1" in
    docker.io) command -v dockerd >/dev/null 2>&1 ;;
    docker-compose) docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

install_debian_packages() {
  local -a requested wanted=() missing
  local pkg
  read -r -a requested <<<"$1"
  for pkg in "${requested[@]}"; do
    provided_elsewhere "$pkg" || wanted+=("$pkg")
  done
  if ! command -v node >/dev/null 2>&1; then wanted+=(nodejs npm); fi
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: not a Debian system (no dpkg-query); install by hand: ${wanted[*]}" >&2
    exit 1
  fi
  mapfile -t missing < <(missing_debian_packages "${wanted[@]}")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if ! can_be_root || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Root itself, or a user whose sudo needs no password (never prompts: CI has no stdin).
can_be_root() { [[ $(id -u) -eq 0 ]] || sudo -n true 2>/dev/null; }
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n env DEBIAN_FRONTEND=noninteractive "$@"; fi
}

# ------------------------------------------------------------ user-mode emulation (binfmt_misc)
readonly BINFMT_DIR=/proc/sys/fs/binfmt_misc

# Prints the qemu name of a Docker platform's architecture (linux/arm64 -> aarch64).
qemu_arch() {
  case "$1" in
    linux/amd64) echo x86_64 ;;
    linux/arm64 | linux/arm64/v8) echo aarch64 ;;
    *)
      echo "deps: EMULATED_PLATFORMS: $1 is not one this project builds (linux/amd64, linux/arm64)" >&2
      return 1
      ;;
  esac
}

emulation_fail() {
  echo "deps: cannot register $1 emulation: $2" >&2
  echo "deps: building and testing the image for $1 needs it; run make deps as root or with passwordless sudo" \
    "on a host (or a --privileged container) that may mount binfmt_misc and write its register file" >&2
  exit 1
}

# The kernel's binfmt_misc documentation (docs.kernel.org/admin-guide/binfmt-misc.html):
# "First you must mount binfmt_misc: mount binfmt_misc -t binfmt_misc /proc/sys/fs/binfmt_misc"
# and, to register, "echo it to /proc/sys/fs/binfmt_misc/register". Debian's and Ubuntu's
# qemu-user-static ship that line in /usr/lib/binfmt.d/qemu-<arch>.conf (what systemd-binfmt
# loads at boot on a host with systemd; a container without systemd never loads it).
# Flag F matters for containers: "the F mode opens the binary as soon as the emulation is
# installed and uses the opened image to spawn the emulator, meaning it is always available
# once installed, regardless of how the environment changes" (same page), so a container's
# root file system needs no qemu binary of its own.
register_emulation() {
  local platform="$1" arch entry conf
  arch="$(qemu_arch "$platform")" || exit 1
  entry="$BINFMT_DIR/qemu-$arch"
  if [[ ! -e "$BINFMT_DIR/register" ]]; then
    can_be_root || emulation_fail "$platform" "binfmt_misc is not mounted and this user is neither root nor has passwordless sudo"
    as_root mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" 2>/dev/null ||
      emulation_fail "$platform" "mount -t binfmt_misc failed (a container without CAP_SYS_ADMIN cannot mount it)"
  fi
  if [[ ! -e "$entry" ]]; then
    conf=""
    for conf in "/usr/lib/binfmt.d/qemu-$arch.conf" "/usr/lib/binfmt.d/qemu-$arch-static.conf"; do
      [[ -r "$conf" ]] && break
      conf=""
    done
    [[ -n "$conf" ]] || emulation_fail "$platform" "no /usr/lib/binfmt.d/qemu-$arch.conf (is qemu-user-static installed?)"
    can_be_root || emulation_fail "$platform" "registering needs root or passwordless sudo"
    # One short line, so tee hands it to the kernel in one write(2): one registration.
    grep -m 1 -v '^#' "$conf" | as_root tee "$BINFMT_DIR/register" >/dev/null 2>&1 ||
      emulation_fail "$platform" "writing $conf to $BINFMT_DIR/register was refused"
  fi
  if [[ "$(head -n 1 "$entry" 2>/dev/null)" != enabled ]]; then
    can_be_root || emulation_fail "$platform" "$entry is disabled and enabling it needs root or passwordless sudo"
    echo 1 | as_root tee "$entry" >/dev/null 2>&1 || emulation_fail "$platform" "cannot enable $entry"
  fi
  [[ "$(head -n 1 "$entry")" == enabled ]] || emulation_fail "$platform" "$entry is still not enabled"
  grep -q '^flags: .*F' "$entry" ||
    emulation_fail "$platform" "$entry lacks flag F (fix binary), so containers cannot find the interpreter: remove it (echo -1 > $entry) and run make deps again"
  local interpreter
  interpreter="$(awk '$1 == "interpreter" { print $2 }' "$entry")"
  echo "deps: $platform emulation registered ($entry, interpreter $interpreter)"
}

# Registers emulation for every platform in EMULATED_PLATFORMS that this machine does not run natively.
register_foreign_platforms() {
  local native platform
  native="$(uname -m)"
  IFS=',' read -r -a platforms <<<"${EMULATED_PLATFORMS:-linux/amd64,linux/arm64}"
  for platform in "${platforms[@]}"; do
    [[ "$(qemu_arch "$platform")" == "$native" ]] && continue
    register_emulation "$platform"
  done
}

install_npm_packages() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "deps: npm is missing (apt-get install npm)" >&2
    exit 1
  fi
  # package-lock.json pins every version; install again only when it changed since.
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "deps: npm ci"
    npm ci --no-audit --no-fund
  fi
}

install_debian_packages "${1:-}"
if [[ " ${1:-} " == *" qemu-user-static "* ]]; then
  register_foreign_platforms
fi
install_npm_packages
echo "deps: all present"
