#!/usr/bin/env bash
# Proves docker/bootstrap-base.sh keeps one build base per platform: the platform's tag
# (<BASE_IMAGE>-<arch>) holds an image of that platform, a foreign platform never takes the
# host's plain tag, a tag holding the wrong architecture is not accepted, and an unknown
# platform is refused, and a registry pull names the pinned digest. Works on throw-away names (hc-bb-<pid>/base) tagged from the real bases,
# which it makes first (instantly when present; debootstrap otherwise).
#
# Usage: tests/container/bootstrap-base.sh   (make test-bootstrap-base)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly SCRIPT="$REPO_ROOT/docker/bootstrap-base.sh"
readonly NAME="hc-bb-$$/base:slim"
WORK="$(mktemp -d)"

# shellcheck source=tests/lib/checks.sh
source "$REPO_ROOT/tests/lib/checks.sh"
note() { printf '     %s\n' "$*"; }

cleanup() {
  docker image ls --format '{{.Repository}}:{{.Tag}}' "hc-bb-$$/base" | xargs -r docker rmi >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

platform_of() { docker image inspect -f '{{.Os}}/{{.Architecture}}' "$1" 2>/dev/null || true; }
id_of() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# run_script LABEL [VAR=value...]: runs bootstrap-base.sh with the environment given; sets RC
# and OUT (its stdout); its stderr is in $WORK/LABEL.err.
run_script() {
  local label="$1"
  shift
  RC=0
  env BASE_IMAGE="$NAME" "$@" "$SCRIPT" >"$WORK/$label.out" 2>"$WORK/$label.err" || RC=$?
  OUT="$(cat "$WORK/$label.out")"
}

main() {
  local host_arch foreign_arch host_base foreign_base before
  host_arch="$(docker version -f '{{.Server.Arch}}')"
  case "$host_arch" in
    amd64) foreign_arch=arm64 ;;
    arm64) foreign_arch=amd64 ;;
    *)
      echo "bootstrap-base test: host architecture $host_arch is not amd64 or arm64" >&2
      exit 1
      ;;
  esac
  echo "== the real bases (debian:bookworm-slim-$host_arch, -$foreign_arch)"
  host_base="$("$SCRIPT" 2>"$WORK/real-host.err")" || {
    cat "$WORK/real-host.err" >&2
    exit 1
  }
  foreign_base="$(PLATFORM="linux/$foreign_arch" "$SCRIPT" 2>"$WORK/real-foreign.err")" ||
    {
      cat "$WORK/real-foreign.err" >&2
      exit 1
    }
  check "$host_base is linux/$host_arch" test "$(platform_of "$host_base")" == "linux/$host_arch"
  check "$foreign_base is linux/$foreign_arch" test "$(platform_of "$foreign_base")" == "linux/$foreign_arch"

  echo "== host platform: the platform tag, and the plain tag the Dockerfile's default names"
  docker tag "$host_base" "$NAME-$host_arch"
  run_script host
  check "exit 0 and prints the platform's tag $NAME-$host_arch (got '$OUT', exit $RC)" \
    test "$RC" -eq 0 -a "$OUT" == "$NAME-$host_arch"
  check "the plain tag $NAME now names the host's image" test "$(id_of "$NAME")" == "$(id_of "$host_base")"

  echo "== foreign platform: its own tag, and the host's plain tag untouched"
  docker tag "$foreign_base" "$NAME-$foreign_arch"
  before="$(id_of "$NAME")"
  run_script foreign PLATFORM="linux/$foreign_arch"
  check "exit 0 and prints $NAME-$foreign_arch (got '$OUT', exit $RC)" \
    test "$RC" -eq 0 -a "$OUT" == "$NAME-$foreign_arch"
  check "$NAME-$foreign_arch is linux/$foreign_arch" test "$(platform_of "$NAME-$foreign_arch")" == "linux/$foreign_arch"
  check "the plain tag $NAME is still the host's image" test "$(id_of "$NAME")" == "$before"

  echo "== a tag holding the wrong architecture is not taken for the platform's base"
  docker tag "$host_base" "$NAME-$foreign_arch"
  # No registry (FORCE_BOOTSTRAP) and a mirror that refuses at once: the script must try to
  # replace the tag, fail, and say so, rather than print a tag of the wrong architecture.
  run_script wrong PLATFORM="linux/$foreign_arch" FORCE_BOOTSTRAP=1 DEBIAN_MIRROR=http://127.0.0.1:9/debian
  check "exits non-zero (exit $RC) and prints no tag (got '$OUT')" test "$RC" -ne 0 -a -z "$OUT"
  check "says the tag holds linux/$host_arch, not linux/$foreign_arch" \
    grep -q "holds a linux/$host_arch image, not linux/$foreign_arch" "$WORK/wrong.err"
  note "said: $(grep -m 1 'bootstrap-base: debootstrap failed\|bootstrap-base: .*cannot' "$WORK/wrong.err" || tail -n 1 "$WORK/wrong.err")"

  echo "== a registry pull asks for the digest docker/base.Dockerfile pins, not the moving tag"
  local pin
  pin="$NAME@sha256:$(printf '0%.0s' {1..64})"
  printf '# a pin\nFROM %s\n' "$pin" >"$WORK/base.Dockerfile"
  docker rmi "$NAME-$foreign_arch" >/dev/null 2>&1 || true
  run_script pinned PLATFORM="linux/$foreign_arch" BASE_DOCKERFILE="$WORK/base.Dockerfile" PULL_TIMEOUT=10 \
    DEBIAN_MIRROR=http://127.0.0.1:9/debian
  check "tried docker pull --platform linux/$foreign_arch $pin" \
    grep -qF "trying docker pull --platform linux/$foreign_arch $pin " "$WORK/pinned.err"
  check "the real pin covers the real base: $(sed -n 's/^FROM //p' "$REPO_ROOT/docker/base.Dockerfile")" \
    grep -qE '^FROM debian:bookworm-slim@sha256:[0-9a-f]{64}$' "$REPO_ROOT/docker/base.Dockerfile"
  run_script unpinned PLATFORM="linux/$foreign_arch" BASE_DOCKERFILE=/nonexistent PULL_TIMEOUT=10 \
    DEBIAN_MIRROR=http://127.0.0.1:9/debian
  check "without a pin for it, a base is pulled by its tag" \
    grep -qF "trying docker pull --platform linux/$foreign_arch $NAME " "$WORK/unpinned.err"

  echo "== a platform this project does not build"
  run_script unknown PLATFORM=linux/s390x
  check "PLATFORM=linux/s390x: exit non-zero (exit $RC), naming the platforms it builds" refused_platform
}

refused_platform() { [[ "$RC" -ne 0 ]] && grep -q "linux/amd64, linux/arm64" "$WORK/unknown.err"; }

main "$@"
echo
printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
((FAILED == 0))
