#!/usr/bin/env bash
# make bench-peers: the reference workloads of WORKLOAD.md against inv and
# against the peers (Redis with Lua, etcd, PostgreSQL), in one go on one
# machine, from this repository alone, then the side-by-side table.
#
#   make bench-peers                                   # SCALE=10, PEERS="redis-always postgres"
#   SCALE=40 PEERS="redis-always redis-everysec etcd postgres" make bench-peers
#   WORKLOADS=flash-hot SCALE=100 PEERS= make bench-peers   # inv alone
#   WORKLOADS=flash-hot SCALE=100 INV=0 PEERS=etcd make bench-peers   # one peer alone
#
# inv: builds invd and invbench, and for each workload starts a fresh invd
# (temp data folder, 127.0.0.1, the first free ports from 17420 up,
# log_level warn, every other setting its default: 16 shards, fsync'd group
# commit), runs invbench with the bare ids of bench/ids.go (--run-id ""), and
# stops it. A fresh server per workload, as the peers' state is new per
# workload, so no run pays for the data of the one before.
#
# Peers (package bench/peers, invbench --target): installs what is missing
# with apt (redis-server and redis-tools, etcd-server, postgresql-15: as
# root, with a temporary policy-rc.d so that the packages start no
# service), then for each peer starts its server on 127.0.0.1 only with the
# peers' durability settings, in the temp dir:
#   redis-always    redis-server :6390, appendonly yes, appendfsync always
#   redis-everysec  the same with appendfsync everysec (not durable: for reference)
#   etcd            etcd :23790 (peer :23800), one node, WAL fsync before reply
#   postgres        PostgreSQL 15 :54329, initdb'd as user postgres with trust
#                   on loopback, fsync = on, synchronous_commit = on
# runs invbench --target PEER for each workload against it (each run
# empties the server first) and stops it. Server CPU per request: Redis's
# INFO cpu; etcd's and PostgreSQL's processes from /proc (--server-pid).
# It refuses to start a peer whose port is taken. Every wait is bounded
# (30 s), every run too (invbench's --duration plus 5 s of grace, and
# `timeout 600` around it); a trap stops everything it started on any exit.
#
# Env: SCALE (10), CONNS (64), INFLIGHT (16), TIMEOUT (60s: no new orders
# after it, 5 s grace), PEERS ("redis-always postgres"; "" = none), INV (1;
# 0 = skip inv), WORKLOADS (all three), INVBENCH_FLAGS (more invbench flags
# for inv's runs, e.g. "--batch-delay 100us"; default none), OUT (a folder
# to keep results.jsonl, the invbench outputs, the HTML reports and the
# table in), KEEP=1 keeps the temp dir (logs and data).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SCALE=${SCALE:-10}
CONNS=${CONNS:-64}
INFLIGHT=${INFLIGHT:-16}
TIMEOUT=${TIMEOUT:-60s}
PEERS=${PEERS-"redis-always postgres"}
INV=${INV:-1}
WORKLOADS=${WORKLOADS:-"flash-hot flash-spread pickup-window"}
INVBENCH_FLAGS=${INVBENCH_FLAGS:-}
REDIS_PORT=6390 ETCD_PORT=23790 ETCD_PEER_PORT=23800 PG_PORT=54329
PGBIN=/usr/lib/postgresql/15/bin

port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
free_port() { # first free port from $1 up
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); [ "$p" -lt 65000 ] || { echo "no free port" >&2; return 1; }; done
  echo "$p"
}

# ---- the peers' servers: check the names and ports, install what is missing ----
want_redis=0 want_etcd=0 want_pg=0
for peer in $PEERS; do
  case $peer in
  redis-always | redis-everysec) want_redis=1 ;;
  etcd) want_etcd=1 ;;
  postgres) want_pg=1 ;;
  *) echo "unknown peer $peer (redis-always, redis-everysec, etcd, postgres)" >&2; exit 2 ;;
  esac
done
ports=()
[ $want_redis = 1 ] && ports+=($REDIS_PORT)
[ $want_etcd = 1 ] && ports+=($ETCD_PORT $ETCD_PEER_PORT)
[ $want_pg = 1 ] && ports+=($PG_PORT)
for port in "${ports[@]}"; do
  if ! port_free "$port"; then
    echo "port $port on 127.0.0.1 is in use; stop whatever holds it first" >&2; exit 1
  fi
done
missing=()
if [ $want_redis = 1 ]; then
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
fi
[ $want_etcd = 1 ] && { command -v etcd >/dev/null || missing+=(etcd-server); }
[ $want_pg = 1 ] && { [ -x $PGBIN/initdb ] || missing+=(postgresql-15); }
ADDED_POLICY=0
remove_policy() { if [ $ADDED_POLICY = 1 ]; then rm -f /usr/sbin/policy-rc.d; ADDED_POLICY=0; fi; }
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "need root to apt-get install ${missing[*]}" >&2; exit 1; }
  echo "# installing ${missing[*]}" >&2
  trap remove_policy EXIT
  if [ ! -e /usr/sbin/policy-rc.d ]; then # keep the packages from starting their services
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; ADDED_POLICY=1
  fi
  timeout 900 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  remove_policy
  trap - EXIT
fi
# PostgreSQL refuses to run as root: as root it runs as user postgres.
as_pg() { "$@"; }
if [ $want_pg = 1 ] && [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg() { su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; }
fi

WORK=$(mktemp -d -t bench-peers.XXXXXX)
chmod 755 "$WORK"
INVD_PID=
PIDS=()
cleanup() {
  set +e
  remove_policy
  if [ -n "$INVD_PID" ]; then kill "$INVD_PID" 2>/dev/null && wait "$INVD_PID" 2>/dev/null; fi
  if [ -f "$WORK/pg/data/postmaster.pid" ]; then
    as_pg $PGBIN/pg_ctl -D "$WORK/pg/data" -m fast -w -t 30 stop >/dev/null
  fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT" && cp "$WORK"/results.jsonl "$WORK"/*.out "$WORK"/*.html "$WORK"/table.md "$OUT"/ 2>/dev/null
    echo "# results in $OUT" >&2
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "# kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
touch "$WORK/results.jsonl"

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" >&2
echo "# scale $SCALE, $CONNS conns x $INFLIGHT in flight, timeout $TIMEOUT, workloads: $WORKLOADS; inv: $([ "$INV" = 1 ] && echo yes || echo no); peers: ${PEERS:-none}; invbench flags: ${INVBENCH_FLAGS:-none}" >&2
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

# wait_for NAME CMD...: retry CMD for at most 30 s
wait_for() {
  local name=$1; shift
  for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$name did not come up" >&2; return 1
}

echo "# building invd and invbench" >&2
(cd "$ROOT" && go build -o "$WORK/bin/" ./cmd/invd ./cmd/invbench)

# bench NAME WORKLOAD ARGS...: one invbench run, its JSON line into results.jsonl
bench() {
  local name=$1 wl=$2 rc=0; shift 2
  busy "$name $wl"
  timeout 600 "$WORK/bin/invbench" --workload "$wl" --scale "$SCALE" --conns "$CONNS" --inflight "$INFLIGHT" \
    --duration "$TIMEOUT" --quiet --report "$WORK/$name-$wl.html" "$@" > "$WORK/$name-$wl.out" || rc=$?
  grep '^{' "$WORK/$name-$wl.out" | tee -a "$WORK/results.jsonl" || true
  tail -1 "$WORK/$name-$wl.out"
  [ $rc = 0 ] || echo "$name $wl: invbench exited $rc" >&2
}

# stop_pid PID: SIGTERM, at most 30 s, then SIGKILL
stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# ---- inv: a fresh invd per workload ----
if [ "$INV" = 1 ]; then
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
    # shellcheck disable=SC2086 # INVBENCH_FLAGS is a list of flags
    bench inv "$wl" --addr 127.0.0.1:"$port" --run-id "" --metrics 127.0.0.1:"$http" $INVBENCH_FLAGS
    stop_pid "$INVD_PID"
    INVD_PID=
  done
fi

# ---- the peers: one server each, every workload against it ----
for peer in $PEERS; do
  case $peer in
  redis-always | redis-everysec)
    mode=${peer#redis-}
    mkdir -p "$WORK/$peer"
    redis-server --bind 127.0.0.1 --port $REDIS_PORT --protected-mode yes --dir "$WORK/$peer" \
      --appendonly yes --appendfsync "$mode" --save "" --daemonize no \
      --logfile "$WORK/$peer.log" --maxclients 1000 &
    pid=$!; PIDS+=($pid)
    wait_for redis redis-cli -h 127.0.0.1 -p $REDIS_PORT ping
    echo "# $peer: redis-server pid $pid on 127.0.0.1:$REDIS_PORT, appendfsync $mode" >&2
    for wl in $WORKLOADS; do bench "$peer" "$wl" --target "$peer" --addr 127.0.0.1:$REDIS_PORT; done
    stop_pid $pid
    ;;
  etcd)
    etcd --name peers --data-dir "$WORK/etcd" \
      --listen-client-urls http://127.0.0.1:$ETCD_PORT --advertise-client-urls http://127.0.0.1:$ETCD_PORT \
      --listen-peer-urls http://127.0.0.1:$ETCD_PEER_PORT --initial-advertise-peer-urls http://127.0.0.1:$ETCD_PEER_PORT \
      --initial-cluster peers=http://127.0.0.1:$ETCD_PEER_PORT --quota-backend-bytes 8589934592 \
      --logger zap --log-outputs "$WORK/etcd.log" &
    pid=$!; PIDS+=($pid)
    if command -v curl >/dev/null; then
      wait_for etcd curl -sf http://127.0.0.1:$ETCD_PORT/health
    else
      wait_for etcd bash -c "exec 3<>/dev/tcp/127.0.0.1/$ETCD_PORT"
    fi
    echo "# etcd: pid $pid on 127.0.0.1:$ETCD_PORT" >&2
    for wl in $WORKLOADS; do bench etcd "$wl" --target etcd --addr 127.0.0.1:$ETCD_PORT --server-pid $pid; done
    stop_pid $pid
    ;;
  postgres)
    # $WORK/pg is the server's: data dir (data/), socket, server log
    mkdir -p "$WORK/pg"
    [ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
    as_pg $PGBIN/initdb -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 >"$WORK/initdb.log"
    cat >> "$WORK/pg/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$WORK/pg'
max_connections = 200
shared_buffers = 512MB
fsync = on
synchronous_commit = on
full_page_writes = on
max_wal_size = 4GB
EOF
    as_pg $PGBIN/pg_ctl -D "$WORK/pg/data" -l "$WORK/pg/pg.log" -w -t 30 start >/dev/null
    wait_for postgres $PGBIN/pg_isready -h 127.0.0.1 -p $PG_PORT
    pid=$(head -1 "$WORK/pg/data/postmaster.pid")
    echo "# postgres: postmaster pid $pid on 127.0.0.1:$PG_PORT" >&2
    for wl in $WORKLOADS; do bench postgres "$wl" --target postgres --addr 127.0.0.1:$PG_PORT --server-pid "$pid"; done
    as_pg $PGBIN/pg_ctl -D "$WORK/pg/data" -m fast -w -t 30 stop >/dev/null
    ;;
  esac
done

echo
"$WORK/bin/invbench" table "$WORK/results.jsonl" | tee "$WORK/table.md"
