package main

import (
	"fmt"
	"strings"
)

type clusterJSON struct {
	Version uint64      `json:"version"`
	Nodes   []nodeJSON  `json:"nodes"`
	Shards  []shardJSON `json:"shards"`
}

type nodeJSON struct {
	ID   uint32 `json:"id"`
	Addr string `json:"addr"`
}

type shardJSON struct {
	Shard    int      `json:"shard"`
	Leader   uint32   `json:"leader"` // 0: none known (an election is running)
	Replicas []uint32 `json:"replicas"`
}

// clusterStatus prints TOPOLOGY: the nodes, and each shard's leader and
// replicas. Raft indexes are on each node's /metrics
// (inv_shard_commit_index, inv_shard_applied_index).
func clusterStatus(e *env, args []string) error {
	fs := newFlags(e, "cluster status")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	t, err := cl.Topology(c)
	if err != nil {
		return err
	}
	out := clusterJSON{Version: t.Version}
	addr := map[uint32]string{}
	for _, n := range t.Nodes {
		out.Nodes = append(out.Nodes, nodeJSON{ID: n.ID, Addr: n.Addr})
		addr[n.ID] = n.Addr
	}
	for i, s := range t.Shards {
		out.Shards = append(out.Shards, shardJSON{Shard: i, Leader: s.Leader, Replicas: s.Replicas})
	}
	if e.json {
		return show(e, out, nil, nil)
	}
	fmt.Fprintf(e.stdout, "topology version %d, %d nodes, %d shards\n\n", t.Version, len(out.Nodes), len(out.Shards))
	nodeRows := make([][]string, len(out.Nodes))
	for i, n := range out.Nodes {
		nodeRows[i] = []string{num(uint64(n.ID)), n.Addr}
	}
	if err := table(e.stdout, []string{"NODE", "ADDR"}, nodeRows); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	shardRows := make([][]string, len(out.Shards))
	for i, s := range out.Shards {
		leader := "none"
		if s.Leader != 0 {
			leader = fmt.Sprintf("%d (%s)", s.Leader, addr[s.Leader])
		}
		reps := make([]string, len(s.Replicas))
		for j, r := range s.Replicas {
			reps[j] = num(uint64(r))
		}
		shardRows[i] = []string{num(s.Shard), leader, strings.Join(reps, ",")}
	}
	return table(e.stdout, []string{"SHARD", "LEADER", "REPLICAS"}, shardRows)
}
