package raftstore

import (
	"hash/fnv"
	"slices"
	"strings"

	"github.com/hashicorp/raft"
)

// Placement of shard groups on nodes (docs/adr/0046): with a replication
// factor below the number of nodes, each shard lives on rf of them, chosen
// by rendezvous hashing: every node gets a score hash(shard, node id) and
// the rf highest win. Every node computes the same placement from the same
// member list, the shards spread evenly, and adding or removing a node
// moves only the shards it wins or held. The placement decides who
// bootstraps a new cluster's groups; afterwards each group's raft
// configuration is the truth.

// Placement returns the ids of ids that replicate shard, highest score
// first: rf of them, or all when rf <= 0 or rf >= len(ids).
func Placement(shard uint16, ids []string, rf int) []string {
	out := slices.Clone(ids)
	score := func(id string) uint64 {
		h := fnv.New64a()
		_, _ = h.Write([]byte(id))
		return mix64(h.Sum64() ^ uint64(shard)*0x9e3779b97f4a7c15)
	}
	slices.SortFunc(out, func(a, b string) int {
		sa, sb := score(a), score(b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return strings.Compare(a, b)
	})
	if rf > 0 && rf < len(out) {
		out = out[:rf]
	}
	return out
}

// mix64 is splitmix64's finalizer: every input bit moves every output bit,
// which FNV alone does not do for ids that differ in their last byte.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// placeServers returns the servers of all that bootstrap shard (nil if
// all is nil).
func placeServers(all []raft.Server, shard uint16, rf int) []raft.Server {
	if all == nil {
		return nil
	}
	ids := make([]string, len(all))
	for i, s := range all {
		ids[i] = string(s.ID)
	}
	keep := Placement(shard, ids, rf)
	out := make([]raft.Server, 0, len(keep))
	for _, s := range all {
		if slices.Contains(keep, string(s.ID)) {
			out = append(out, s)
		}
	}
	return out
}
