package main

import (
	"errors"
	"fmt"

	"github.com/invsys/inv/protocol"
)

type snapshotJSON struct {
	Node   jsonID              `json:"node"`
	Shards []snapshotShardJSON `json:"shards"`
}

type snapshotShardJSON struct {
	Shard   uint16 `json:"shard"`
	Status  string `json:"status"`          // taken, unchanged or failed
	Index   uint64 `json:"index"`           // taken: the new snapshot's; unchanged: the newest one's (0: none)
	Message string `json:"error,omitempty"` // failed: why
}

// errSnapshotFailed makes invctl exit 3 when a shard could not snapshot
// (after printing every shard's outcome).
var errSnapshotFailed = errors.New("some shards failed to snapshot")

// snapshot asks the node at --addr to take a raft snapshot of every shard
// it holds, now, and prints each shard's outcome: taken (at the new
// snapshot's index), unchanged (nothing new since its last snapshot) or
// failed. Operator tokens only.
func snapshot(e *env, args []string) error {
	fs := newFlags(e, "snapshot")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	r, err := cl.Snapshot(c)
	if err != nil {
		return err
	}
	out := snapshotJSON{Node: jsonID(r.NodeID), Shards: make([]snapshotShardJSON, len(r.Shards))}
	failed := 0
	for i, s := range r.Shards {
		out.Shards[i] = snapshotShardJSON{Shard: s.Shard, Status: s.Status.String(), Index: s.Index, Message: s.Message}
		if s.Status == protocol.SnapshotFailed {
			failed++
		}
	}
	if err := show(e, out, []string{"SHARD", "STATUS", "INDEX", "ERROR"}, func() [][]string {
		rows := make([][]string, len(out.Shards))
		for i, s := range out.Shards {
			idx := "-"
			if s.Index != 0 {
				idx = num(s.Index)
			}
			rows[i] = []string{num(uint64(s.Shard)), s.Status, idx, s.Message}
		}
		return rows
	}); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d", errSnapshotFailed, failed, len(out.Shards))
	}
	return nil
}
