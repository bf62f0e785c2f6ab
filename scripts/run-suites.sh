#!/usr/bin/env bash
# Runs each make target given as an argument, keeps going after a failure so every result is
# shown, prints a table of results and durations, and exits non-zero if any suite failed.
set -euo pipefail

cd "$(dirname "$0")/.."

declare -a names results durations
passed=0
failed=0
for target in "$@"; do
  echo
  echo "=================================================================== make ${target}"
  started=$SECONDS
  if make --no-print-directory "${target}"; then
    results+=("pass")
    passed=$((passed + 1))
  else
    results+=("FAIL")
    failed=$((failed + 1))
  fi
  names+=("${target}")
  durations+=("$((SECONDS - started))")
done

echo
echo "=================================================================== summary"
for i in "${!names[@]}"; do
  printf '%-22s %-5s %5ss\n' "${names[$i]}" "${results[$i]}" "${durations[$i]}"
done
echo "suites: ${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
