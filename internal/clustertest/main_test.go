// This file starts what the cluster tests of this package run against:
// TestMain builds cmd/invd once into a temporary folder (with the race
// detector when the tests run with it) and each test starts its own cluster
// of real invd processes on free loopback ports (internal/invdtest), each
// node with its own Pebble folder. With -short nothing is built and the
// tests skip.
package clustertest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/invdtest"
)

var (
	invdBin string
	tmpRoot string
	seq     atomic.Int64
)

// clusterConfig is every test node's config: quiet logs, the raft fault
// layer (/debug/faults) for partitions, and raft timing
// a little tighter than invd's LAN defaults so that failovers on loopback
// take about a second.
const clusterConfig = `log_level = warn
fault_injection = true
heartbeat_timeout = 400ms
election_timeout = 400ms
leader_lease_timeout = 200ms
`

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(runWithInvd(m))
}

func runWithInvd(m *testing.M) int {
	var err error
	if tmpRoot, err = os.MkdirTemp("", "inv-cluster-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpRoot)
	bins, err := invdtest.Build(tmpRoot, "github.com/invsys/inv/cmd/invd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	invdBin = bins["invd"]
	return m.Run()
}

// startCluster starts a cluster of nodes for the test and stops it (and
// checks the nodes' race detectors) when the test ends.
func startCluster(t testing.TB, nodes, shards int) *invdtest.Cluster {
	t.Helper()
	return startClusterConfig(t, nodes, shards, clusterConfig)
}

// startClusterConfig is startCluster with the nodes' config text given.
func startClusterConfig(t testing.TB, nodes, shards int, config string) *invdtest.Cluster {
	t.Helper()
	if invdBin == "" {
		t.Skip("cluster: needs invd (not built with -short)")
	}
	c, err := invdtest.StartCluster(invdtest.ClusterOptions{Bin: invdBin,
		Dir: filepath.Join(tmpRoot, fmt.Sprintf("cluster-%d", seq.Add(1))), Nodes: nodes, Shards: shards,
		Config: config})
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
	return c
}

// dial returns a client seeded with every node of c, retrying patiently
// enough to ride out an election and a restart.
func dial(t testing.TB, c *invdtest.Cluster, opts ...client.Option) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts = append([]client.Option{
		client.WithRetry(client.RetryPolicy{MaxAttempts: 200, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 250 * time.Millisecond}),
		client.WithRequestTimeout(2 * time.Second), client.WithDialTimeout(time.Second)}, opts...)
	cl, err := client.Dial(ctx, c.Clients, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
