package server

import (
	"sync"

	"github.com/invsys/inv/protocol"
)

// snapshotParallel bounds how many shards are asked to snapshot at once for
// one SNAPSHOT request. The node itself writes at most snapshots_at_once
// of them at the same moment (raftstore.Options.SnapshotsAtOnce); the
// others wait their turn there.
const snapshotParallel = 4

// serveSnapshot answers SNAPSHOT (event loop): every shard of this node
// takes a raft snapshot now. The snapshots run on their own goroutines, off
// the event loop, and the reply is written when the last one is done, like
// any other reply. The request was admitted (counted in flight), so
// Shutdown waits for it before it stops the node.
func (s *Server) serveSnapshot(c *conn, reqID uint32) {
	go func() {
		reply := protocol.SnapshotReply{NodeID: s.cfg.NodeID, Shards: s.snapshotShards()}
		taken, unchanged, failed := 0, 0, 0
		for _, sh := range reply.Shards {
			switch sh.Status {
			case protocol.SnapshotTaken:
				taken++
			case protocol.SnapshotUnchanged:
				unchanged++
			default:
				failed++
			}
		}
		log := s.log.Info
		if failed > 0 {
			log = s.log.Warn
		}
		log("snapshot requested", "conn", c.id, "remote", c.remote, "taken", taken, "unchanged", unchanged,
			"failed", failed)
		c.lock()
		if !c.closed {
			start := len(c.out)
			c.out = protocol.AppendSnapshotReply(c.out, reqID, &reply)
			c.finishFrame(start, reqID)
		}
		c.inflight.Add(-1)
		c.unlock(false)
		s.inflight.Add(-1)
	}()
}

// snapshotShards snapshots every shard of the node, a few at a time, and
// returns their outcomes in shard order. A shard that fails, or that has
// nothing new since its last snapshot, does not stop the others.
func (s *Server) snapshotShards() []protocol.SnapshotShard {
	out := make([]protocol.SnapshotShard, 0, len(s.shards))
	for i, sh := range s.shards {
		if sh != nil {
			out = append(out, protocol.SnapshotShard{Shard: uint16(i)})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, snapshotParallel)
	for i := range out {
		r := &out[i]
		sh := s.shards[r.Shard]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if s.draining.Load() {
				r.Status, r.Message = protocol.SnapshotFailed, "the server is shutting down"
				return
			}
			index, taken, err := sh.SnapshotNow()
			switch {
			case err != nil:
				s.log.Warn("snapshot failed", "shard", r.Shard, "error", err)
				r.Status, r.Message = protocol.SnapshotFailed, clip(err.Error())
			case taken:
				r.Status, r.Index = protocol.SnapshotTaken, index
			default:
				r.Status, r.Index = protocol.SnapshotUnchanged, index
			}
		}()
	}
	wg.Wait()
	return out
}
