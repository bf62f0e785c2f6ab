# shellcheck shell=bash disable=SC2034 # CHECK_OK is the sourcing script's to read
# Counting helpers for shell test scripts: `ok - ...` / `not ok - ...` lines, totals in
# PASSED and FAILED, and the closing line "N passed, N failed". Source it; set -euo pipefail
# is the caller's.

PASSED=0
FAILED=0

pass() {
  PASSED=$((PASSED + 1))
  printf 'ok - %s\n' "$*"
}
fail() {
  FAILED=$((FAILED + 1))
  printf 'not ok - %s\n' "$*"
}

# check DESCRIPTION COMMAND...: passes when the command succeeds. Always returns 0 (callers
# run under set -e); CHECK_OK (1 or 0) tells a caller whether to go on.
CHECK_OK=1
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

# check_quiet DESCRIPTION COMMAND...: like check, but the command's output is shown only when
# it fails (its last CHECK_TAIL lines, default 40, indented). The command runs in this shell,
# so what it sets (timings, variables) stays set.
check_quiet() {
  local description="$1" log
  shift
  log="$(mktemp "${TMPDIR:-/tmp}/check.XXXXXX")"
  if "$@" >"$log" 2>&1; then
    CHECK_OK=1
    pass "$description"
  else
    CHECK_OK=0
    fail "$description"
    tail -n "${CHECK_TAIL:-40}" "$log" | sed 's/^/    | /'
  fi
  rm -f "$log"
}

# expect_failure DESCRIPTION TEXT COMMAND...: passes when the command fails and its output
# says TEXT (the reason it was meant to fail for); otherwise shows the output's tail.
expect_failure() {
  local description="$1" text="$2" log rc=0
  shift 2
  log="$(mktemp "${TMPDIR:-/tmp}/check.XXXXXX")"
  "$@" >"$log" 2>&1 || rc=$?
  if ((rc != 0)) && grep -qF -- "$text" "$log"; then
    CHECK_OK=1
    pass "$description"
  else
    CHECK_OK=0
    fail "$description (exit $rc; expected a failure saying: $text)"
    tail -n "${CHECK_TAIL:-40}" "$log" | sed 's/^/    | /'
  fi
  rm -f "$log"
}

# Prints the closing line and returns non-zero when anything failed.
summary() {
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  ((FAILED == 0))
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
