// Package server is inv's network front: gnet v2 event loops that speak the
// binary protocol (package protocol) to clients, hand every decoded domain
// command to the router (package router), which takes it to the raft
// groups of its shards (package raftstore), and send the replies back in as
// few write syscalls as the load allows. Beside it runs a small HTTP server
// for Prometheus metrics, health and profiling.
//
// The path of one request:
//
//	event loop: frame ─► decode (aliasing the read buffer) ─► router.Serve
//	  ─► Shard.Propose (the proposer copies the command into its open batch)
//	proposer: raft entry of many commands ─► fsync ─► FSM apply ─► done(result)
//	done: encode the reply into the connection's outbound buffer, wake its loop
//	event loop: one write of every reply gathered since the last wake
//
// Nothing on that path blocks an event loop, and a single reserve allocates
// nothing in this package or the router: each call record comes from a
// pool and carries a pre-bound completion function.
//
// What lies between a decoded command and its shards (routing, read modes,
// fan-outs, the BATCH split, forwarding decisions, the coordinator of limits
// across shards, carts across shards, claim releases) is the router's
// (docs/adr/0065). This package keeps what touches the network: connections
// and HELLO, tokens and roles (auth.go), TLS (tls.go), limits (limits.go),
// the control frames (frames.go: PING, TOPOLOGY, SNAPSHOT, STATUS, ADMIN,
// SHARD_CALL), replies and their encoding (conn.go, batch.go), the
// SHARD_CALL connection pool that implements router.Forwarder
// (forward.go), the peer table that implements router.Peers (cluster.go,
// peers.go), SUBSCRIBE on a shard's durable change feed (subscribe.go),
// and the HTTP port: /metrics (metrics.go, opmetrics.go), /healthz,
// /readyz and, when enabled, /debug/pprof (http.go).
//
// The edge: the server accepts its own connections and hands them to gnet's
// loops (listener.go), so that no accept error stops the port; admission
// bounds connections before and after HELLO and per address (admission.go);
// frames are reassembled from reads of any size by drainInbound
// (framescan.go).
//
// docs/adr/0030..0035 and 0065 record the decisions: routing, the reply
// path, fan-out operations, the read path, SUBSCRIBE on the durable feed
// and the router; docs/adr/0057 the accept loop and admission.
//
// It may import engine, protocol, raftstore, router, gnet,
// VictoriaMetrics/metrics, hashicorp/go-metrics (to observe raft's own
// timings) and the standard library.
package server
