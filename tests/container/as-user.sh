#!/usr/bin/env bash
# Runs tests/container/run.sh as an unprivileged user with passwordless sudo who may use the
# Docker engine: the shape of a GitHub-hosted runner's `runner`, where `make test` is not root.
#
# Usage: IMAGE_REF=... IMAGE_COMMIT=... tests/container/as-user.sh   (make test-container-user)
#
# Already unprivileged: runs run.sh as this user. As root: creates the user hc-runner (in the
# docker group, with a sudoers drop-in NOPASSWD: ALL, as on a runner) when it does not exist,
# runs run.sh as that user, and removes what it created on exit. The sections it runs by default
# are those that need the host's root (nsenter, signalling container processes, reading
# /proc/PID/exe, a root-owned bind mount); CONTAINER_TESTS picks others.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly RUNNER_USER="${RUNNER_USER:-hc-runner}"
readonly SUDOERS_FILE="/etc/sudoers.d/$RUNNER_USER-container-test"
export CONTAINER_TESTS="${CONTAINER_TESTS:-hardened_run_and_contract runtime_dir stop_under_load health}"

CREATED_USER=0
CREATED_SUDOERS=0
HOME_DIR=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  ((CREATED_SUDOERS == 0)) || rm -f "$SUDOERS_FILE"
  if ((CREATED_USER == 1)); then
    userdel "$RUNNER_USER" >/dev/null 2>&1 || true
    rm -rf "$HOME_DIR"
  fi
}
trap cleanup EXIT

if [[ "$(id -u)" != 0 ]]; then
  echo "as-user: already unprivileged ($(id -un)); running run.sh directly"
  exec "$REPO_ROOT/tests/container/run.sh"
fi

for tool in sudo useradd userdel visudo; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "as-user: $tool not found: install the Debian packages sudo and passwd (make deps)" >&2
    exit 1
  }
done
getent group docker >/dev/null || {
  echo "as-user: no docker group: the engine's socket must be reachable by a group (Debian's docker.io creates it)" >&2
  exit 1
}
[[ "$(stat -c %G /var/run/docker.sock 2>/dev/null)" == docker ]] ||
  {
    echo "as-user: /var/run/docker.sock is not group docker: a non-root user cannot reach this engine" >&2
    exit 1
  }

if ! id "$RUNNER_USER" >/dev/null 2>&1; then
  HOME_DIR="$(mktemp -d /tmp/hc-runner-home.XXXXXX)"
  useradd --home-dir "$HOME_DIR" --no-create-home --groups docker --shell /bin/bash "$RUNNER_USER"
  chown "$RUNNER_USER:" "$HOME_DIR"
  CREATED_USER=1
fi
if [[ ! -e "$SUDOERS_FILE" ]]; then
  printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$RUNNER_USER" >"$SUDOERS_FILE.tmp"
  chmod 0440 "$SUDOERS_FILE.tmp"
  visudo -cf "$SUDOERS_FILE.tmp" >/dev/null || {
    rm -f "$SUDOERS_FILE.tmp"
    echo "as-user: the sudoers line does not parse" >&2
    exit 1
  }
  mv "$SUDOERS_FILE.tmp" "$SUDOERS_FILE"
  CREATED_SUDOERS=1
fi

echo "as-user: running tests/container/run.sh as $RUNNER_USER (uid $(id -u "$RUNNER_USER"), groups $(id -Gn "$RUNNER_USER" | tr ' ' ','), passwordless sudo)"
# No `exec`: the trap removes the user afterwards. -H: the user's own HOME for docker's config.
rc=0
sudo -u "$RUNNER_USER" -H env IMAGE_REF="${IMAGE_REF:?IMAGE_REF is required}" IMAGE_COMMIT="${IMAGE_COMMIT:-}" \
  IMAGE_VERSION="${IMAGE_VERSION:-}" COMPOSE="${COMPOSE:-}" EXPECT_PLATFORM="${EXPECT_PLATFORM:-}" \
  CONTAINER_TESTS="$CONTAINER_TESTS" PATH="$PATH" "$REPO_ROOT/tests/container/run.sh" || rc=$?
exit "$rc"
