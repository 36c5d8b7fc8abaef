// Crash durability: under a load of concurrent reserves and confirms (eight
// connections, each with its own customers and idempotency keys), invd is
// killed with SIGKILL at random moments, three times, and restarted on the
// same data. After each restart the requests that were in flight at the
// kill (their outcome unknown to the client) are retried with the same
// idempotency key, which the engine answers with the first outcome if there
// was one; then every acknowledged reservation must be present in the state
// it was acknowledged in, and every item's held and confirmed counts must
// equal exactly what was acknowledged: nothing lost, nothing counted twice,
// nothing oversold.
package main_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
)

type crashItem struct {
	store string
	stock int64
}

// crashLedger is what the clients were told.
type crashLedger struct {
	mu        sync.Mutex
	state     map[uint64]engine.State // acknowledged reservations and their state
	item      map[uint64]int          // reservation id → item index
	uncertain []engine.Command        // in flight at a kill: outcome unknown
	soldOut   int
}

func TestCrashRecovery(t *testing.T) {
	const shards, workers, kills = 4, 8, 3
	items := make([]crashItem, shards)
	for sh := range shards {
		items[sh] = crashItem{store: storeInShard("CR", sh, shards), stock: 2500}
	}
	items[0].stock = 40 // sells out in the first round: the no-oversell check bites

	opts := invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: shards, Config: fastRaft}
	p, err := invdtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	c := dial(t, p)
	for _, it := range items {
		want(t, c, engine.OK, putItem("CR", it.store, it.stock))
	}
	led := &crashLedger{state: map[uint64]engine.State{}, item: map[uint64]int{}}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	for round := range kills {
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				crashWorker(t, p.Addr(), fmt.Sprintf("r%d-w%d", round, w), items, led, stop)
			}()
		}
		time.Sleep(time.Duration(150+rng.IntN(450)) * time.Millisecond)
		p.Kill()
		close(stop)
		wg.Wait()
		led.mu.Lock()
		t.Logf("kill %d: %d reservations acknowledged so far, %d in flight at the kill, %d sold out",
			round+1, len(led.state), len(led.uncertain), led.soldOut)
		led.mu.Unlock()

		p = restart(t, p)
		c = dial(t, p)
		retryUncertain(t, c, led)
		checkLedger(t, c, items, led)
	}
}

// crashWorker reserves, and confirms every fourth hold, until the server
// dies or stop closes. A request whose reply never came goes to uncertain.
func crashWorker(t *testing.T, addr, name string, items []crashItem, led *crashLedger, stop <-chan struct{}) {
	c, err := wire.Dial(addr, 5*time.Second)
	if err != nil {
		return // the kill came first
	}
	defer c.Close()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		it := i % len(items)
		cmd := reserve("CR", items[it].store, fmt.Sprintf("%s-c%d", name, i), 1)
		cmd.Key = []byte(fmt.Sprintf("%s-r%d", name, i))
		r, err := c.Do(&cmd)
		if err != nil {
			led.lost(cmd)
			return
		}
		if !led.record(t, it, &cmd, r) || i%4 != 0 {
			continue
		}
		conf := engine.Command{Op: engine.OpConfirm, ID: r.ID, Key: []byte(fmt.Sprintf("%s-f%d", name, i))}
		r, err = c.Do(&conf)
		if err != nil {
			led.lost(conf)
			return
		}
		led.record(t, it, &conf, r)
	}
}

func (l *crashLedger) lost(cmd engine.Command) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cmd.SKU, cmd.Store, cmd.Customer, cmd.Key = clone(cmd.SKU), clone(cmd.Store), clone(cmd.Customer), clone(cmd.Key)
	l.uncertain = append(l.uncertain, cmd)
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// record notes an acknowledged outcome; it reports whether a hold was taken.
func (l *crashLedger) record(t *testing.T, item int, cmd *engine.Command, r engine.Result) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case r.Code == engine.OK:
		l.state[r.ID] = r.State
		if cmd.Op == engine.OpReserve {
			l.item[r.ID] = item
		}
		return cmd.Op == engine.OpReserve
	case r.Code == engine.CodeSoldOut && cmd.Op == engine.OpReserve:
		l.soldOut++
	default:
		t.Errorf("%s: unexpected %s", cmd.Op, r.Code)
	}
	return false
}

// retryUncertain resends every request whose outcome was unknown, with its
// idempotency key: the engine answers with the first outcome if it was
// applied, and applies it now if not. Either way the ledger then knows.
func retryUncertain(t *testing.T, c *wire.Conn, led *crashLedger) {
	led.mu.Lock()
	pending := led.uncertain
	led.uncertain = nil
	led.mu.Unlock()
	for _, cmd := range pending {
		r := do(t, c, cmd)
		item := -1
		if cmd.Op == engine.OpReserve {
			item = itemOfStore(string(cmd.Store))
		}
		led.record(t, item, &cmd, r)
	}
}

func itemOfStore(store string) int {
	for sh := range 4 {
		if storeInShard("CR", sh, 4) == store {
			return sh
		}
	}
	return -1
}

// checkLedger compares the server's state with every acknowledgement.
func checkLedger(t *testing.T, c *wire.Conn, items []crashItem, led *crashLedger) {
	t.Helper()
	led.mu.Lock()
	defer led.mu.Unlock()
	held := make([]int64, len(items))
	confirmed := make([]int64, len(items))
	ids := make([]uint64, 0, len(led.state))
	for id := range led.state {
		ids = append(ids, id)
	}
	got := getReservations(t, c, ids)
	for i, id := range ids {
		st, r := led.state[id], got[i]
		if r.Code != engine.OK {
			t.Fatalf("acknowledged reservation %d: %s after restart", id, r.Code)
		}
		it := led.item[id]
		if got := r.Reservation; got.State != st || got.Store != items[it].store {
			t.Fatalf("reservation %d: %s at %s, acknowledged %s at %s", id, got.State, got.Store, st, items[it].store)
		}
		switch st {
		case engine.StateHeld:
			held[it]++
		case engine.StateConfirmed:
			confirmed[it]++
		}
	}
	for i, it := range items {
		info := getItem(t, c, "CR", it.store)
		if info.Held != held[i] || info.Confirmed != confirmed[i] {
			t.Fatalf("item %s: held %d confirmed %d, acknowledged %d and %d", it.store,
				info.Held, info.Confirmed, held[i], confirmed[i])
		}
		if info.Held+info.Confirmed+info.PickedUp > info.Stock || info.Available < 0 {
			t.Fatalf("item %s oversold: %+v", it.store, info)
		}
	}
}

// getReservations reads many reservations, a BATCH per thousand.
func getReservations(t *testing.T, c *wire.Conn, ids []uint64) []engine.Result {
	t.Helper()
	out := make([]engine.Result, 0, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		cmds := make([]engine.Command, n)
		for i := range cmds {
			cmds[i] = onID(engine.OpGetReservation, ids[i])
		}
		rs, err := c.Batch(cmds)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs {
			if err := wire.ReplyErrorOf(&rs[i]); err != nil {
				t.Fatalf("get_reservation %d: %v", ids[i], err)
			}
			out = append(out, rs[i].Result)
		}
		ids = ids[n:]
	}
	return out
}
