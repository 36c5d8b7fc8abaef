// Package router routes decoded commands to the shards of a node and keeps
// the rules that span shards. It sits between the network front (package
// server), which decodes frames and encodes replies, and the shard groups
// (package raftstore), which order and apply commands, and it touches
// neither sockets nor raft:
//
//   - routing (protocol.RouteOf, the table clients route by too): one
//     shard, every shard (a fan-out whose answers merge, fanout.go), or no
//     shard (an id no shard issued);
//   - read modes (propose.go): read index, local, or through the log, and
//     stale reads from any replica;
//   - BATCH frames split by shard, chains kept whole, reads after writes
//     through the log, results in request order (batch.go);
//   - forwarding (forward.go): which commands go to another node, and to
//     which one (the leader a NOT_LEADER hint names, or the nodes that hold
//     a shard this node holds no replica of); the wire itself is the
//     Forwarder's;
//   - the coordinator of a customer's limit across shards, one round a
//     reserve (round.go, chain.go, coordinator.go, docs/adr/0070), carts
//     across shards (cart.go), the outbox's deliveries (outbox.go), the
//     waits of cancels for their releases (cancelwait.go) and the sweeps of
//     claims and provisional holds past their deadline (sweep.go), run by
//     Run's loop;
//   - leader hints (errors.go): a shard's not-leader refusal turned into
//     the leader's node and client address.
//
// Every request is a small state machine driven by callbacks: a proposal's
// completion runs the next step, so that several proposals to different
// shards can be in flight for one request and no goroutine waits for any.
// Done is called exactly once per request, on whichever goroutine finished
// it; errors are values that carry engine codes (Refusal, NotLeaderError,
// ErrNotHeld) or the shard's own errors.
//
// It talks to shards through Shard, to other nodes through Forwarder and
// Peers, to time through Clock, and reports its coordinations' step
// latencies to an Observer: small interfaces, so that its stories
// are told in process over fake shards wrapping real engines
// (testdata/*.txt, env_test.go). docs/adr/0065 records the split.
//
// It may import engine, protocol and the standard library: no sockets, no
// raft, no metrics library (Stats are counters the server exports, and
// Config.ObserveStep a hook the server turns into histograms).
package router
