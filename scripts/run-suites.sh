#!/usr/bin/env bash
# Runs each make target given as an argument, keeps going after a failure so every result is
# shown, prints a table of results and durations, and exits non-zero if any suite failed.
#
# When one of the targets named in ENGINE_TARGETS (space-separated; the Makefile passes the
# suites that use a Docker engine) is to run and no engine answers, it starts one with
# docker/engine.sh (as root, or through passwordless sudo, the way .ci/run used to) and stops
# it at the end, pass or fail. An engine that already answered is used and left running.
# Where none can be started, it says why and runs the suites anyway: those that need the
# engine then fail with their own message. ENGINE_SCRIPT names the script (tests use a stand-in).
set -euo pipefail

cd "$(dirname "$0")/.."

readonly ENGINE_SCRIPT="${ENGINE_SCRIPT:-docker/engine.sh}"
started_engine=0
engine_cmd=()

# Prints the first argument that is also in ENGINE_TARGETS, if any.
engine_needed_by() {
  local target wanted
  for target in "$@"; do
    for wanted in ${ENGINE_TARGETS:-}; do
      if [[ "$target" == "$wanted" ]]; then
        printf '%s\n' "$target"
        return 0
      fi
    done
  done
  return 1
}

# shellcheck disable=SC2317 # run by the EXIT trap
stop_engine() {
  ((started_engine)) || return 0
  echo "run-suites: stopping the Docker engine it started"
  "${engine_cmd[@]}" stop || echo "run-suites: $ENGINE_SCRIPT stop failed" >&2
}

ensure_engine() {
  local needed_by
  needed_by="$(engine_needed_by "$@")" || return 0
  if "$ENGINE_SCRIPT" status >/dev/null 2>&1; then
    echo "run-suites: a Docker engine answers; using it and leaving it running"
    return 0
  fi
  if [[ "$(id -u)" == 0 ]]; then
    engine_cmd=("$ENGINE_SCRIPT")
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    # dockerd runs as root; the suites then reach it as this user (the docker group).
    engine_cmd=(sudo -n "$ENGINE_SCRIPT")
  else
    echo "run-suites: no Docker engine answers and $(id -un) can start none (neither root nor passwordless sudo); $needed_by and the other engine suites will fail: start one with docker/engine.sh start" >&2
    return 0
  fi
  echo "run-suites: no Docker engine answers and $needed_by needs one; starting it (stopped at the end)"
  if "${engine_cmd[@]}" start; then
    started_engine=1
  else
    echo "run-suites: $ENGINE_SCRIPT start failed; the engine suites will fail" >&2
  fi
}

trap stop_engine EXIT
ensure_engine "$@"

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
