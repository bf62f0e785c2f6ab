#!/usr/bin/env bash
# Prints the path of a docker CLI that can run `DOCKER_BUILDKIT=1 docker build --platform ...`
# against the local engine, or exits 1 naming what to install.
#
# Two kinds of CLI qualify:
#   - any CLI with the buildx plugin (docker-ce on a GitHub runner): `docker build` is buildx;
#   - a CLI older than 23.0 (Debian 12's docker.io, /usr/bin/docker, 20.10): with
#     DOCKER_BUILDKIT=1 it talks to the engine's built-in BuildKit and needs no plugin.
# A CLI of 23.0 or newer without buildx does not: "BuildKit is enabled but the buildx
# component is missing or broken". Such a CLI (e.g. in /usr/local/bin) can shadow Debian's
# on PATH, so every docker on PATH is tried, then /usr/bin/docker.
# Knob: DOCKER_CLI (a path) skips the search and is only checked.
set -euo pipefail

# usable CLI: buildx plugin present, or a client major version below 23.
usable() {
  local cli="$1" version
  [[ -x "$cli" ]] || return 1
  "$cli" buildx version >/dev/null 2>&1 && return 0
  version="$("$cli" version --format '{{.Client.Version}}' 2>/dev/null || true)"
  [[ "$version" =~ ^([0-9]+)\. ]] && ((BASH_REMATCH[1] < 23))
}

main() {
  local cli
  if [[ -n "${DOCKER_CLI:-}" ]]; then
    usable "$DOCKER_CLI" && {
      printf '%s\n' "$DOCKER_CLI"
      return 0
    }
    printf 'buildkit-cli: DOCKER_CLI=%s can run no BuildKit build (no buildx plugin, client >= 23)\n' "$DOCKER_CLI" >&2
    return 1
  fi
  while read -r cli; do
    usable "$cli" && {
      printf '%s\n' "$cli"
      return 0
    }
  done < <(
    type -ap docker
    echo /usr/bin/docker
  )
  printf '%s\n' "buildkit-cli: no docker CLI here can run a BuildKit build: install the buildx plugin" \
    "(docker-buildx-plugin with docker-ce) or Debian's docker.io (its /usr/bin/docker 20.10 uses the engine's BuildKit)" >&2
  return 1
}

main "$@"
