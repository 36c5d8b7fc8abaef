#!/usr/bin/env bash
# make bench-peers: the reference workloads of WORKLOAD.md against inv and
# against the peers, in one go on one machine, then the side-by-side table.
#
#   make bench-peers                                   # SCALE=10, PEERS="redis-always postgres"
#   SCALE=40 PEERS="redis-always redis-everysec etcd postgres" make bench-peers
#   WORKLOADS=flash-hot SCALE=100 PEERS= make bench-peers   # inv alone
#
# inv: builds invd and invbench, and for each workload starts a fresh invd
# (temp data folder, 127.0.0.1, the first free ports from 17420 up,
# log_level warn, every other setting its default: 16 shards, fsync'd group
# commit), runs invbench with the bare ids of bench/ids.go (--run-id ""), and
# stops it. A fresh server per workload, as the peers' state is new per
# workload, so no run pays for the data of the one before.
# Peers: ../shared/peers/run.sh with the same SCALE, CONNS, INFLIGHT, TIMEOUT
# and WORKLOADS (it apt-installs Redis, etcd and PostgreSQL when missing, so
# it needs root then).
#
# Env: SCALE (10), CONNS (64), INFLIGHT (16), TIMEOUT (60s: no new orders
# after it, 5 s grace), PEERS ("redis-always postgres"; "" = none),
# WORKLOADS (all three), PEERS_DIR (../shared/peers), INVBENCH_FLAGS (more
# invbench flags, e.g. "--batch-delay 100us"; default none), OUT (a folder to keep
# results.jsonl, the invbench outputs, the HTML reports and the table in),
# KEEP=1 keeps the temp dir (invd logs and data).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SCALE=${SCALE:-10}
CONNS=${CONNS:-64}
INFLIGHT=${INFLIGHT:-16}
TIMEOUT=${TIMEOUT:-60s}
PEERS=${PEERS-"redis-always postgres"}
WORKLOADS=${WORKLOADS:-"flash-hot flash-spread pickup-window"}
PEERS_DIR=${PEERS_DIR:-$ROOT/../shared/peers}
INVBENCH_FLAGS=${INVBENCH_FLAGS:-}

WORK=$(mktemp -d -t bench-peers.XXXXXX)
INVD_PID=
cleanup() {
  set +e
  if [ -n "$INVD_PID" ]; then kill "$INVD_PID" 2>/dev/null && wait "$INVD_PID" 2>/dev/null; fi
  if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT" && cp "$WORK"/results.jsonl "$WORK"/*.out "$WORK"/*.html "$WORK"/table.md "$OUT"/ 2>/dev/null
    echo "# results in $OUT" >&2
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "# kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
touch "$WORK/results.jsonl"

port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
free_port() { # first free port from $1 up
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); [ "$p" -lt 65000 ] || { echo "no free port" >&2; return 1; }; done
  echo "$p"
}

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" >&2
echo "# scale $SCALE, $CONNS conns x $INFLIGHT in flight, timeout $TIMEOUT, workloads: $WORKLOADS; peers: ${PEERS:-none}; invbench flags: ${INVBENCH_FLAGS:-none}" >&2
# Other work on the machine takes cores from both sides: measure how idle
# the CPU is for 2 s before each part and say so next to the figures.
busy() {
  local i1 t1 i2 t2 idle
  read -r i1 t1 < <(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  sleep 2
  read -r i2 t2 < <(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  idle=$(( 100 * (i2 - i1) / (t2 - t1 > 0 ? t2 - t1 : 1) ))
  echo "# CPU idle ${idle}% over the 2 s before $1 (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  [ "$idle" -ge 85 ] || echo "# warning: the machine is busy with other work: figures will be low and noisy" >&2
  return 0
}

echo "# building invd and invbench" >&2
(cd "$ROOT" && go build -o "$WORK/bin/" ./cmd/invd ./cmd/invbench)

# ---- inv: a fresh invd per workload ----
for wl in $WORKLOADS; do
  port=$(free_port 17420)
  http=$(free_port $((port + 1)))
  data="$WORK/invd-$wl"
  mkdir -p "$data"
  printf 'log_level = warn\n' > "$data.conf"
  "$WORK/bin/invd" --data "$data" --listen 127.0.0.1:"$port" --http 127.0.0.1:"$http" --config "$data.conf" \
    > "$WORK/invd-$wl.log" 2>&1 &
  INVD_PID=$!
  up=0
  for _ in $(seq 1 600); do # 60 s
    if ! port_free "$port"; then up=1; break; fi
    kill -0 "$INVD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ $up = 0 ]; then
    echo "invd did not come up for $wl:" >&2; tail -20 "$WORK/invd-$wl.log" >&2; exit 1
  fi
  echo "# inv $wl: invd pid $INVD_PID on 127.0.0.1:$port" >&2
  busy "inv $wl"
  rc=0
  timeout 600 "$WORK/bin/invbench" --addr 127.0.0.1:"$port" --workload "$wl" --scale "$SCALE" \
    --conns "$CONNS" --inflight "$INFLIGHT" --duration "$TIMEOUT" --run-id "" --quiet --metrics 127.0.0.1:"$http" $INVBENCH_FLAGS \
    --report "$WORK/inv-$wl.html" > "$WORK/inv-$wl.out" || rc=$?
  grep '^{' "$WORK/inv-$wl.out" | tee -a "$WORK/results.jsonl" || true
  tail -1 "$WORK/inv-$wl.out"
  [ $rc = 0 ] || echo "inv $wl: invbench exited $rc" >&2
  kill "$INVD_PID" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$INVD_PID" 2>/dev/null || break; sleep 0.1; done # 30 s
  kill -9 "$INVD_PID" 2>/dev/null || true
  wait "$INVD_PID" 2>/dev/null || true
  INVD_PID=
done

# ---- the peers ----
if [ -n "$PEERS" ]; then
  busy "the peers ($PEERS)"
  SCALE=$SCALE CONNS=$CONNS INFLIGHT=$INFLIGHT TIMEOUT=$TIMEOUT PEERS=$PEERS WORKLOADS=$WORKLOADS \
    bash "$PEERS_DIR/run.sh" | tee "$WORK/peers.out" | grep '^{' >> "$WORK/results.jsonl" || echo "peers: run.sh failed" >&2
  grep '^peer=' "$WORK/peers.out" || true
fi

echo
"$WORK/bin/invbench" table "$WORK/results.jsonl" | tee "$WORK/table.md"
