// This test proves exactly-once reserves across crashes of a real invd:
// 50 goroutines make 2,000 logical reserves, each with its own
// idempotency key, while invd is killed with SIGKILL twice and restarted
// on the same data. The client retries through the outages with each
// call's key. Afterwards every logical reserve has exactly one hold: the
// answers name 2,000 distinct reservations, the item holds exactly 2,000
// units, every acknowledged hold is readable after the restarts, and
// repeating every call with its key returns the first answer.
package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
)

func TestE2EKillAndRestartWhileReserving(t *testing.T) {
	s := startOwn(t, 4)
	procs := []*invdtest.Proc{s} // every process of the test, to check for races at the end
	defer func() {
		for _, p := range procs {
			stopOwn(t, p)
		}
	}()
	patient := client.WithRetry(client.RetryPolicy{MaxAttempts: 1000, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	logger, logged := newCountingLogger()
	c := dialServer(t, s, patient, client.WithRequestTimeout(2*time.Second), client.WithLogger(logger))
	ctx := ctxT(t)
	const workers, perWorker = 50, 40
	const total = workers * perWorker
	sku, store := "crash-sku", "S1"
	putItem(t, c, client.ItemSpec{SKU: sku, Store: store, Stock: 1_000_000})

	req := func(w, i int) client.ReserveRequest {
		return client.ReserveRequest{SKU: sku, Store: store, Customer: fmt.Sprintf("cust-%d-%d", w, i),
			Key: fmt.Sprintf("order-%d-%d", w, i)}
	}
	var (
		done    atomic.Int64
		ids     [workers][perWorker]uint64
		unknown [workers][perWorker]bool
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				res, err := c.Reserve(rctx, req(w, i))
				cancel()
				switch {
				case err == nil:
					ids[w][i] = res.ID
				case errors.Is(err, client.ErrUnknownOutcome):
					unknown[w][i] = true // asked again below, with the same key
				default:
					t.Errorf("order %d-%d: %v", w, i, err)
				}
				done.Add(1)
			}
		}()
	}

	// Two crashes while the reserves are in full flow.
	kills := 0
	for _, at := range []int64{total / 4, total * 3 / 5} {
		for done.Load() < at && done.Load() < total {
			time.Sleep(time.Millisecond)
		}
		if done.Load() >= total {
			break
		}
		s.Kill()
		kills++
		time.Sleep(100 * time.Millisecond)
		next, err := s.Restart()
		if err != nil {
			t.Fatal(err)
		}
		s = next
		procs = append(procs, s)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if kills < 2 || logged.count("inv: connection lost") < kills {
		t.Fatalf("the reserves did not meet both crashes: %d kills, %d connections lost",
			kills, logged.count("inv: connection lost"))
	}

	// Calls that gave up with an unknown outcome are asked again with their
	// key: the answer is the first outcome (or the change is made now).
	seen := make(map[uint64]bool, total)
	retried := 0
	for w := range workers {
		for i := range perWorker {
			if unknown[w][i] {
				retried++
				res, err := c.Reserve(ctx, req(w, i))
				if err != nil {
					t.Fatalf("order %d-%d asked again: %v", w, i, err)
				}
				ids[w][i] = res.ID
			}
			id := ids[w][i]
			if id == 0 || seen[id] {
				t.Fatalf("order %d-%d: id %d missing or handed out twice", w, i, id)
			}
			seen[id] = true
		}
	}
	it, err := c.GetItem(ctx, sku, store)
	if err != nil || it.Held != total {
		t.Fatalf("item holds %d units for %d orders (%v)", it.Held, total, err)
	}

	// Every acknowledged hold survived both crashes, and every call asked
	// again with its key is answered with its first id.
	var again sync.WaitGroup
	for w := range workers {
		again.Add(1)
		go func() {
			defer again.Done()
			for i := range perWorker {
				res, err := c.Reserve(ctx, req(w, i))
				if err != nil || res.ID != ids[w][i] {
					t.Errorf("order %d-%d repeated: id %d (first %d), %v", w, i, res.ID, ids[w][i], err)
					return
				}
				if i%8 == 0 {
					r, err := c.GetReservation(ctx, res.ID)
					if err != nil || r.State != engine.StateHeld || r.Customer != req(w, i).Customer {
						t.Errorf("order %d-%d after the crashes: %+v, %v", w, i, r, err)
					}
				}
			}
		}()
	}
	again.Wait()
	t.Logf("%d orders through %d crashes (%d connections lost); %d asked again after an unknown outcome",
		total, kills, logged.count("inv: connection lost"), retried)
}
