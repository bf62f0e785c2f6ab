#!/usr/bin/env bash
# Benchmark (not a test): wrk on one core, the server on the other, interleaved rounds against
#   (a) nginx alone answering `return 200 "Hello John!"` with the same configuration (the ceiling),
#   (b) the full stack (nginx + FastCGI workers; WORKER_SCHED_POLICY=batch, as on Fargate, since
#       the servers have a core to themselves here: make bench-sched measures both policies),
#   (c) a plain Node.js http server, (d) Express + helmet;
# then a concurrency sweep of (b) from 1 to 512 connections, and the stack's idle memory.
# Usage: bench.sh build/hello   (knobs: ROUNDS, SECONDS_PER_RUN, CONNECTIONS)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)

# shellcheck source=tests/bench/lib.sh
source "$repo/tests/bench/lib.sh"
require_tools wrk taskset node nginx curl python3
[[ -d "$repo/node_modules/express" && -d "$repo/node_modules/helmet" ]] ||
  {
    echo "bench: express/helmet missing in node_modules (run make deps)" >&2
    exit 1
  }
bench_init "$1" 8

# ---------------------------------------------------------------- the four servers
port_a=$(free_port)
port_b=$(free_port)
port_c=$(free_port)
port_d=$(free_port)

# (a): the real template, with the responder replaced by `return` and placeholders filled.
mkdir -p "$work/a"
sed -e "s|\${NGINX_WORKERS}|1|; s|\${RUNTIME_DIR}|$work/a|g; s|\${LISTEN_ADDRESS}|127.0.0.1|g" \
  -e "s|\${PORT}|$port_a|; s|\${METRICS_PORT}|$(free_port)|g" \
  -e "s|\${UPSTREAM_SERVERS}|server unix:$work/a/none.sock;|; s|\${REAL_IP}||; s|\${LOG_HEALTH_CHECKS}|0|" \
  -e 's|            fastcgi_pass hello_workers;|            return 200 "Hello John!";|' \
  "$repo/nginx/nginx.conf.template" >"$work/a/nginx.conf"
taskset -c "$server_cpu" nginx -p "$work/a/" -c "$work/a/nginx.conf" -e stderr >/dev/null 2>"$work/a.err" &
pids+=($!)

start_stack "$server_cpu" "$repo/nginx/nginx.conf.template" "$port_b" "$work/b.err" WORKER_SCHED_POLICY=batch
stack_pid=${pids[-1]}

PORT=$port_c taskset -c "$server_cpu" node "$repo/tests/bench/node-http.js" &
pids+=($!)
PORT=$port_d NODE_PATH="$repo/node_modules" taskset -c "$server_cpu" node "$repo/tests/bench/express-helmet.js" &
pids+=($!)

for p in $port_a $port_b $port_c $port_d; do wait_http "http://127.0.0.1:$p/"; done
[[ "$(curl -s "http://127.0.0.1:$port_a/")" == "Hello John!" ]] || {
  echo "bench: (a) answers wrongly" >&2
  exit 1
}

# ---------------------------------------------------------------- memory of the stack
# stack_memory -> "processes rss_kb pss_kb", summed over the master and all its descendants.
stack_memory() {
  local all p rss=0 pss=0 count=0
  all=$(ps -e -o pid=,ppid= | awk -v root="$stack_pid" '
    { parent[$1] = $2 } END {
      found[root] = 1; changed = 1
      while (changed) { changed = 0; for (p in parent) if (!(p in found) && (parent[p] in found)) { found[p] = 1; changed = 1 } }
      for (p in found) print p }')
  for p in $all; do
    [[ -r /proc/$p/smaps_rollup ]] || continue
    rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
    count=$((count + 1))
  done
  echo "$count $rss $pss"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------- measuring
sleep 1
read -r idle_count idle_rss idle_pss <<<"$(stack_memory)"
echo "bench: wrk on CPU $load_cpu, servers on CPU $server_cpu, $connections connections," \
  "$rounds interleaved rounds of ${duration}s"
for key in a b c d; do : >"$work/results.$key"; done
for round in $(seq 1 "$rounds"); do
  for key in a b c d; do
    port_var="port_$key"
    read -r r q50 q99 qmax e <<<"$(run_wrk "${!port_var}" "$connections" "$duration")"
    echo "$r $q50 $q99 $qmax $e" >>"$work/results.$key"
    printf '  round %d %s: %s req/s, p50 %s ms, p99 %s ms, max %s ms, errors %s\n' "$round" "$key" "$r" "$q50" "$q99" "$qmax" "$e"
  done
done

declare -A rps p50 p99 label=([a]="nginx return (ceiling)" [b]="full stack (batch)" [c]="node:http" [d]="Express+helmet")
echo
printf '%-24s %12s %10s %10s\n' "server" "req/s" "p50 ms" "p99 ms"
for key in a b c d; do
  rps[$key]=$(cut -d' ' -f1 "$work/results.$key" | median)
  p50[$key]=$(cut -d' ' -f2 "$work/results.$key" | median)
  p99[$key]=$(cut -d' ' -f3 "$work/results.$key" | median)
  printf '%-24s %12.0f %10.2f %10.2f\n' "${label[$key]}" "${rps[$key]}" "${p50[$key]}" "${p99[$key]}"
done
b_a=$(paired_ratio "$work/results.b" "$work/results.a")
b_c=$(paired_ratio "$work/results.b" "$work/results.c")
b_d=$(paired_ratio "$work/results.b" "$work/results.d")
echo "ratios (median of the per-round ratios): b/a $b_a (target >= 0.5), b/c $b_c (target >= 1.0), b/d $b_d"

# ---------------------------------------------------------------- concurrency sweep of (b)
echo
echo "full stack, concurrency sweep (5 s each):"
sweep_errors=0
worst_max=0
for c in 1 8 64 256 512; do
  read -r r q50 q99 qmax e <<<"$(run_wrk "$port_b" "$c" 5)"
  printf '  %4d connections: %8.0f req/s, p50 %7.2f ms, p99 %7.2f ms, max %8.2f ms, errors %s\n' \
    "$c" "$r" "$q50" "$q99" "$qmax" "$e"
  sweep_errors=$((sweep_errors + e))
  worst_max=$(awk -v a="$worst_max" -v b="$qmax" 'BEGIN { print (b > a) ? b : a }')
done

read -r _ busy_rss busy_pss <<<"$(stack_memory)"
echo
echo "memory of the stack ($idle_count processes: master, workers, nginx master and workers):"
echo "  idle, before any load: RSS $(mb "$idle_rss") MB, PSS $(mb "$idle_pss") MB (target PSS < 6 MB)"
echo "  after the 512-connection run: RSS $(mb "$busy_rss") MB, PSS $(mb "$busy_pss") MB"

echo
printf 'summary: stack %.0f req/s p99 %.2f ms; b/a %s b/c %s b/d %s; sweep 1..512 errors %d worst max %.0f ms; idle PSS %.1f MB\n' \
  "${rps[b]}" "${p99[b]}" "$b_a" "$b_c" "$b_d" "$sweep_errors" "$worst_max" "$(mb "$idle_pss")"
