// End-to-end tests of invd: each test starts real invd processes (built once
// here, without the race detector) on free loopback ports with their own
// Pebble data folders, and speaks the binary protocol to them over TCP. No
// part of the server is replaced by a stand-in. This file holds the shared
// setup; the other e2e_*_test.go files hold the tests.
package main_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

var invdBin string

func TestMain(m *testing.M) {
	if os.Getenv("INV_LOAD_ADDR") != "" {
		os.Exit(m.Run()) // a measurement against a running server: nothing to build
	}
	dir, err := os.MkdirTemp("", "invd-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := invdtest.Build(dir, "github.com/invsys/inv/cmd/invd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	invdBin = bins["invd"]
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fastRaft makes single-node elections quick: the tests restart servers
// often, and each start waits for every shard's election. Its
// max_connections keeps what invd needs of the descriptor limit (checked at
// start, server.DescriptorsNeeded) under a common hard limit of 4096, so
// that the tests do not depend on the host's; tests that need other bounds
// set them after it.
const fastRaft = `
heartbeat_timeout = 100ms
election_timeout = 100ms
leader_lease_timeout = 50ms
expiry_check = 50ms
max_connections = 1000
`

// startInvd starts a server with fastRaft plus extra config; it is killed
// when the test ends, and its log is printed if the test failed.
func startInvd(t *testing.T, shards int, extra string) *invdtest.Proc {
	t.Helper()
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data",
		Shards: shards, Config: fastRaft + extra})
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	return p
}

// cleanupProc kills *pp at the end of the test (tests that restart the
// server update *pp) and shows its log on failure.
func cleanupProc(t *testing.T, pp **invdtest.Proc) {
	t.Cleanup(func() {
		p := *pp
		if p == nil {
			return
		}
		if p.Alive() {
			p.Kill()
		}
		if p.DataRace() {
			t.Error("the race detector flagged invd")
		}
		if t.Failed() {
			t.Logf("invd log:\n%s", p.Logs())
		}
	})
}

func dial(t *testing.T, p *invdtest.Proc) *wire.Conn {
	t.Helper()
	c, err := wire.Dial(p.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// do sends one command and fails the test on anything but a result.
func do(t *testing.T, c *wire.Conn, cmd engine.Command) engine.Result {
	t.Helper()
	r, err := c.Do(&cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Op, err)
	}
	return r
}

// want sends one command and checks its result's code.
func want(t *testing.T, c *wire.Conn, code engine.Code, cmd engine.Command) engine.Result {
	t.Helper()
	r := do(t, c, cmd)
	if r.Code != code {
		t.Fatalf("%s %s/%s cust=%s id=%d: got %s, want %s", cmd.Op, cmd.SKU, cmd.Store, cmd.Customer, cmd.ID, r.Code, code)
	}
	return r
}

// Command builders, in the shop's words.
func putItem(sku, store string, stock int64) engine.Command {
	return engine.Command{Op: engine.OpPutItem, SKU: []byte(sku), Store: []byte(store), Stock: stock}
}

func reserve(sku, store, cust string, qty int64) engine.Command {
	return engine.Command{Op: engine.OpReserve, SKU: []byte(sku), Store: []byte(store), Customer: []byte(cust), Qty: qty}
}

func onID(op engine.Op, id uint64) engine.Command { return engine.Command{Op: op, ID: id} }

func getItem(t *testing.T, c *wire.Conn, sku, store string) *engine.ItemInfo {
	t.Helper()
	r := want(t, c, engine.OK, engine.Command{Op: engine.OpGetItem, SKU: []byte(sku), Store: []byte(store)})
	return r.Item
}

// storeInShard returns a store name that puts (sku, store) in shard.
func storeInShard(sku string, shard, shards int) string {
	for i := 0; ; i++ {
		store := fmt.Sprintf("S%03d", i)
		if protocol.ShardOf([]byte(sku), []byte(store), shards) == shard {
			return store
		}
	}
}

// restart starts a new process on p's data and ports (p must have exited),
// after checking p's log for race reports.
func restart(t *testing.T, p *invdtest.Proc) *invdtest.Proc {
	t.Helper()
	if p.DataRace() {
		t.Errorf("the race detector flagged invd:\n%s", p.Logs())
	}
	np, err := p.Restart()
	if err != nil {
		t.Fatal(err)
	}
	return np
}

func wireDial(addr string) (*wire.Conn, error) { return wire.Dial(addr, 10*time.Second) }
