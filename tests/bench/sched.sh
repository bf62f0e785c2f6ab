#!/usr/bin/env bash
# Benchmark (not a test): WORKER_SCHED_POLICY other vs batch, in the two placements that decide it.
#   dedicated core  nginx and the worker alone on the server core, wrk on the other core,
#                   CONNECTIONS connections: requests/s, latency, requests per worker wake-up
#   busy core       nginx on wrk's core, the worker on the other core next to a CPU hog (a busy
#                   neighbour), 1 connection: the latency of each request
# Usage: sched.sh build/hello   (knobs: ROUNDS, SECONDS_PER_RUN, CONNECTIONS)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)

# shellcheck source=tests/bench/lib.sh
source "$repo/tests/bench/lib.sh"
require_tools wrk taskset pgrep nginx curl python3
[[ $(nproc) -ge 2 ]] || {
  echo "bench: bench-sched needs 2 CPUs (one for wrk, one for the worker)" >&2
  exit 1
}
bench_init "$1" 5
policies=(other batch)

# policy_stack POLICY CPUS: one stack (1 worker) on CPUS; port[POLICY-CPUS], master[POLICY-CPUS].
declare -A port master
policy_stack() {
  local key="$1-$2"
  port[$key]=$(free_port)
  start_stack "$2" "$repo/nginx/nginx.conf.template" "${port[$key]}" "$work/$key.err" \
    WORKERS=1 NGINX_WORKERS=1 WORKER_SCHED_POLICY="$1"
  master[$key]=${pids[-1]}
}
for policy in "${policies[@]}"; do
  policy_stack "$policy" "$server_cpu"
  policy_stack "$policy" "$load_cpu,$server_cpu"
done
for key in "${!port[@]}"; do
  wait_http "http://127.0.0.1:${port[$key]}/" || {
    cat "$work/$key.err" >&2
    exit 1
  }
done

worker_of() { pgrep -P "${master[$1]}" -x hello-worker; }
switches() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$(worker_of "$1")/status"; }

# ---------------------------------------------------------------- dedicated core
echo "bench: WORKER_SCHED_POLICY; dedicated core: stacks on CPU $server_cpu, wrk on CPU $load_cpu," \
  "$connections connections, $rounds interleaved rounds of ${duration}s"
for round in $(seq 1 "$rounds"); do
  line="  round $round:"
  for policy in "${policies[@]}"; do
    key="$policy-$server_cpu"
    before=$(switches "$key")
    read -r r _ q99 _ e <<<"$(run_wrk "${port[$key]}" "$connections" "$duration")"
    wakeups=$(($(switches "$key") - before))
    per_wakeup=$(awk -v r="$r" -v d="$duration" -v w="$wakeups" 'BEGIN { printf "%.1f", r * d / (w ? w : 1) }')
    echo "$r $q99 $per_wakeup $e" >>"$work/dedicated.$policy"
    line+=" $policy $(printf '%.0f' "$r")"
  done
  echo "$line"
done

# ---------------------------------------------------------------- busy core
# nginx (master and workers) moves to wrk's core; the worker stays on the other, where a hog spins.
for policy in "${policies[@]}"; do
  key="$policy-$load_cpu,$server_cpu"
  nginx_master=$(pgrep -P "${master[$key]}" -x nginx)
  for p in "$nginx_master" $(pgrep -P "$nginx_master"); do taskset -a -p -c "$load_cpu" "$p" >/dev/null; done
  taskset -p -c "$server_cpu" "$(worker_of "$key")" >/dev/null
done
taskset -c "$server_cpu" bash -c 'while :; do :; done' &
pids+=($!)
echo "bench: busy core: nginx and wrk on CPU $load_cpu, the worker on CPU $server_cpu with a CPU hog, 1 connection"
for round in $(seq 1 "$rounds"); do
  line="  round $round:"
  for policy in "${policies[@]}"; do
    read -r r q50 q99 _ e <<<"$(run_wrk "${port[$policy - $load_cpu, $server_cpu]}" 1 "$duration")"
    echo "$r $q50 $q99 $e" >>"$work/busy.$policy"
    line+=" $policy $(printf '%.0f' "$r")"
  done
  echo "$line"
done

# ---------------------------------------------------------------- report
echo
printf '%-8s %-15s %10s %10s %10s %16s\n' policy placement "req/s" "p50 ms" "p99 ms" "req/wake-up"
declare -A ded busy
for policy in "${policies[@]}"; do
  ded[$policy]=$(cut -d' ' -f1 "$work/dedicated.$policy" | median)
  busy[$policy]=$(cut -d' ' -f1 "$work/busy.$policy" | median)
  printf '%-8s %-15s %10.0f %10s %10.2f %16.1f\n' "$policy" "dedicated core" "${ded[$policy]}" "-" \
    "$(cut -d' ' -f2 "$work/dedicated.$policy" | median)" "$(cut -d' ' -f3 "$work/dedicated.$policy" | median)"
  printf '%-8s %-15s %10.0f %10.2f %10.2f %16s\n' "$policy" "busy core" "${busy[$policy]}" \
    "$(cut -d' ' -f2 "$work/busy.$policy" | median)" "$(cut -d' ' -f3 "$work/busy.$policy" | median)" "-"
done
errors=$(cat "$work"/dedicated.* "$work"/busy.* | awk '{s += $NF} END {print s + 0}')
echo
echo "sched: batch/other on a dedicated core $(paired_ratio "$work/dedicated.batch" "$work/dedicated.other")," \
  "on a busy core $(paired_ratio "$work/busy.batch" "$work/busy.other") (median of the per-round req/s ratios);" \
  "errors $errors"
