#!/usr/bin/env bash
# CPU used by each process of one sweep step, read from /proc (utime + stime), so the cost per event of
# every role (server, publisher, Redis, load clients) can be compared between systems and builds.
# `docs/benchmarks.md` ("Where the CPU goes") records what it found. After `npm run build`:
#   bash apps/bench/scripts/cpu-by-process.sh agentcast 10000      (or ws, socketio; any rate)
# Extra environment (e.g. BENCH_GATEWAY_NODE_OPTIONS) is passed through to the bench.
set -euo pipefail
system=${1:?system: ws, socketio or agentcast}
rate=${2:?rate: events/s}
sample_s=${SAMPLE_SECONDS:-5}
root="$(cd "$(dirname "$0")/../../.." && pwd)"
node="$root/node_modules/node/bin/node"
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$node" "$root/apps/bench/dist/main.js" --only sweep --systems "$system" --rates "$rate" --duration 12000 --out "" >/dev/null 2>"$err" &
bench=$!
for _ in $(seq 1 240); do grep -q "clients (0 failed)" "$err" && break; sleep 0.5; done
sleep 5 # the unrecorded 1 s warm-up step, then into the measured step
declare -A before
pids=$(pgrep -f "redis-server|apps/gateway/dist|apps/bench/dist/children" || true)
for p in $pids; do before[$p]=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0); done
sleep "$sample_s"
hz=$(getconf CLK_TCK)
for p in $pids; do
  after=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
  pct=$(((after - before[$p]) * 100 / (sample_s * hz)))
  name=$(tr '\0' ' ' <"/proc/$p/cmdline" | grep -oE "redis-server|gateway|ws-server|sio-server|publisher|load-client" | head -1)
  printf '%4d %%  %s (pid %s)\n' "$pct" "$name" "$p"
done | sort -rn
wait "$bench" || true
grep "@$rate" "$err" || true
