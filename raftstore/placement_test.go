package raftstore

import (
	"slices"
	"testing"
)

func TestPlacement(t *testing.T) {
	ids := []string{"node-1", "node-2", "node-3", "node-4", "node-5"}
	count := map[string]int{}
	const shards = 300
	for s := range uint16(shards) {
		p := Placement(s, ids, 3)
		if len(p) != 3 {
			t.Fatalf("shard %d: %v", s, p)
		}
		// The same from any order of the list, and stable.
		rev := slices.Clone(ids)
		slices.Reverse(rev)
		if q := Placement(s, rev, 3); !slices.Equal(p, q) {
			t.Fatalf("shard %d: %v from one order, %v from another", s, p, q)
		}
		seen := map[string]bool{}
		for _, id := range p {
			if seen[id] || !slices.Contains(ids, id) {
				t.Fatalf("shard %d: %v", s, p)
			}
			seen[id] = true
			count[id]++
		}
		// Removing a node that does not hold the shard moves nothing.
		for _, gone := range ids {
			if slices.Contains(p, gone) {
				continue
			}
			rest := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == gone })
			if q := Placement(s, rest, 3); !slices.Equal(p, q) {
				t.Fatalf("shard %d: %v; without %s: %v", s, p, gone, q)
			}
		}
	}
	// Evenly spread: each node holds about 3/5 of the shards.
	for id, n := range count {
		if n < shards*3/5*8/10 || n > shards*3/5*12/10 {
			t.Errorf("%s holds %d of %d shards", id, n, shards)
		}
	}
	if p := Placement(7, ids[:2], 3); len(p) != 2 {
		t.Errorf("rf above the node count: %v", p)
	}
	if p := Placement(7, ids, 0); len(p) != 5 {
		t.Errorf("rf 0: %v", p)
	}
}
