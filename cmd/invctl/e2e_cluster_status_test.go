// invctl cluster status against a real 3-node cluster: every node and
// every shard appears, each shard with one leader that all its replicas
// name; after writes through invctl (items on every shard) the replicas of every shard converge
// on the same term, commit and applied index (polled until they do, with a
// deadline), with applied <= commit <= last log on each. Then one node is
// killed: cluster status still prints the two others' replicas, shows the
// dead node unreachable (JSON and table) and exits 3.
package main_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

func TestInvctlClusterStatusThreeNodes(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	const shards = 2
	c, err := invdtest.StartCluster(invdtest.ClusterOptions{Bin: bins["invd"], Dir: filepath.Join(t.TempDir(), "cluster"),
		Nodes: 3, Shards: shards, Config: fastConfig})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster logs:\n%s", c.Logs())
		}
		for _, r := range c.StopAll(30 * time.Second) {
			t.Errorf("invd reported a data race:\n%s", r)
		}
	})
	a := c.Clients[0]
	// Three items on each shard (items are placed by store).
	perShard := make([]int, shards)
	for i := 0; perShard[0] < 3 || perShard[1] < 3; i++ {
		sku, store := fmt.Sprintf("47100000001%02d", i), fmt.Sprintf("TPE%04d", i)
		if s := protocol.ShardOfStore([]byte(store), shards); perShard[s] < 3 {
			ok(t, a, "item", "put", "--sku", sku, "--store", store, "--stock", "5")
			perShard[s]++
		}
	}

	var st clusterOut
	converged := func() string {
		st = clusterOut{}
		okJSON(t, a, &st, "cluster", "status")
		if len(st.Nodes) != 3 || len(st.Shards) != shards {
			return fmt.Sprintf("%d nodes, %d shards", len(st.Nodes), len(st.Shards))
		}
		for _, n := range st.Nodes {
			if n.Status != "ok" {
				return fmt.Sprintf("node %d: %s %s", n.ID, n.Status, n.Error)
			}
		}
		for _, s := range st.Shards {
			if len(s.Raft) != 3 {
				return fmt.Sprintf("shard %d: %d replicas answered", s.Shard, len(s.Raft))
			}
			first := s.Raft[0]
			leaders := 0
			for _, r := range s.Raft {
				if r.State == "leader" {
					leaders++
				}
				if r.Leader != s.Leader || r.Term != first.Term || r.CommitIndex != first.CommitIndex ||
					r.AppliedIndex != first.AppliedIndex || r.LastLogIndex != first.LastLogIndex {
					return fmt.Sprintf("shard %d: replicas differ: %+v", s.Shard, s.Raft)
				}
			}
			if leaders != 1 || s.Leader == 0 {
				return fmt.Sprintf("shard %d: %d leaders, topology says %d", s.Shard, leaders, s.Leader)
			}
		}
		return ""
	}
	deadline := time.Now().Add(30 * time.Second)
	for why := converged(); why != ""; why = converged() {
		if time.Now().After(deadline) {
			t.Fatalf("cluster status did not converge in 30s: %s", why)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ids := map[strID]bool{}
	for _, n := range st.Nodes {
		ids[n.ID] = true
		if n.Server == "" || n.UptimeMs == 0 {
			t.Errorf("node %d: server %q, uptime %d ms", n.ID, n.Server, n.UptimeMs)
		}
	}
	for _, s := range st.Shards {
		if len(s.Replicas) != 3 {
			t.Errorf("shard %d: replicas %v", s.Shard, s.Replicas)
		}
		for _, r := range s.Raft {
			if !ids[r.Node] {
				t.Errorf("shard %d: a replica on node %d, which is not in the topology", s.Shard, r.Node)
			}
			checkIndexes(t, s.Shard, r)
			if r.State == "leader" && r.Node != s.Leader {
				t.Errorf("shard %d: node %d says it leads, the topology says node %d", s.Shard, r.Node, s.Leader)
			}
		}
	}
	// The writes are in every replica: 3 items on each shard, after the
	// bootstrap configuration and the first leader's first entry.
	for _, s := range st.Shards {
		if s.Raft[0].AppliedIndex < 3+2 {
			t.Errorf("shard %d: applied index %d after 3 writes", s.Shard, s.Raft[0].AppliedIndex)
		}
	}
	// The table shows what the JSON shows. Leadership may still move
	// between the two reads (the nodes balance leaders after a start), so
	// a mismatch reads both again, until a deadline.
	tableMatches := func(table string) string {
		for _, s := range st.Shards {
			for _, r := range s.Raft {
				row := replicaRow(table, s.Shard, r.Node)
				if row == nil || row[2] != r.State || row[6] != fmt.Sprint(r.CommitIndex) {
					return fmt.Sprintf("shard %d node %d: row %q, want %s at commit %d:\n%s", s.Shard, r.Node, row, r.State,
						r.CommitIndex, table)
				}
			}
		}
		return ""
	}
	for why := tableMatches(ok(t, a, "cluster", "status")); why != ""; why = tableMatches(ok(t, a, "cluster", "status")) {
		if time.Now().After(deadline) {
			t.Fatalf("table: %s", why)
		}
		time.Sleep(100 * time.Millisecond)
		for again := converged(); again != ""; again = converged() {
			if time.Now().After(deadline) {
				t.Fatalf("cluster status did not converge again: %s", again)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Node 3 dies: the others still answer, it shows unreachable, exit 3.
	c.Kill(2)
	dead := st.Nodes[2].ID
	out, errs, code := invctl(t, a, "--json", "cluster", "status")
	if code != 3 {
		t.Fatalf("cluster status with a node down: exit %d, stderr %q", code, errs)
	}
	var down clusterOut
	if err := json.Unmarshal([]byte(out), &down); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	if len(down.Nodes) != 3 {
		t.Fatalf("nodes with one down: %+v", down.Nodes)
	}
	for _, n := range down.Nodes {
		if want := n.ID != dead; (n.Status == "ok") != want || !want && (n.Status != "unreachable" || n.Error == "") {
			t.Errorf("node %d: status %q, error %q", n.ID, n.Status, n.Error)
		}
	}
	for _, s := range down.Shards {
		if len(s.Raft) != 2 {
			t.Errorf("shard %d with node %d down: replicas %+v", s.Shard, dead, s.Raft)
		}
		for _, r := range s.Raft {
			if r.Node == dead {
				t.Errorf("shard %d: the dead node answered: %+v", s.Shard, r)
			}
		}
	}
	table, _, code := invctl(t, a, "cluster", "status")
	if code != 3 {
		t.Fatalf("cluster status table with a node down: exit %d", code)
	}
	for s := range shards {
		if row := replicaRow(table, s, dead); row == nil || row[2] != "unreachable" {
			t.Errorf("table: shard %d, dead node %d: row %q:\n%s", s, dead, row, table)
		}
		for _, n := range down.Nodes[:2] {
			if row := replicaRow(table, s, n.ID); row == nil || row[2] == "unreachable" || row[7] == "-" {
				t.Errorf("table: shard %d, live node %d: row %q:\n%s", s, n.ID, row, table)
			}
		}
	}
}
