// What this file proves: the FSM's doors for the coordinator of claims
// across shards (docs/adr/0070) answer from the applied state: Peek gives
// an item's available units and its SKU's limit without allocating, and
// runs beside other Peeks under the read lock; the outbox hook runs after
// exactly the apply rounds that appended messages (a claimed hold's
// cancel), and after a restore; ClaimsDue and ProvisionalDue list what the
// sweeps settle.
//
// How: an FSM of shard 1 of 3, driven with raft.Log entries; the hook
// counts its calls; testing.AllocsPerRun counts Peek's allocations; under
// -race, Peeks run on goroutines while entries apply.
package raftstore

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

// farCustomer returns a customer whose home is not shard 1 of 3, and that home.
func farCustomer() (string, uint16) {
	for i := 0; ; i++ {
		c := string(rune('a'+i%26)) + string(rune('a'+i/26))
		if h := engine.CustomerShard([]byte(c), 3); h != 1 {
			return c, uint16(h)
		}
	}
}

func TestFSMDoorsForClaims(t *testing.T) {
	cfg := testEngineConfig()
	cfg.Shards = 3
	f := NewFSM(FSMConfig{Shard: 1, Engine: cfg})
	var hooks int
	f.SetOutboxHook(func() { hooks++ })
	cust, home := farCustomer()
	dl := t0 + int64(5*time.Second)
	f.Apply(entryLog(t, 1, t0, putItem("L", "S1", 5), engine.Command{Op: engine.OpSetLimit, SKU: []byte("L"), Limit: 2}))
	r := f.Apply(entryLog(t, 2, t0, engine.Command{Op: engine.OpReserve, SKU: []byte("L"), Store: []byte("S1"),
		Customer: []byte(cust), Qty: 1, Claim: []byte("k1"), Deadline: dl})).(*ApplyResponse)
	if avail, limit, ok := f.Peek([]byte("L"), []byte("S1")); !ok || avail != 4 || limit != 2 {
		t.Fatalf("Peek: %d %d %v, want 4 2 true", avail, limit, ok)
	}
	if _, _, ok := f.Peek([]byte("L"), []byte("S9")); ok {
		t.Fatal("Peek of an unknown item: ok")
	}
	if n := testing.AllocsPerRun(100, func() { f.Peek([]byte("L"), []byte("S1")) }); n != 0 {
		t.Fatalf("Peek allocates %v times", n)
	}
	if d := f.ProvisionalDue(dl, 10); len(d) != 1 || d[0].Claim != "k1" {
		t.Fatalf("ProvisionalDue: %+v", d)
	}
	if d := f.ClaimsDue(dl, 10); len(d) != 0 {
		t.Fatalf("ClaimsDue on an item shard: %+v", d)
	}
	if hooks != 0 {
		t.Fatalf("the hook ran %d times before any message", hooks)
	}
	id := r.Results[0].ID
	f.Apply(entryLog(t, 3, t0, engine.Command{Op: engine.OpCancel, ID: id}))
	if hooks != 1 || len(f.Outbox(home, 10)) != 1 {
		t.Fatalf("after a claimed cancel: %d hooks, outbox %+v", hooks, f.Outbox(home, 10))
	}
	f.Apply(entryLog(t, 4, t0, engine.Command{Op: engine.OpCancel, ID: id}))
	if hooks != 1 {
		t.Fatalf("a cancel that appended nothing ran the hook (%d)", hooks)
	}
	g := NewFSM(FSMConfig{Shard: 1, Engine: cfg})
	restored := 0
	g.SetOutboxHook(func() { restored++ })
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotOf(t, f)))); err != nil || restored != 1 || len(g.OutboxPending()) != 1 {
		t.Fatalf("restore: %v, %d hooks, pending %+v", err, restored, g.OutboxPending())
	}
}

// TestPeekBesideApplies runs Peeks on goroutines while entries apply (-race).
func TestPeekBesideApplies(t *testing.T) {
	f := NewFSM(FSMConfig{Shard: 0, Engine: testEngineConfig()})
	f.Apply(entryLog(t, 1, t0, putItem("A", "S1", 1000)))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, ok := f.Peek([]byte("A"), []byte("S1")); !ok {
					t.Error("Peek lost the item")
					return
				}
			}
		}()
	}
	for i := uint64(2); i < 200; i++ {
		f.Apply(entryLog(t, i, t0, reserve("A", "S1", "c", 1)))
	}
	close(stop)
	wg.Wait()
}
