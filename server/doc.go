// Package server is inv's network front: gnet v2 event loops that speak the
// binary protocol (package protocol) to clients, route every domain op to
// the raft group of its shard (package raftstore), and send the replies back
// in as few write syscalls as the load allows. Beside it runs a small HTTP
// server for Prometheus metrics, health and profiling.
//
// The path of one request:
//
//	event loop: frame ─► decode (aliasing the read buffer) ─► route by shard
//	  ─► Shard.Propose (the proposer copies the command into its open batch)
//	proposer: raft entry of many commands ─► fsync ─► FSM apply ─► done(result)
//	done: encode the reply into the connection's outbound buffer, wake its loop
//	event loop: one write of every reply gathered since the last wake
//
// Nothing on that path blocks an event loop, and a single reserve allocates
// nothing in this package: its call record comes from a pool and carries a
// pre-bound completion function.
//
// Operations that concern every shard (a customer's block, unblock and tier,
// which the engine keeps per shard; get_customer; the lists; a pickup by
// code alone) fan out to all shards and merge the answers (fanout.go).
// BATCH frames are split by shard and answered in one frame (batch.go).
// SUBSCRIBE follows a shard's durable change feed, kept in Pebble by
// raftstore (subscribe.go). The HTTP port serves /metrics (metrics.go,
// opmetrics.go), /healthz, /readyz and, when enabled, /debug/pprof (http.go).
//
// The edge: the server accepts its own connections and hands them to gnet's
// loops (listener.go), so that no accept error stops the port; admission
// bounds connections before and after HELLO and per address (admission.go);
// frames are reassembled from reads of any size by drainInbound
// (framescan.go).
//
// docs/adr/0030..0035 record the decisions: routing, the reply path,
// fan-out operations, the read path and SUBSCRIBE on the durable feed;
// docs/adr/0056 the accept loop and admission.
//
// It may import engine, protocol, raftstore, gnet, VictoriaMetrics/metrics,
// hashicorp/go-metrics (to observe raft's own timings) and the standard
// library.
package server
