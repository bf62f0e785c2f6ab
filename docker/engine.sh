#!/usr/bin/env bash
# Make a Docker engine answer for the container tests, and stop only what we started.
#
#   docker/engine.sh start    reuse an answering engine, or start dockerd in the background
#   docker/engine.sh stop     stop the dockerd this script started (never a foreign one)
#   docker/engine.sh status   say whether an engine answers and who started it
#
# Installs nothing: `make deps` (APT_PACKAGES from mk/docker.mk) brings docker.io.
# Knobs: ENGINE_STATE_DIR (pid and log files, default /tmp/hello-cluster-engine),
#        ENGINE_WAIT_SECONDS (default 30).
set -euo pipefail

readonly STATE_DIR="${ENGINE_STATE_DIR:-/tmp/hello-cluster-engine}"
readonly PID_FILE="$STATE_DIR/dockerd.pid"
readonly LOG_FILE="$STATE_DIR/dockerd.log"
readonly WAIT_SECONDS="${ENGINE_WAIT_SECONDS:-30}"

log() { printf 'engine: %s\n' "$*" >&2; }

engine_answers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1
}

# Prints the pid recorded by a previous start when that process is still a dockerd.
owned_pid() {
  local pid
  [[ -r "$PID_FILE" ]] || return 1
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
  printf '%s\n' "$pid"
}

start_engine() {
  if engine_answers; then
    log "a Docker engine already answers; using it"
    return 0
  fi
  command -v docker >/dev/null 2>&1 || {
    log "docker CLI not found: install the Debian package docker.io (make deps)"
    return 1
  }
  command -v dockerd >/dev/null 2>&1 || {
    log "dockerd not found: install the Debian package docker.io (make deps)"
    return 1
  }
  if owned_pid >/dev/null; then
    log "dockerd $(owned_pid) started earlier does not answer yet; waiting for it"
  else
    mkdir -p "$STATE_DIR"
    log "no engine answers; starting dockerd (log: $LOG_FILE)"
    # setsid: the daemon outlives this shell and gets no terminal signals.
    setsid dockerd >"$LOG_FILE" 2>&1 </dev/null &
    printf '%s\n' "$!" >"$PID_FILE"
  fi
  local waited=0
  while ((waited < WAIT_SECONDS)); do
    if engine_answers; then
      log "engine answers after ${waited}s (dockerd pid $(owned_pid || echo '?'))"
      return 0
    fi
    if ! owned_pid >/dev/null; then
      log "dockerd exited during start-up; last lines of $LOG_FILE:"
      tail -n 20 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "dockerd did not answer within ${WAIT_SECONDS}s; last lines of $LOG_FILE:"
  tail -n 20 "$LOG_FILE" >&2 || true
  stop_engine || true
  return 1
}

stop_engine() {
  local pid
  if ! pid="$(owned_pid)"; then
    rm -f "$PID_FILE"
    log "no dockerd started by this script is running; nothing to stop"
    return 0
  fi
  log "stopping dockerd $pid"
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null && ((waited < 40)); do
    sleep 0.5
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "dockerd $pid ignored SIGTERM for 20s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "dockerd stopped"
}

engine_status() {
  local pid answers=no
  engine_answers && answers=yes
  if pid="$(owned_pid)"; then
    printf 'engine answers: %s; dockerd %s started by this script (log: %s)\n' "$answers" "$pid" "$LOG_FILE"
  else
    printf 'engine answers: %s; no dockerd started by this script\n' "$answers"
  fi
  [[ "$answers" == yes ]]
}

main() {
  case "${1:-}" in
    start) start_engine ;;
    stop) stop_engine ;;
    status) engine_status ;;
    *)
      printf 'usage: %s start|stop|status\n' "$0" >&2
      return 2
      ;;
  esac
}

main "$@"
