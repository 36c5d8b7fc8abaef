package raftstore

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

// readIndexNow runs ReadIndex and waits for its outcome.
func readIndexNow(t *testing.T, s *Shard) error {
	t.Helper()
	ch := make(chan error, 1)
	s.ReadIndex(func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ReadIndex: no outcome within 10s")
		return nil
	}
}

func TestReadIndexSeesCommittedWrites(t *testing.T) {
	n := openTestNode(t, testNodeOptions(t, t.TempDir()))
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	// The first round of a term commits a barrier (no write yet in it).
	if err := readIndexNow(t, s); err != nil {
		t.Fatalf("first read index: %v", err)
	}
	if r := do(t, s, putItem("4710088432018", "S0231", 10)); r.Code != engine.OK {
		t.Fatalf("put item: %v", r.Code)
	}
	// Many reads at once share rounds; each sees the write.
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		s.ReadIndex(func(err error) {
			defer wg.Done()
			if err == nil {
				r := s.Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("4710088432018"), Store: []byte("S0231")})
				if r.Code != engine.OK || r.Item == nil || r.Item.Stock != 10 {
					err = errors.New("read after the write does not see it")
				}
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestMembershipRefusalsOnOneNode(t *testing.T) {
	o := testNodeOptions(t, t.TempDir())
	o.ID = "node-1"
	n := openTestNode(t, o)
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	before, err := s.Configuration()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveServer("node-1", true, nil, time.Second); !errors.Is(err, ErrMembership) {
		t.Errorf("removing the last voter, forced: %v, want ErrMembership", err)
	}
	if err := s.TransferLeadership("node-9"); !errors.Is(err, ErrMembership) {
		t.Errorf("transfer to a non-member: %v, want ErrMembership", err)
	}
	if idx, err := s.RemoveServer("node-9", false, nil, time.Second); err != nil || idx != 0 {
		t.Errorf("removing a non-member: index %d, %v; want nothing to do", idx, err)
	}
	if idx, err := s.AddVoter("node-1", n.Addr(), time.Second); err != nil || idx != 0 {
		t.Errorf("adding a voter already there: index %d, %v; want nothing to do", idx, err)
	}
	if after, _ := s.Configuration(); len(after) != len(before) || after[0] != before[0] {
		t.Errorf("configuration %v after the refusals, want %v", after, before)
	}
}
