# shellcheck shell=bash
# Helpers shared by the wrk benchmarks (sourced): free ports, waiting, one wrk run, medians.

# bench_init BINARY DEFAULT_SECONDS: sets binary (absolute), the knobs rounds (ROUNDS, 3), duration
# (SECONDS_PER_RUN) and connections (CONNECTIONS, 50), load_cpu (wrk's core) and server_cpu (the
# servers' core), a work directory $work (readable by the unprivileged user the stack drops to),
# and pids=(), every one of which is killed on exit.
# shellcheck disable=SC2034 # all of these are read by the sourcing script
bench_init() {
  binary=$(realpath "$1")
  rounds=${ROUNDS:-3}
  duration=${SECONDS_PER_RUN:-$2}
  connections=${CONNECTIONS:-50}
  if [[ $(nproc) -ge 2 ]]; then
    load_cpu=0
    server_cpu=1
  else
    load_cpu=0
    server_cpu=0
  fi
  work=$(mktemp -d)
  chmod 755 "$work"
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() {
  local url=$1 _
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench: $url never answered" >&2
  return 1
}

# to_ms "1.23ms" -> 1.230 (wrk prints us, ms, s and m units)
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
    else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# run_wrk PORT CONNECTIONS SECONDS -> "rps p50_ms p99_ms max_ms errors"
run_wrk() {
  local out rps p50 p99 max errors threads=2
  [[ $2 -lt 2 ]] && threads=1
  out=$(taskset -c "${load_cpu:?load_cpu: the core for wrk}" wrk -t"$threads" -c"$2" -d"${3}s" --latency "http://127.0.0.1:$1/?name=John" 2>&1)
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  max=$(to_ms "$(awk '$1 == "Latency" {print $4}' <<<"$out")")
  errors=$(awk '/Socket errors/ {gsub(",",""); s = $4 + $6 + $8 + $10} /Non-2xx/ {n = $5}
                END {print s + n + 0}' <<<"$out")
  echo "$rps $p50 $p99 $max $errors"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# paired_ratio X_RESULTS Y_RESULTS: the median over rounds of x/y, each from the first column of
# the same line (one round) of the two files. Servers measured back to back in a round share the
# machine's state of the moment, so this follows drift between rounds that the ratio of the two
# medians does not (seen here: one server's median from a slow minute, the other's from a fast one).
paired_ratio() {
  paste -d' ' <(cut -d' ' -f1 "$1") <(cut -d' ' -f1 "$2") | awk '{ print $1 / $2 }' | median |
    awk '{ printf "%.2f", $1 }'
}

# start_stack CPUS TEMPLATE PORT ERR_FILE [NAME=VALUE...]: the stack ($binary) in the background on
# CPUS, serving PORT with nginx rendered from TEMPLATE, its metrics on a free port, stderr to
# ERR_FILE, the extra environment after that; its pid is appended to pids (so ${pids[-1]}).
start_stack() {
  local cpus=$1 template=$2 port=$3 err=$4
  shift 4
  env PORT="$port" METRICS_PORT="$(free_port)" LISTEN_ADDRESS=127.0.0.1 RUNTIME_DIR=/tmp \
    NGINX_TEMPLATE="$template" LOG_LEVEL=warn "$@" taskset -c "$cpus" "$binary" >/dev/null 2>"$err" &
  pids+=($!)
}

# require_tools TOOL...: stop naming the first missing one.
require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || {
      echo "bench: $tool is missing (make deps installs it)" >&2
      exit 1
    }
  done
}
