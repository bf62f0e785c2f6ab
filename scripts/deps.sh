#!/usr/bin/env bash
# Installs what the tests need: Debian packages (given as one space-separated argument) and the
# npm packages pinned in package.json. As root on Debian it installs them; otherwise it stops at
# once and names what is missing.
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
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
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
install_npm_packages
echo "deps: all present"
