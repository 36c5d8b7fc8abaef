// Tests of the proposer's ack stage (proposer_ack.go) against the fake raft
// of proposer_test.go and an ack function the test controls: no waiter is
// answered before the ack of its entry returned; entries answered while an
// ack is under way share the next one, which names the highest index; and
// an ack that fails answers the entry's waiters with ErrOutcomeUnknown
// (committed, but not recorded, so not acknowledged).
package raftstore

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

func TestAckStageRepliesOnlyAfterTheAck(t *testing.T) {
	r := newFakeRaft(t, false)
	var mu sync.Mutex
	var acks []uint64
	gate := make(chan struct{})
	cfg := testProposerConfig()
	cfg.maxInFlight = 4
	cfg.ack = func(index uint64) error {
		<-gate // the marks file's write, as slow as the test wants
		mu.Lock()
		acks = append(acks, index)
		mu.Unlock()
		return nil
	}
	p := newTestProposer(t, r, cfg)
	first := proposeOne(t, p, putItem("A", "S1", 100))
	select {
	case res := <-first:
		t.Fatalf("answered before its ack: %+v", res)
	case <-time.After(50 * time.Millisecond):
	}
	// While the first ack is held, more entries commit and wait.
	var later []<-chan result
	for i := range 3 {
		later = append(later, proposeOne(t, p, reserve("A", "S1", string(rune('a'+i)), 1)))
		r.waitApplies(t, 1)
	}
	close(gate)
	if res := wait(t, first); res.err != nil || res.r.Code != engine.OK {
		t.Fatalf("first: %+v", res)
	}
	for _, ch := range later {
		if res := wait(t, ch); res.err != nil || res.r.Code != engine.OK {
			t.Fatalf("later: %+v", res)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acks) > 3 || acks[len(acks)-1] < r.fsm.AppliedIndex() {
		t.Fatalf("acks %v for 4 entries up to index %d", acks, r.fsm.AppliedIndex())
	}
}

func TestAckStageFailureIsUnknownOutcome(t *testing.T) {
	r := newFakeRaft(t, false)
	cfg := testProposerConfig()
	cfg.ack = func(uint64) error { return errors.New("marks file: write failed") }
	p := newTestProposer(t, r, cfg)
	res := wait(t, proposeOne(t, p, putItem("A", "S1", 1)))
	if !errors.Is(res.err, ErrOutcomeUnknown) || Code(res.err) != engine.CodeTimeout {
		t.Fatalf("after a failed ack: %+v", res)
	}
}
