# shellcheck shell=bash
# Counting helpers for shell test scripts: `ok - ...` / `not ok - ...` lines, totals in
# PASSED and FAILED, and the closing line "N passed, N failed". Source it; set -euo pipefail
# is the caller's.

PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); printf 'ok - %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'not ok - %s\n' "$*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds. Always returns 0 (callers
# run under set -e); CHECK_OK (1 or 0) tells a caller whether to go on.
CHECK_OK=1
# shellcheck disable=SC2034 # CHECK_OK is read by the sourcing script
check() {
  local description="$1"
  shift
  if "$@"; then
    CHECK_OK=1
    pass "$description"
  else
    CHECK_OK=0
    fail "$description"
  fi
}

# Runs a checker that prints `ok - ...` / `not ok - ...` lines and adds them to the counts;
# a checker that exits non-zero without a `not ok` line counts as one failure.
run_checker() {
  local label="$1" output rc=0 oks bad
  shift
  output="$("$@" 2>&1)" || rc=$?
  printf '%s\n' "$output" | sed "s/^\(not ok\|ok\) - /&$label: /"
  oks="$(grep -c '^ok - ' <<<"$output" || true)"
  bad="$(grep -c '^not ok - ' <<<"$output" || true)"
  PASSED=$((PASSED + oks))
  FAILED=$((FAILED + bad))
  if ((rc != 0 && bad == 0)); then fail "$label: checker exited $rc"; fi
  if ((rc == 0 && bad != 0)); then fail "$label: checker reported failures but exited 0"; fi
}
