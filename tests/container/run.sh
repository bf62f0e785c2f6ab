#!/usr/bin/env bash
# Proves the container image: the HTTP contract suite against the container, image
# properties (size, no shell, non-root, labels), the hardened run, the missing-tmpfs
# failure, `docker stop` under load, compose up/down, and the health check both ways.
#
# Usage: IMAGE_REF=hello-cluster:<tag> IMAGE_COMMIT=<sha> [EXPECT_PLATFORM=linux/arm64] tests/container/run.sh
# (`make test-container [PLATFORM=linux/arm64]` builds the image from docker/Dockerfile first
# and sets these.) Every container and compose project it starts is removed on exit.
#
# Another platform than the host's runs under user-mode emulation (qemu through binfmt_misc,
# `make deps`): every process of the container is an emulator, start-up is several times
# slower, so every wait below is multiplied by EMULATION_TIMEOUT_FACTOR (default 6) and the
# run says so. What is asserted stays the same.
#
# Runs as root, or as an unprivileged user with passwordless sudo (a GitHub-hosted runner's
# `runner`) who may use the Docker engine: sudo is used only where the host's root is needed,
# and each such call says why (as_root below).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly IMAGE_REF="${IMAGE_REF:?IMAGE_REF (image to test) is required}"
readonly IMAGE_COMMIT="${IMAGE_COMMIT:-}"
readonly MAX_IMAGE_BYTES="${MAX_IMAGE_BYTES:-10000000}" # 10 MB as `docker image ls` counts (SI units)
readonly RUN_ID="hc-test-$$"
COMPOSE="${COMPOSE:-}"
# Set by require_tools: the platform the image must be, whether it runs emulated, and the factor
# applied to every wait.
EXPECT_PLATFORM="${EXPECT_PLATFORM:-}"
EMULATED=0
TIMEOUT_FACTOR=1

CONTAINERS=()
COMPOSE_PROJECT=""
WORK_DIR="$(mktemp -d)"
LOAD_PID=""

# pass, fail, check (and CHECK_OK), PASSED and FAILED
# shellcheck source=tests/lib/checks.sh
source "$REPO_ROOT/tests/lib/checks.sh"
note() { printf '     %s\n' "$*"; }

# as_root COMMAND...: runs COMMAND as the host's root, directly when we are root, else through
# `sudo -n` (sudo(8): "-n, --non-interactive  Avoid prompting the user for input of any kind. If
# a password is required for the command to run, sudo will display an error message and exit";
# CI has no stdin, and a GitHub-hosted runner's user has passwordless sudo). Only three things need it: entering a
# container's network namespace (nsenter), signalling a container's processes (they belong to
# another uid), and reading their /proc/PID/exe; plus making a root-owned directory to mount.
as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n "$@"; fi
}

cleanup() {
  local c
  if [[ -n "$LOAD_PID" ]]; then as_root kill "$LOAD_PID" 2>/dev/null || true; fi
  for c in "${CONTAINERS[@]}"; do
    docker rm -f -v "$c" >/dev/null 2>&1 || true
  done
  if [[ -n "$COMPOSE_PROJECT" ]]; then
    (cd "$REPO_ROOT" && $COMPOSE -p "$COMPOSE_PROJECT" -f compose.yaml down --remove-orphans --timeout 5 >/dev/null 2>&1) || true
  fi
  rm -rf "$WORK_DIR" 2>/dev/null || as_root rm -rf "$WORK_DIR"
}
trap cleanup EXIT

# t SECONDS: a wait of SECONDS on the host, scaled for emulation.
t() { echo $(($1 * TIMEOUT_FACTOR)); }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Prints the HTTP status of a GET (000 when nothing answered).
http_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true
}

# wait_http URL SECONDS: until URL answers 200.
wait_http() {
  local url="$1" deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    [[ "$(http_status "$url")" == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# wait_health CONTAINER STATUS SECONDS: until docker reports that health status.
wait_health() {
  local c="$1" want="$2" deadline=$((SECONDS + $3)) got
  while ((SECONDS < deadline)); do
    got="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$c" 2>/dev/null || true)"
    [[ "$got" == "$want" ]] && return 0
    sleep 0.5
  done
  note "health of $c is '${got:-none}', not '$want', after $3 s"
  return 1
}

# start_container NAME [docker run options...]: starts it detached and sets STARTED to its
# name. Not meant for $(...): the name must reach CONTAINERS in this shell for cleanup.
STARTED=""
start_container() {
  STARTED="$RUN_ID-$1"
  shift
  CONTAINERS+=("$STARTED")
  docker run -d --name "$STARTED" --platform "$EXPECT_PLATFORM" "$@" "$IMAGE_REF" >/dev/null
}

# Prints "uid comm" for every process of a container (host view, via docker top).
container_processes() {
  docker top "$1" -eo pid,uid,comm | awk 'NR > 1 { print $2, $3 }'
}

# all_processes_run_as UID CONTAINER: master, workers and nginx (3+ processes) all run as UID.
all_processes_run_as() {
  container_processes "$2" | awk -v uid="$1" 'NF { n++; if ($1 != uid) bad++ } END { exit !(n >= 3 && bad == 0) }'
}

# workers_run_batch CONTAINER: every hello-worker has scheduling class B (SCHED_BATCH).
workers_run_batch() {
  docker top "$1" -eo pid,comm,cls | awk '$2 == "hello-worker" { n++; if ($3 != "B") bad++ } END { exit !(n >= 1 && bad == 0) }'
}

require_tools() {
  local tool missing=0
  for tool in docker curl python3 nsenter tar; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "$tool not found: install it (make deps)" >&2
      missing=1
    }
  done
  ((missing == 0)) || exit 1
  # nsenter into a container's network namespace and signalling its processes from the host
  # need the host's root: be root, or have passwordless sudo (as_root).
  if [[ "$(id -u)" != 0 ]] && ! sudo -n true 2>/dev/null; then
    echo "tests/container/run.sh runs as root or as a user with passwordless sudo (for nsenter and for signalling container processes); $(id -un) has neither" >&2
    exit 1
  fi
  timeout 15 docker info >/dev/null 2>&1 || {
    echo "no Docker engine answers to $(id -un) (docker info failed): run docker/engine.sh start, or add $(id -un) to the docker group" >&2
    exit 1
  }
  local host_platform
  host_platform="linux/$(docker version -f '{{.Server.Arch}}')"
  EXPECT_PLATFORM="${EXPECT_PLATFORM:-$host_platform}"
  if [[ "$EXPECT_PLATFORM" != "$host_platform" ]]; then
    EMULATED=1
    TIMEOUT_FACTOR="${EMULATION_TIMEOUT_FACTOR:-6}"
  fi
  if [[ -z "$COMPOSE" ]]; then
    if docker compose version >/dev/null 2>&1; then
      COMPOSE="docker compose"
    elif command -v docker-compose >/dev/null 2>&1; then
      COMPOSE="docker-compose"
    else
      echo "neither 'docker compose' nor docker-compose found: install the Debian package docker-compose" >&2
      exit 1
    fi
  fi
}

# ---------------------------------------------------------------- image properties
# Lists the image's file system (docker export of a created, never started container)
# into files.verbose (tar -tv) and files.txt (names only), once.
export_listing() {
  [[ -s "$WORK_DIR/files.txt" ]] && return 0
  local probe="$RUN_ID-export"
  CONTAINERS+=("$probe")
  docker create --name "$probe" --platform "$EXPECT_PLATFORM" "$IMAGE_REF" >/dev/null
  docker export "$probe" | tar -tv >"$WORK_DIR/files.verbose"
  awk '{ print $6 }' "$WORK_DIR/files.verbose" >"$WORK_DIR/files.txt"
  docker rm -v "$probe" >/dev/null
}

# Prints the ELF machine of each ELF file under directory $1 as "machine path", one a line.
elf_machines() {
  python3 - "$1" <<'EOF'
import os, struct, sys
root = sys.argv[1]
for base, _, files in os.walk(root):
    for name in files:
        path = os.path.join(base, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            head = f.read(20)
        if len(head) == 20 and head[:4] == b"\x7fELF":
            endian = "<" if head[5] == 1 else ">"
            print(struct.unpack(endian + "H", head[18:20])[0], os.path.relpath(path, root))
EOF
}

# The image is of EXPECT_PLATFORM in what it records and in what it holds: its config names the
# platform, and every ELF file in it (binaries, libraries, the dynamic loader) is built for that
# machine. A base image of the host's architecture under the other platform's tag would pass
# the first check alone.
test_image_platform() {
  local platform machine want count others
  echo "== platform: $EXPECT_PLATFORM$( ((EMULATED == 1)) && echo " under emulation (qemu, binfmt_misc): every wait x$TIMEOUT_FACTOR")"
  platform="$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$IMAGE_REF" 2>/dev/null || true)"
  check "the image records platform $EXPECT_PLATFORM (got $platform)" test "$platform" == "$EXPECT_PLATFORM"
  if ((CHECK_OK == 0)); then
    # Every later section would run (or pull) an image of the wrong platform: stop here.
    printf '\n%d passed, %d failed\n' "$PASSED" "$FAILED"
    exit 1
  fi
  # e_machine values from the ELF specification: EM_X86_64 62, EM_AARCH64 183.
  case "$EXPECT_PLATFORM" in
    linux/amd64) want=62 machine=x86-64 ;;
    linux/arm64) want=183 machine=AArch64 ;;
    *)
      fail "no ELF machine known for $EXPECT_PLATFORM"
      return 0
      ;;
  esac
  local probe="$RUN_ID-elf"
  CONTAINERS+=("$probe")
  mkdir -p "$WORK_DIR/rootfs"
  docker create --name "$probe" --platform "$EXPECT_PLATFORM" "$IMAGE_REF" >/dev/null
  docker export "$probe" | tar -x -C "$WORK_DIR/rootfs" --no-same-owner --exclude='dev/*' 2>/dev/null || true
  docker rm -v "$probe" >/dev/null
  elf_machines "$WORK_DIR/rootfs" >"$WORK_DIR/elf.txt"
  count="$(wc -l <"$WORK_DIR/elf.txt")"
  others="$(awk -v m="$want" '$1 != m { print $2 }' "$WORK_DIR/elf.txt")"
  check "every ELF file in the image is $machine ($count files, the responder and nginx among them)" \
    bash -c "test -z \"\$1\" && grep -q ' usr/local/bin/hello\$' '$WORK_DIR/elf.txt' && grep -q ' usr/sbin/nginx\$' '$WORK_DIR/elf.txt'" _ "$others"
  [[ -z "$others" ]] || note "not $machine: $(tr '\n' ' ' <<<"$others")"
  rm -rf "$WORK_DIR/rootfs"
}

# runs_as_platform CONTAINER: the kernel runs the container's processes as EXPECT_PLATFORM
# binaries: under emulation each one's /proc/PID/exe is the interpreter that binfmt_misc
# registered for that machine (docs.kernel.org/admin-guide/binfmt-misc.html: binfmt_misc
# "recognises the binary-type by matching some bytes at the beginning of the file" and invokes
# the registered interpreter for it); natively it is the responder or nginx itself.
runs_as_platform() {
  local pid exe interpreter="" entry bad=0 n=0
  if ((EMULATED == 1)); then
    case "$EXPECT_PLATFORM" in linux/arm64) entry=qemu-aarch64 ;; linux/amd64) entry=qemu-x86_64 ;; esac
    interpreter="$(awk '$1 == "interpreter" { print $2 }' "/proc/sys/fs/binfmt_misc/$entry" 2>/dev/null)"
    [[ -n "$interpreter" ]] || {
      note "no binfmt_misc entry $entry"
      return 1
    }
    interpreter="$(readlink -f "$interpreter")"
  fi
  for pid in $(docker top "$1" -eo pid | awk 'NR > 1'); do
    # Another uid's /proc/PID/exe is readable by root only.
    exe="$(as_root readlink "/proc/$pid/exe" 2>/dev/null || true)"
    n=$((n + 1))
    if ((EMULATED == 1)); then
      [[ "$exe" == "$interpreter" ]] || {
        bad=1
        note "pid $pid runs $exe, not $interpreter"
      }
    else
      [[ "$exe" == */usr/local/bin/hello || "$exe" == */usr/sbin/nginx ]] || {
        bad=1
        note "pid $pid runs '$exe'"
      }
    fi
  done
  ((n >= 3 && bad == 0))
}

test_image_properties() {
  echo "== image $IMAGE_REF"
  local size user entrypoint stopsignal ports health revision version
  size="$(docker image inspect -f '{{.Size}}' "$IMAGE_REF")"
  check "image size $size bytes ($(docker image ls --format '{{.Size}}' "$IMAGE_REF")) <= $MAX_IMAGE_BYTES" \
    test "$size" -le "$MAX_IMAGE_BYTES"
  user="$(docker image inspect -f '{{.Config.User}}' "$IMAGE_REF")"
  check "image user is the fixed non-root 10001:10001 (got '$user')" test "$user" == "10001:10001"
  entrypoint="$(docker image inspect -f '{{json .Config.Entrypoint}}' "$IMAGE_REF")"
  check "exec-form entrypoint is the responder (got $entrypoint)" test "$entrypoint" == '["/usr/local/bin/hello"]'
  stopsignal="$(docker image inspect -f '{{.Config.StopSignal}}' "$IMAGE_REF")"
  check "stop signal is SIGTERM (got '$stopsignal')" test "$stopsignal" == SIGTERM
  ports="$(docker image inspect -f '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$IMAGE_REF")"
  check "exposes 8080 and 9090 (got '$ports')" test "$ports" == "8080/tcp 9090/tcp "
  health="$(docker image inspect -f '{{json .Config.Healthcheck.Test}}' "$IMAGE_REF")"
  check "health check runs the binary's --healthcheck mode (got $health)" \
    test "$health" == '["CMD","/usr/local/bin/hello","--healthcheck"]'
  revision="$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' "$IMAGE_REF")"
  version="$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE_REF")"
  check "OCI revision label is the commit being tested ($revision)" \
    test -n "$revision" -a "$revision" == "${IMAGE_COMMIT:-$revision}" -a "$revision" != unknown
  check "OCI version and created labels are filled" test -n "$version" -a "$version" != unknown -a \
    "$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.created"}}' "$IMAGE_REF")" != unknown

  # No shell: neither as an entry point nor anywhere in the file system.
  local out rc=0
  out="$(docker run --rm --platform "$EXPECT_PLATFORM" --entrypoint /bin/sh "$IMAGE_REF" -c 'echo shell-ran' 2>&1)" || rc=$?
  check "docker run --entrypoint /bin/sh fails (exit $rc)" test "$rc" -ne 0 -a "${out//shell-ran/}" == "$out"
  export_listing
  local forbidden
  forbidden="$(grep -E '(^|/)(sh|bash|dash|busybox|apt|apt-get|dpkg|cc|gcc|ld|make|perl|python3?)$' "$WORK_DIR/files.txt" || true)"
  check "exported file system has no shell, package manager or compiler ($(wc -l <"$WORK_DIR/files.txt") entries)" \
    test -z "$forbidden"
  [[ -z "$forbidden" ]] || note "found: $(tr '\n' ' ' <<<"$forbidden")"
  check "exported file system holds the responder" \
    grep -qxE 'usr/local/bin/hello' "$WORK_DIR/files.txt"
  check "exported file system holds nginx and its template" \
    bash -c "grep -qx usr/sbin/nginx '$WORK_DIR/files.txt' && grep -qx etc/hello/nginx.conf.template '$WORK_DIR/files.txt'"
}

# ---------------------------------------------------------------- hardened run + contract
test_hardened_run_and_contract() {
  echo "== hardened run: --read-only --cap-drop ALL --security-opt no-new-privileges --user <random> + tmpfs"
  local uid=$((20000 + RANDOM % 40000)) gid=$((20000 + RANDOM % 40000)) port mport c
  port="$(free_port)"
  mport="$(free_port)"
  start_container hardened --read-only --cap-drop ALL --security-opt no-new-privileges \
    --user "$uid:$gid" --tmpfs /tmp:rw,nosuid,nodev,noexec,size=16m -e WORKER_SCHED_POLICY=batch \
    -p "127.0.0.1:$port:8080" -p "127.0.0.1:$mport:9090"
  c="$STARTED"
  check "serves GET / within $(t 10) s as uid $uid" wait_http "http://127.0.0.1:$port/" "$(t 10)"
  if ((CHECK_OK == 0)); then
    docker logs "$c" 2>&1 | tail -n 15 | sed 's/^/     /'
    return 0
  fi
  check "GET /?name=Ada says Hello Ada!" test "$(curl -s --max-time 2 "http://127.0.0.1:$port/?name=Ada")" == 'Hello Ada!'
  local procs
  procs="$(container_processes "$c")"
  check "every process runs as uid $uid (none as root)" all_processes_run_as "$uid" "$c"
  note "processes: $(tr '\n' ',' <<<"$procs")"
  check "its processes run as $EXPECT_PLATFORM binaries$( ((EMULATED == 1)) && echo ', each through the emulator')" runs_as_platform "$c"
  check "WORKER_SCHED_POLICY=batch works under cap-drop ALL and the default seccomp profile" workers_run_batch "$c"
  check "/metrics build info carries the image's commit" \
    bash -c "curl -s --max-time 2 http://127.0.0.1:$mport/metrics | grep -q 'commit=\"${IMAGE_COMMIT}\"'"

  echo "== HTTP contract suite (tests/integration/contract.py) against the container"
  if [[ ! -f "$REPO_ROOT/tests/integration/contract.py" ]]; then
    fail "contract suite: tests/integration/contract.py not found"
  elif EXPECT_ARCH="${EXPECT_PLATFORM#linux/}" python3 "$REPO_ROOT/tests/integration/contract.py" \
    --base-url "http://127.0.0.1:$port" --metrics-url "http://127.0.0.1:$mport" >"$WORK_DIR/contract.log" 2>&1; then
    pass "contract suite passes against the container ($(tail -n 1 "$WORK_DIR/contract.log"))"
  else
    fail "contract suite against the container"
    tail -n 30 "$WORK_DIR/contract.log" | sed 's/^/     /'
  fi
  docker rm -f -v "$c" >/dev/null

  echo "== default user"
  start_container default-user --read-only --cap-drop ALL --security-opt no-new-privileges --tmpfs /tmp \
    -p "127.0.0.1:$(free_port):8080"
  c="$STARTED"
  local hport
  hport="$(docker port "$c" 8080/tcp | head -n 1 | awk -F: '{ print $NF }')"
  check "serves with the image's own user" wait_http "http://127.0.0.1:$hport/healthz" "$(t 10)"
  check "that user is 10001, not root" all_processes_run_as 10001 "$c"
  docker rm -f -v "$c" >/dev/null
}

# ---------------------------------------------------------------- runtime directory
test_runtime_dir() {
  echo "== runtime directory /tmp: the image's volume, and an unwritable one"
  local volumes mode
  volumes="$(docker image inspect -f '{{range $v, $_ := .Config.Volumes}}{{$v}} {{end}}' "$IMAGE_REF")"
  check "the image declares /tmp as its only volume (got '$volumes')" test "$volumes" == "/tmp "
  export_listing
  mode="$(awk '$6 == "tmp/" { print $1 }' "$WORK_DIR/files.verbose")"
  check "/tmp in the image is drwxrwxrwt, so a copied-in volume is writable by any uid (got '$mode')" \
    test "$mode" == drwxrwxrwt

  # Without a tmpfs, the engine fills the VOLUME from the image (as ECS Fargate does for a
  # bind mount at a VOLUME path): a random uid on a read-only root must still serve.
  local port c
  port="$(free_port)"
  start_container copied-volume --read-only --cap-drop ALL --security-opt no-new-privileges \
    --user "$((20000 + RANDOM % 40000))" -p "127.0.0.1:$port:8080"
  c="$STARTED"
  check "read-only root, no tmpfs, the image's /tmp volume copied in: serves as a random uid" \
    wait_http "http://127.0.0.1:$port/healthz" "$(t 10)"
  docker rm -f -v "$c" >/dev/null

  # A root-owned 0755 /tmp (Fargate's bind mount when the image declares no VOLUME) is
  # not writable by the non-root user: start-up must stop at once and say why.
  # A bind mount (no copy-up, unlike a tmpfs or a volume) of a root-owned 0755 directory.
  local name="$RUN_ID-unwritable" rc=0 out started elapsed
  CONTAINERS+=("$name")
  # A directory owned by root needs root to make.
  as_root install -d -m 0755 -o 0 -g 0 "$WORK_DIR/root-owned"
  started=$SECONDS
  out="$(timeout "$(t 30)" docker run --name "$name" --platform "$EXPECT_PLATFORM" --read-only --cap-drop ALL --security-opt no-new-privileges \
    --user 31337:31337 --mount "type=bind,source=$WORK_DIR/root-owned,destination=/tmp" "$IMAGE_REF" 2>&1)" || rc=$?
  elapsed=$((SECONDS - started))
  check "with /tmp not writable: exits non-zero (exit $rc), not a hang (${elapsed} s)" \
    test "$rc" -ne 0 -a "$rc" -ne 124 -a "$elapsed" -lt "$(t 15)"
  check "the message names RUNTIME_DIR and /tmp" grep -qE 'RUNTIME_DIR.*/tmp' <<<"$out"
  note "said: $(grep -E 'RUNTIME_DIR' <<<"$out" | head -n 1 | cut -c1-200)"
  docker rm -f -v "$name" >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- docker stop under load
# stop_under_load LABEL SHUTDOWN_DELAY LOAD_OPTIONS...: runs load.py inside the
# container's own network namespace, on its loopback, so requests meet nginx's listener
# directly (as an orchestrator's traffic does), not the engine's userland port proxy;
# `docker stop` after 3 s; checks the load's failures, the exit code and the stop time.
stop_under_load() {
  local label="$1" delay="$2" grace=10 c pid stop_started stop_seconds exit_code load_rc=0
  shift 2
  echo "== docker stop while a load generator runs: $label"
  start_container "stop-$delay" --read-only --cap-drop ALL --security-opt no-new-privileges --tmpfs /tmp \
    -e GRACE_SECONDS="$grace" -e SHUTDOWN_DELAY_SECONDS="$delay"
  c="$STARTED"
  pid="$(docker inspect -f '{{.State.Pid}}' "$c")"
  local deadline=$((SECONDS + $(t 10))) up=1
  # Entering another process's network namespace needs the host's root.
  until as_root nsenter --net="/proc/$pid/ns/net" curl -s -o /dev/null --max-time 1 http://127.0.0.1:8080/readyz; do
    ((SECONDS < deadline)) || {
      up=0
      break
    }
    sleep 0.1
  done
  check "container answers on its own loopback" test "$up" -eq 1
  ((CHECK_OK == 1)) || return 0
  as_root nsenter --net="/proc/$pid/ns/net" python3 "$REPO_ROOT/tests/container/load.py" \
    --url http://127.0.0.1:8080/ --threads 8 --duration 30 "$@" >"$WORK_DIR/load.json" &
  LOAD_PID=$!
  sleep 3
  stop_started=$(date +%s%N)
  docker stop -t $((grace + 10)) "$c" >/dev/null
  stop_seconds="$(awk -v a="$stop_started" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
  wait "$LOAD_PID" || load_rc=$?
  LOAD_PID=""
  exit_code="$(docker inspect -f '{{.State.ExitCode}}' "$c")"
  note "load: $(cat "$WORK_DIR/load.json")"
  check "zero failed requests during the stop, over 100 answered (load.py exit $load_rc)" \
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (r["failed"] == 0 and r["ok"] > 100))' \
    "$WORK_DIR/load.json"
  check "exit code 0 (got $exit_code)" test "$exit_code" == 0
  check "stopped in ${stop_seconds} s: after SHUTDOWN_DELAY_SECONDS=$delay, within GRACE_SECONDS=$grace" \
    awk -v s="$stop_seconds" -v d="$delay" -v g="$grace" 'BEGIN { exit !(s >= d && s < g) }'
  check "the master logged a graceful drain" bash -c "docker logs '$c' 2>&1 | grep -q 'shutdown begun'"
}

test_stop_under_load() {
  # As deployed: readiness turns 503 at SIGTERM, the load balancer (here load.py watching
  # /readyz) stops sending, nginx keeps its listener open for the delay. Every reset counts.
  stop_under_load "readiness-aware client, SHUTDOWN_DELAY_SECONDS=2" 2 \
    --readiness-url http://127.0.0.1:8080/readyz
  # The image's default (no delay) with a client that keeps sending regardless: requests
  # that arrive once nginx closes its listener are refused, or reset while still in the
  # kernel's accept queue; what nginx accepted must all be answered.
  stop_under_load "client unaware of the drain, SHUTDOWN_DELAY_SECONDS=0" 0 --allow-reset-before-answer
}

# ---------------------------------------------------------------- health check
test_health() {
  echo "== health check: healthy, then unhealthy with every worker killed and restarts disabled"
  local c pids
  start_container health --read-only --cap-drop ALL --security-opt no-new-privileges --tmpfs /tmp \
    -e HELLO_TEST_DISABLE_RESTART=1 -e WORKERS=2 \
    --health-interval 1s --health-timeout "$(t 2)s" --health-retries 2 --health-start-period 0s
  c="$STARTED"
  check "turns healthy" wait_health "$c" healthy "$(t 20)"
  ((CHECK_OK == 1)) || return 0
  pids="$(docker top "$c" -eo pid,comm | awk '$2 == "hello-worker" { print $1 }')"
  check "docker top lists the hello-worker processes ($(wc -w <<<"$pids"))" test "$(wc -w <<<"$pids")" -ge 1
  # These are host pids: kill them from the host, the image has no shell to exec into. They
  # belong to the container's uid, so signalling them needs the host's root.
  local p
  for p in $pids; do as_root kill -KILL "$p" 2>/dev/null || true; done
  check "turns unhealthy once the workers are gone" wait_health "$c" unhealthy "$(t 20)"
  check "the container itself is still running (health, not a crash, reports it)" \
    test "$(docker inspect -f '{{.State.Running}}' "$c")" == true
}

# ---------------------------------------------------------------- compose
published_on_loopback_only() {
  local bindings
  bindings="$(docker port "$1" | awk '{ print $3 }')"
  [[ -n "$bindings" ]] && ! grep -qv '^127\.0\.0\.1:' <<<"$bindings"
}

test_compose() {
  echo "== $COMPOSE up -d / healthy / curl / down"
  local port mport cid
  port="$(free_port)"
  mport="$(free_port)"
  # Letters and digits only: compose v1 strips anything else from project names.
  COMPOSE_PROJECT="hctest$$"
  export HELLO_HTTP_PORT="$port" HELLO_METRICS_PORT="$mport" TAG="${IMAGE_REF##*:}" IMAGE="${IMAGE_REF%:*}"
  if ! (cd "$REPO_ROOT" && $COMPOSE -p "$COMPOSE_PROJECT" -f compose.yaml up -d --no-build >"$WORK_DIR/compose.log" 2>&1); then
    fail "$COMPOSE up -d"
    tail -n 20 "$WORK_DIR/compose.log" | sed 's/^/     /'
    return 0
  fi
  pass "$COMPOSE up -d"
  cid="$(cd "$REPO_ROOT" && $COMPOSE -p "$COMPOSE_PROJECT" -f compose.yaml ps -q hello)"
  check "compose service runs read-only, cap_drop ALL, no-new-privileges, user 10001" \
    test "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} {{.Config.User}}' "$cid")" \
    == "true [ALL] [no-new-privileges:true] 10001:10001"
  check "compose publishes on 127.0.0.1 only ($(docker port "$cid" | tr '\n' ' '))" published_on_loopback_only "$cid"
  check "compose service turns healthy" wait_health "$cid" healthy "$(t 30)"
  check "curl 127.0.0.1:$port/?name=Ada says Hello Ada!" \
    test "$(curl -s --max-time 2 "http://127.0.0.1:$port/?name=Ada")" == 'Hello Ada!'
  check "metrics on 127.0.0.1:$mport name the image's architecture (arch=\"${EXPECT_PLATFORM#linux/}\")" \
    bash -c "curl -s --max-time 2 http://127.0.0.1:$mport/metrics | grep -q '^hello_build_info{.*,arch=\"${EXPECT_PLATFORM#linux/}\"} 1'"
  (cd "$REPO_ROOT" && $COMPOSE -p "$COMPOSE_PROJECT" -f compose.yaml down --remove-orphans >>"$WORK_DIR/compose.log" 2>&1)
  check "$COMPOSE down leaves no container" \
    test -z "$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT")"
  check "$COMPOSE down leaves no network" \
    test -z "$(docker network ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT")"
  COMPOSE_PROJECT=""
}

main() {
  require_tools
  local section
  # CONTAINER_TESTS picks sections for a quicker loop while developing; all by default.
  for section in ${CONTAINER_TESTS:-image_platform image_properties hardened_run_and_contract runtime_dir stop_under_load health compose}; do
    "test_$section"
  done
  echo
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
  ((FAILED == 0))
}

main "$@"
