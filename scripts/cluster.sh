#!/usr/bin/env bash
# cluster.sh start|stop|status: a 3-node inv cluster on loopback (make
# cluster, make cluster-stop). Node 1 serves the protocol on the default
# 127.0.0.1:7420 (HTTP 7421), so invctl works against it without flags;
# node 2 on 7422 (7423), node 3 on 7424 (7425); raft on 7430..7432. Each
# node keeps its data in ./inv-cluster/node-N, its log in node-N.log and
# its pid in node-N.pid. The shared config (cluster.conf) holds the pickup
# secret every node must share, made once.
set -euo pipefail

DIR=${INV_CLUSTER_DIR:-inv-cluster}
BIN=${BIN:-bin}
SHARDS=${SHARDS:-16}
PEERS="1=127.0.0.1:7430=127.0.0.1:7420,2=127.0.0.1:7431=127.0.0.1:7422,3=127.0.0.1:7432=127.0.0.1:7424"

start() {
	mkdir -p "$DIR"
	if [ ! -f "$DIR/cluster.conf" ]; then
		secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
		printf 'pickup_secret = %s\npeers = %s\n' "$secret" "$PEERS" > "$DIR/cluster.conf"
		chmod 600 "$DIR/cluster.conf"
	fi
	for n in 1 2 3; do
		pidf="$DIR/node-$n.pid"
		if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
			echo "node $n already runs (pid $(cat "$pidf"))"
			continue
		fi
		client=$((7420 + 2 * (n - 1)))
		nohup "$BIN/invd" --config "$DIR/cluster.conf" --node-id "$n" --data "$DIR/node-$n" \
			--shards "$SHARDS" --raft "127.0.0.1:$((7429 + n))" \
			--listen "127.0.0.1:$client" --http "127.0.0.1:$((client + 1))" \
			>> "$DIR/node-$n.log" 2>&1 &
		echo $! > "$pidf"
	done
	# Each node opens its protocol port once every shard has a leader.
	for n in 1 2 3; do
		client=$((7420 + 2 * (n - 1)))
		for _ in $(seq 1 300); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$client") 2>/dev/null; then break; fi
			if ! kill -0 "$(cat "$DIR/node-$n.pid")" 2>/dev/null; then
				echo "node $n exited; see $DIR/node-$n.log" >&2
				tail -5 "$DIR/node-$n.log" >&2
				exit 1
			fi
			sleep 0.1
		done
	done
	status
}

stop() {
	for n in 1 2 3; do
		pidf="$DIR/node-$n.pid"
		[ -f "$pidf" ] || continue
		pid=$(cat "$pidf")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid"
			for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
			echo "node $n (pid $pid) stopped"
		fi
		rm -f "$pidf"
	done
}

status() {
	for n in 1 2 3; do
		client=$((7420 + 2 * (n - 1)))
		pidf="$DIR/node-$n.pid"
		if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
			echo "node $n: pid $(cat "$pidf"), protocol 127.0.0.1:$client, http 127.0.0.1:$((client + 1)), raft 127.0.0.1:$((7429 + n)), data $DIR/node-$n"
		else
			echo "node $n: down"
		fi
	done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
