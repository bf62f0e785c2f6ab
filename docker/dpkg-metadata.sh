#!/usr/bin/env bash
# Give a FROM-scratch root filesystem the package metadata scanners read, for the Debian files
# copied into it (run in the build stage, where dpkg knows those files).
#
#   docker/dpkg-metadata.sh ROOTFS FILE...
#
# FILE is a path as copied into ROOTFS (the same path on both sides). For each, the owning
# package is looked up with dpkg, and the copy must be byte for byte that package's file (its
# md5sum as dpkg recorded it at install). Then, the distroless way, it writes
#   ROOTFS/var/lib/dpkg/status.d/PACKAGE          the package's dpkg status entry
#   ROOTFS/var/lib/dpkg/status.d/PACKAGE.md5sums  the copied files of PACKAGE, with md5sums
# and copies /etc/debian_version and /etc/os-release. Why each piece:
#   - trivy's dpkg analyzer reads "var/lib/dpkg/status.d/" and "status.d/*.md5sums path in
#     distroless images" (aquasecurity/trivy pkg/fanal/analyzer/pkg/dpkg/dpkg.go; distroless
#     PACKAGE_METADATA.md);
#   - trivy detects Debian from "etc/debian_version" (pkg/fanal/analyzer/os/debian/debian.go);
#     without it the report says "OS is not detected" and checks no OS package.
# Exits non-zero, naming the file, when a file belongs to no package or differs from it.
set -euo pipefail

die() {
  printf 'dpkg-metadata: %s\n' "$*" >&2
  exit 1
}

# Paths a file may be recorded under: as given, its real path, and the other side of the
# merged /usr (bookworm packages still list /lib/..., ldd may print /usr/lib/... or /lib64).
candidates() {
  local path="$1" real
  real="$(readlink -f "$path")"
  printf '%s\n' "$path" "$real"
  case "$real" in
    /usr/*) printf '%s\n' "${real#/usr}" ;;
    *) printf '/usr%s\n' "$real" ;;
  esac
}

# owner PATH: prints the package (with :arch when dpkg gives one) that owns PATH.
owner() {
  local candidate found
  while read -r candidate; do
    found="$(dpkg-query -S "$candidate" 2>/dev/null | grep -v '^diversion by' | head -n1 || true)"
    if [[ -n "$found" ]]; then
      printf '%s\n' "${found%%: /*}"
      return 0
    fi
  done < <(candidates "$1")
  return 1
}

# recorded_md5 PACKAGE PATH: the md5sum dpkg recorded for PATH (or its other names).
recorded_md5() {
  local pkg="$1" path="$2" list candidate sum
  list="/var/lib/dpkg/info/$pkg.md5sums"
  [[ -f "$list" ]] || list="/var/lib/dpkg/info/${pkg%%:*}.md5sums"
  [[ -f "$list" ]] || return 1
  while read -r candidate; do
    sum="$(awk -v p="${candidate#/}" '$2 == p { print $1; exit }' "$list")"
    if [[ -n "$sum" ]]; then
      printf '%s\n' "$sum"
      return 0
    fi
  done < <(candidates "$path")
  return 1
}

main() {
  (($# >= 2)) || die "usage: dpkg-metadata.sh ROOTFS FILE..."
  local root="$1" file pkg name recorded actual
  shift
  [[ -d "$root" ]] || die "$root is not a directory"
  local dir="$root/var/lib/dpkg/status.d"
  mkdir -p "$dir"
  declare -A packages=()
  for file in "$@"; do
    [[ -f "$root$file" ]] || die "$file is not in $root"
    pkg="$(owner "$file")" || die "$file belongs to no Debian package (dpkg -S)"
    recorded="$(recorded_md5 "$pkg" "$file")" || die "$pkg has no md5sum recorded for $file"
    actual="$(md5sum <"$root$file" | cut -d' ' -f1)"
    [[ "$actual" == "$recorded" ]] || die "$file in $root is not $pkg's file (md5 $actual, dpkg recorded $recorded)"
    name="${pkg%%:*}"
    printf '%s  %s\n' "$actual" "${file#/}" >>"$dir/$name.md5sums"
    packages[$name]="$pkg"
  done
  for name in "${!packages[@]}"; do
    dpkg-query -s "${packages[$name]}" >"$dir/$name"
    sort -u -k2 -o "$dir/$name.md5sums" "$dir/$name.md5sums"
  done
  mkdir -p "$root/etc"
  cp /etc/debian_version "$root/etc/debian_version"
  cp -L /etc/os-release "$root/etc/os-release"
  printf 'dpkg-metadata: %d file(s) from %d package(s): %s\n' "$#" "${#packages[@]}" \
    "$(printf '%s\n' "${!packages[@]}" | sort | tr '\n' ' ')"
}

main "$@"
