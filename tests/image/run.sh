#!/usr/bin/env bash
# The image's package metadata (make test-image-metadata), offline.
#
#   IMAGE_REF=hello-cluster:TAG BUILD_REF=hello-cluster-build:TAG tests/image/run.sh
#
# IMAGE_REF is the final image, BUILD_REF its build stage (docker build --target build). The
# final image's files are exported and checked against its /var/lib/dpkg/status.d/ entries and
# against the dpkg database of the build stage (check_metadata.py); then copies with the
# metadata broken in one way each must be rejected, so the check can fail. Where trivy is
# installed, `make scan` must also count more than zero OS packages (it fails otherwise).
# Ends with "N passed, M failed".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
readonly CHECK="$ROOT/tests/image/check_metadata.py"
readonly IMAGE_REF="${IMAGE_REF:?set IMAGE_REF to the image (make test-image-metadata does)}"
readonly BUILD_REF="${BUILD_REF:?set BUILD_REF to the image of its build stage (make test-image-metadata does)}"
# Built from this repository's sources: no package owns it.
readonly OWN_FILES=(/usr/local/bin/hello)

container=""
TMP="$(mktemp -d)"
readonly TMP
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [[ -n "$container" ]]; then docker rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# pass, fail, expect_failure, summary
# shellcheck source=tests/lib/checks.sh
. "$ROOT/tests/lib/checks.sh"
check_metadata() { python3 "$CHECK" "$1" "$TMP/versions" "$TMP/md5sums" "${OWN_FILES[@]}"; }

# expect_rejected NAME TEXT ROOTFS: the check must fail on ROOTFS and say TEXT.
expect_rejected() { expect_failure "$1" "$2" check_metadata "$3"; }

# broken NAME: a copy of the image's root filesystem to break.
broken() {
  rm -rf "${TMP:?}/$1"
  cp -a "$TMP/rootfs" "$TMP/$1"
  printf '%s\n' "$TMP/$1"
}

main() {
  command -v docker >/dev/null 2>&1 || {
    echo "test-image-metadata: docker not found" >&2
    exit 1
  }
  docker image inspect "$IMAGE_REF" >/dev/null || {
    echo "test-image-metadata: no image $IMAGE_REF: make image" >&2
    exit 1
  }
  docker image inspect "$BUILD_REF" >/dev/null || {
    echo "test-image-metadata: no image $BUILD_REF (the build stage)" >&2
    exit 1
  }

  mkdir -p "$TMP/rootfs"
  container="$(docker create "$IMAGE_REF")"
  docker export "$container" | tar -x -C "$TMP/rootfs" --no-same-owner --exclude='dev/*'
  # The build stage's dpkg database: versions, and every md5sum each package recorded.
  # shellcheck disable=SC2016 # expanded by the build stage's shell
  docker run --rm --network none --entrypoint /bin/bash "$BUILD_REF" -c \
    'dpkg-query -W -f="\${Package}\t\${Version}\t\${Architecture}\n"' >"$TMP/versions"
  # shellcheck disable=SC2016
  docker run --rm --network none --entrypoint /bin/bash "$BUILD_REF" -c \
    'for f in /var/lib/dpkg/info/*.md5sums; do p="${f##*/}"; sed "s|^|${p%.md5sums}\t|" "$f"; done' >"$TMP/md5sums"

  echo "== $IMAGE_REF against its build stage $BUILD_REF"
  if check_metadata "$TMP/rootfs" >"$TMP/out" 2>&1; then
    pass "$(tail -n1 "$TMP/out")"
  else
    fail "the image's package metadata"
    tail -n 20 "$TMP/out" | sed 's/^/    | /'
  fi

  echo "== broken metadata is rejected"
  local dir
  dir="$(broken no-metadata)"
  rm -rf "$dir/var/lib/dpkg" "$dir/etc/debian_version"
  expect_rejected "an image without metadata (what trivy calls \"OS is not detected\")" \
    "/var/lib/dpkg/status.d/ is missing or empty" "$dir"
  dir="$(broken missing-package)"
  rm -f "$dir/var/lib/dpkg/status.d/libssl3" "$dir/var/lib/dpkg/status.d/libssl3.md5sums"
  expect_rejected "a copied library whose package is not listed" \
    "/lib/x86_64-linux-gnu/libssl.so.3 belongs to no listed package" "$dir"
  dir="$(broken wrong-version)"
  sed -i 's/^Version: .*/Version: 0.0-0/' "$dir/var/lib/dpkg/status.d/libc6"
  expect_rejected "a package listed at another version than the build stage installed" \
    "status.d/libc6: 0.0-0" "$dir"
  dir="$(broken extra-package)"
  printf 'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b7\nArchitecture: amd64\n' \
    >"$dir/var/lib/dpkg/status.d/bash"
  printf '%s  bin/bash\n' "$(printf '0%.0s' {1..32})" >"$dir/var/lib/dpkg/status.d/bash.md5sums"
  expect_rejected "a listed package none of whose files the image holds" \
    "bash.md5sums lists /bin/bash, which the image does not contain" "$dir"
  dir="$(broken changed-file)"
  printf 'x' >>"$dir/usr/sbin/nginx"
  expect_rejected "a binary that is not the package's file" "/usr/sbin/nginx: md5" "$dir"

  echo "== the scanner counts OS packages"
  if command -v trivy >/dev/null 2>&1; then
    if make --no-print-directory -C "$ROOT" scan SCAN_IMAGE="$IMAGE_REF" >"$TMP/out" 2>&1 &&
      grep -qE '^scan: [1-9][0-9]* OS package' "$TMP/out"; then
      pass "$(grep -m1 -E '^scan: [0-9]+ OS package' "$TMP/out" | cut -c1-160)"
    else
      fail "make scan on $IMAGE_REF does not count more than zero OS packages"
      tail -n 20 "$TMP/out" | sed 's/^/    | /'
    fi
  else
    echo "note - trivy is not installed here, so the live count is not taken; make scan (CI's image job, and the weekly scan) fails whenever trivy detects no OS package"
  fi

  summary
}

main "$@"
