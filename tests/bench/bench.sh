#!/usr/bin/env bash
# Benchmark (not a test): wrk on one core, the server on the other, interleaved rounds against
#   (a) nginx alone answering `return 200 "Hello John!"` with the same configuration (the ceiling),
#   (b) the full stack (nginx + FastCGI workers),
#   (c) a plain Node.js http server, (d) Express + helmet;
# then a concurrency sweep of (b) from 1 to 512 connections, and the stack's idle memory.
# Usage: bench.sh build/hello   (knobs: ROUNDS, SECONDS_PER_RUN, CONNECTIONS)
set -euo pipefail

binary=$(realpath "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${ROUNDS:-3}
duration=${SECONDS_PER_RUN:-8}
connections=${CONNECTIONS:-50}

for tool in wrk taskset node nginx; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps installs it)" >&2; exit 1; }
done
[[ -d "$repo/node_modules/express" && -d "$repo/node_modules/helmet" ]] ||
  { echo "bench: express/helmet missing in node_modules (run make deps)" >&2; exit 1; }
if [[ $(nproc) -ge 2 ]]; then load_cpu=0; server_cpu=1; else load_cpu=0; server_cpu=0; fi

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

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

# ---------------------------------------------------------------- the four servers
port_a=$(free_port); port_b=$(free_port); metrics_b=$(free_port); port_c=$(free_port); port_d=$(free_port)

# (a): the real template, with the responder replaced by `return` and placeholders filled.
mkdir -p "$work/a"
sed -e "s|\${NGINX_WORKERS}|1|; s|\${RUNTIME_DIR}|$work/a|g; s|\${LISTEN_ADDRESS}|127.0.0.1|g" \
    -e "s|\${PORT}|$port_a|; s|\${METRICS_PORT}|$(free_port)|g" \
    -e "s|\${UPSTREAM_SERVERS}|server unix:$work/a/none.sock;|" \
    -e 's|            fastcgi_pass hello_workers;|            return 200 "Hello John!";|' \
    "$repo/nginx/nginx.conf.template" >"$work/a/nginx.conf"
taskset -c "$server_cpu" nginx -p "$work/a/" -c "$work/a/nginx.conf" -e stderr >/dev/null 2>"$work/a.err" &
pids+=($!)

mkdir -p "$work/b"
PORT=$port_b METRICS_PORT=$metrics_b LISTEN_ADDRESS=127.0.0.1 RUNTIME_DIR=/tmp \
  NGINX_TEMPLATE="$repo/nginx/nginx.conf.template" LOG_LEVEL=warn \
  taskset -c "$server_cpu" "$binary" >/dev/null 2>"$work/b.err" &
pids+=($!)
stack_pid=$!

PORT=$port_c taskset -c "$server_cpu" node "$repo/tests/bench/node-http.js" &
pids+=($!)
PORT=$port_d NODE_PATH="$repo/node_modules" taskset -c "$server_cpu" node "$repo/tests/bench/express-helmet.js" &
pids+=($!)

for p in $port_a $port_b $port_c $port_d; do wait_http "http://127.0.0.1:$p/"; done
[[ "$(curl -s "http://127.0.0.1:$port_a/")" == "Hello John!" ]] || { echo "bench: (a) answers wrongly" >&2; exit 1; }

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
# run_wrk PORT CONNECTIONS SECONDS -> "rps p50_ms p99_ms max_ms errors"
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
    else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
run_wrk() {
  local out rps p50 p99 max errors threads=2
  [[ $2 -lt 2 ]] && threads=1
  out=$(taskset -c "$load_cpu" wrk -t"$threads" -c"$2" -d"${3}s" --latency "http://127.0.0.1:$1/?name=John" 2>&1)
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  max=$(to_ms "$(awk '$1 == "Latency" {print $4}' <<<"$out")")
  errors=$(awk '/Socket errors/ {gsub(",",""); s = $4 + $6 + $8 + $10} /Non-2xx/ {n = $5}
                END {print s + n + 0}' <<<"$out")
  echo "$rps $p50 $p99 $max $errors"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

sleep 1
read -r idle_count idle_rss idle_pss <<<"$(stack_memory)"
echo "bench: wrk on CPU $load_cpu, servers on CPU $server_cpu, $connections connections," \
     "$rounds interleaved rounds of ${duration}s"
for key in a b c d; do :> "$work/results.$key"; done
for round in $(seq 1 "$rounds"); do
  for key in a b c d; do
    port_var="port_$key"
    read -r r q50 q99 qmax e <<<"$(run_wrk "${!port_var}" "$connections" "$duration")"
    echo "$r $q50 $q99 $qmax $e" >>"$work/results.$key"
    printf '  round %d %s: %s req/s, p50 %s ms, p99 %s ms, max %s ms, errors %s\n' "$round" "$key" "$r" "$q50" "$q99" "$qmax" "$e"
  done
done

declare -A rps p50 p99 label=([a]="nginx return (ceiling)" [b]="full stack" [c]="node:http" [d]="Express+helmet")
echo
printf '%-24s %12s %10s %10s\n' "server" "req/s" "p50 ms" "p99 ms"
for key in a b c d; do
  rps[$key]=$(cut -d' ' -f1 "$work/results.$key" | median)
  p50[$key]=$(cut -d' ' -f2 "$work/results.$key" | median)
  p99[$key]=$(cut -d' ' -f3 "$work/results.$key" | median)
  printf '%-24s %12.0f %10.2f %10.2f\n' "${label[$key]}" "${rps[$key]}" "${p50[$key]}" "${p99[$key]}"
done
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'; }
b_a=$(ratio "${rps[b]}" "${rps[a]}"); b_c=$(ratio "${rps[b]}" "${rps[c]}"); b_d=$(ratio "${rps[b]}" "${rps[d]}")
echo "ratios (median req/s): b/a $b_a (target >= 0.5), b/c $b_c (target >= 1.0), b/d $b_d"

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
