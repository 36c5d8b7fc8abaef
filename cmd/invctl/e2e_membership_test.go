package main_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/internal/invdtest"
)

// failed runs a command that must exit with code and print want on stderr.
func failed(t *testing.T, addr string, code int, want string, args ...string) {
	t.Helper()
	_, errs, got := invctl(t, addr, args...)
	if got != code || !strings.Contains(errs, want) {
		t.Fatalf("invctl %v: exit %d, stderr %q; want exit %d and %q", args, got, errs, code, want)
	}
}

type statusOut struct {
	Nodes []struct {
		ID   strID
		Addr string
	}
	Shards []struct {
		Shard    int
		Leader   strID
		Replicas []strID
	}
}

// waitStatus polls cluster status until cond holds.
func waitStatus(t *testing.T, addr, what string, cond func(statusOut) bool) statusOut {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st statusOut
		okJSON(t, addr, &st, "cluster", "status")
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; status %+v", what, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestInvctlMembership runs the cluster commands against three nodes and a
// fourth started with join = true: add-node, drain and undrain,
// transfer-leader, remove-node, the refusals and usage errors, and a
// stale read.
func TestInvctlMembership(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	const shards = 2
	c, err := invdtest.StartCluster(invdtest.ClusterOptions{Bin: bins["invd"], Dir: filepath.Join(t.TempDir(), "c"),
		Nodes: 3, Shards: shards, Config: fastConfig + "log_level = warn\n"})
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
	ok(t, a, "item", "put", "--sku", "4710088412345", "--store", "TPE0427", "--stock", "3")

	// Usage errors, and refusals that change nothing.
	failed(t, a, 2, "node id", "cluster", "add-node", "0", "127.0.0.1:1", "127.0.0.1:2")
	failed(t, a, 2, "address", "cluster", "add-node", "4", "nowhere", "127.0.0.1:2")
	failed(t, a, 2, "--shard or --from", "cluster", "transfer-leader")
	failed(t, a, 1, "not a node of the cluster", "cluster", "remove-node", "9")
	failed(t, a, 1, "unknown node 9", "cluster", "transfer-leader", "--shard", "0", "--to", "9")
	failed(t, a, 1, "unknown node 9", "cluster", "undrain", "9")

	j, err := c.StartJoiner()
	if err != nil {
		t.Fatal(err)
	}
	var steps []struct {
		Shard int
		Node  strID
		Index uint64
		Error string
	}
	okJSON(t, a, &steps, "cluster", "add-node", "4", c.Rafts[j], c.Clients[j])
	if len(steps) != 4+shards || steps[len(steps)-1].Index == 0 {
		t.Fatalf("add-node steps: %+v", steps)
	}
	waitStatus(t, a, "node 4 a replica of every shard", func(st statusOut) bool {
		for _, s := range st.Shards {
			if !slices.Equal(s.Replicas, []strID{1, 2, 3, 4}) {
				return false
			}
		}
		return len(st.Nodes) == 4
	})
	if _, err := c.WaitConverged(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	// A stale read at the new node sees the item it caught up with.
	if out := ok(t, c.Clients[j], "--stale", "item", "get", "--sku", "4710088412345", "--store", "TPE0427"); !strings.Contains(out, "available=3") {
		t.Fatalf("stale item get at node 4: %q", out)
	}

	// Drain node 1: it leads nothing, and keeps leading nothing.
	mustContain(t, "drain", ok(t, a, "cluster", "drain", "1"), "peers")
	waitStatus(t, a, "node 1 leading nothing", func(st statusOut) bool {
		for _, s := range st.Shards {
			if s.Leader == 1 || s.Leader == 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // a few balancer rounds
	waitStatus(t, a, "node 1 still leading nothing", func(st statusOut) bool {
		for _, s := range st.Shards {
			if s.Leader == 1 || s.Leader == 0 {
				return false
			}
		}
		return true
	})
	ok(t, a, "cluster", "undrain", "1")

	// Move shard 1 to node 2, remove node 3, and serve on.
	ok(t, a, "cluster", "transfer-leader", "--shard", "1", "--to", "2")
	ok(t, a, "cluster", "remove-node", "3")
	waitStatus(t, a, "node 3 gone", func(st statusOut) bool {
		for _, s := range st.Shards {
			if !slices.Equal(s.Replicas, []strID{1, 2, 4}) || s.Leader == 0 || s.Leader == 3 {
				return false
			}
		}
		return len(st.Nodes) == 3
	})
	c.Kill(2)
	ok(t, a, "item", "restock", "--sku", "4710088412345", "--store", "TPE0427", "--qty", "2")
	if out := ok(t, a, "item", "get", "--sku", "4710088412345", "--store", "TPE0427"); !strings.Contains(out, "available=5") {
		t.Fatalf("item get after the changes: %q", out)
	}
}

// TestInvctlMembershipAlone: a single node refuses membership changes.
func TestInvctlMembershipAlone(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 1).Addr()
	failed(t, a, 1, "cluster mode", "cluster", "drain", "1")
}
