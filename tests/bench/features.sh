#!/usr/bin/env bash
# Benchmark (not a test): what each part of the stack costs, measured side by side.
# Starts the full stack once per variant, all on the server core, each with one thing taken
# away or done the other way, then runs interleaved wrk rounds against all of them (all with
# WORKER_SCHED_POLICY=batch, as the stacks have a core to themselves; make bench-sched compares
# the policies):
#   product           nginx/nginx.conf.template as shipped
#   nginx-request-id  ids from nginx's $request_id (a CSPRNG call and a getpid() per request)
#                     instead of the responder's
#   no-access-log     access_log off
#   no-headers        the security add_header lines removed (X-Request-ID kept)
#   baseline          only with BASELINE_REF=<git ref>: the stack as it was at that commit (its
#                     fcgi-app/ built with mk/app.mk's flags, its nginx template); for a change to
#                     the request path, e.g. BASELINE_REF=<the commit before it>
# Prints the median req/s of each and the median of its per-round ratios to product.
# Usage: features.sh build/hello   (knobs: ROUNDS, SECONDS_PER_RUN, CONNECTIONS, BASELINE_REF)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
template=$repo/nginx/nginx.conf.template

# shellcheck source=tests/bench/lib.sh
source "$repo/tests/bench/lib.sh"
require_tools wrk taskset nginx curl python3
bench_init "$1" 5

# variant NAME SED_SCRIPT: the shipped template with one edit, which must change something.
variant() {
  sed -e "$2" "$template" >"$work/$1.template"
  if cmp -s "$template" "$work/$1.template"; then
    echo "bench: variant $1 changed nothing: the template no longer matches '$2'" >&2
    exit 1
  fi
}
cp "$template" "$work/product.template"
# shellcheck disable=SC2016 # literal nginx variables, for sed
variant nginx-request-id 's|fastcgi_param REQUEST_ID \$hello_client_request_id if_not_empty;|fastcgi_param REQUEST_ID $hello_own_request_id;|'
variant no-access-log 's|^\( *\)access_log /dev/stdout json .*|\1access_log off;|'
variant no-headers '/add_header/{/X-Request-ID/!d}'
names=(product nginx-request-id no-access-log no-headers)
if [[ -n ${BASELINE_REF:-} ]]; then
  mkdir "$work/baseline"
  git -C "$repo" archive "$BASELINE_REF" fcgi-app | tar -x -C "$work/baseline"
  make --no-print-directory -s -C "$work/baseline" -f "$repo/mk/app.mk" BUILD_DIR=out VERSION=baseline build
  git -C "$repo" show "$BASELINE_REF:nginx/nginx.conf.template" >"$work/baseline.template"
  names+=(baseline)
fi

declare -A port
for name in "${names[@]}"; do
  port[$name]=$(free_port)
  if [[ $name == baseline ]]; then
    binary=$work/baseline/out/hello start_stack "$server_cpu" "$work/$name.template" "${port[$name]}" \
      "$work/$name.err" WORKER_SCHED_POLICY=batch
  else
    start_stack "$server_cpu" "$work/$name.template" "${port[$name]}" "$work/$name.err" WORKER_SCHED_POLICY=batch
  fi
done
for name in "${names[@]}"; do
  wait_http "http://127.0.0.1:${port[$name]}/" || {
    cat "$work/$name.err" >&2
    exit 1
  }
done

echo "bench: what each part costs; wrk on CPU $load_cpu, stacks on CPU $server_cpu," \
  "$connections connections, $rounds interleaved rounds of ${duration}s"
for round in $(seq 1 "$rounds"); do
  line="  round $round:"
  # Each round starts with the next variant: the first run of a round was seen to lose ~10 %
  # on a busy machine, which must not always fall on the same variant.
  shift_by=$(((round - 1) % ${#names[@]}))
  for name in "${names[@]:shift_by}" "${names[@]:0:shift_by}"; do
    read -r r _ q99 _ e <<<"$(run_wrk "${port[$name]}" "$connections" "$duration")"
    echo "$r $q99 $e" >>"$work/results.$name"
    line+=" $name $(printf '%.0f' "$r")"
  done
  echo "$line"
done

echo
printf '%-16s %10s %12s %10s %8s\n' variant "req/s" "vs product" "p99 ms" errors
summary="features:"
for name in "${names[@]}"; do
  r=$(cut -d' ' -f1 "$work/results.$name" | median)
  q99=$(cut -d' ' -f2 "$work/results.$name" | median)
  e=$(awk '{s += $3} END {print s + 0}' "$work/results.$name")
  vs=$(paired_ratio "$work/results.$name" "$work/results.product")
  printf '%-16s %10.0f %12s %10.2f %8d\n' "$name" "$r" "$vs" "$q99" "$e"
  [[ $name == product ]] || summary+=" $name $vs"
done
echo
echo "$summary (median of the per-round req/s ratios to product)"
