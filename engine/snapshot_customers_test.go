package engine

// Proves the snapshot section of customers across shards (format 5,
// snapshot_customers.go): a home's pending customer copies (with their
// tier and block) and a shard's pending no-shows restore byte for byte,
// the home's no-show history and another shard's copy with them; a format
// 4 snapshot, whose outbox holds claim releases only, still restores, and
// one that claims to be format 4 but carries a copy is refused.

import (
	"bytes"
	"reflect"
	"testing"
)

func snapCustomersEngine(t *testing.T) (*Engine, Config) {
	t.Helper()
	cfg := Config{ShardID: tbShard, Shards: tbShards, PickupSecret: tbSecret}
	e := tbNewEngine(t, func(c *Config) { *c = cfg })
	cmds := []Command{
		{Op: OpSetTier, Customer: []byte(tbNear), Tier: 4},
		{Op: OpNoShow, Customer: []byte(tbNear), ID: MakeID(0, 7), Deadline: tbT0, FromShard: 0, Seq: 1},
		{Op: OpBlock, Customer: []byte(tbNear)},
		{Op: OpCustomerCopy, Customer: []byte(tbFar), Tier: 2, Qty: int64(BlockNoShows), ToShard: tbShard, FromShard: tbHome, Seq: 1},
		{Op: OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte(tbNear2), Qty: 1},
	}
	for i, r := range mustApply(t, e, cmds) {
		if r.Code != OK {
			t.Fatalf("command %d (%v): %v", i, cmds[i].Op, r.Code)
		}
	}
	return e, cfg
}

func mustApply(t *testing.T, e *Engine, cmds []Command) []Result {
	t.Helper()
	res, _ := e.Apply(e.Now(), cmds)
	return append([]Result(nil), res...)
}

func TestSnapshotKeepsCustomerCopies(t *testing.T) {
	e, cfg := snapCustomersEngine(t)
	var b bytes.Buffer
	if err := e.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(cfg, bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for to := uint16(0); to < tbShards; to++ {
		if got, want := r.Outbox(to, 100), e.Outbox(to, 100); !reflect.DeepEqual(got, want) {
			t.Errorf("outbox to %d after restore:\n got  %+v\n want %+v", to, got, want)
		}
	}
	if n := len(e.Outbox(0, 100)); n != 2 { // the tier's copy and the block's
		t.Fatalf("outbox to 0: %d messages, want 2", n)
	}
	for _, cust := range []string{tbNear, tbFar} {
		c := Command{Op: OpGetCustomer, Customer: []byte(cust)}
		if got, want := r.Read(&c), e.Read(&c); !reflect.DeepEqual(got, want) {
			t.Errorf("customer %s after restore: %+v, want %+v", cust, got.Customer, want.Customer)
		}
	}
	var again bytes.Buffer
	if err := r.Snapshot(&again); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Fatalf("snapshot of the restored engine differs (%v)", err)
	}
}

func TestSnapshotFormat4(t *testing.T) {
	cfg := Config{ShardID: tbShard, Shards: tbShards, PickupSecret: tbSecret}
	e := tbNewEngine(t, func(c *Config) { *c = cfg })
	var b bytes.Buffer
	if err := e.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	// Format 4 is format 6 without the last two sections (here: the
	// copies' count 0, and the waitlists' empty section, snapWaitlistsEmpty).
	v4 := append([]byte(nil), b.Bytes()[:b.Len()-1-snapWaitlistsEmpty]...)
	v4[len(snapMagicOld)] = 4
	if _, err := Restore(cfg, bytes.NewReader(v4)); err != nil {
		t.Fatalf("format 4: %v", err)
	}
	withCopies, _ := snapCustomersEngine(t)
	b.Reset()
	if err := withCopies.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), b.Bytes()...)
	bad[len(snapMagicOld)] = 4
	if _, err := Restore(cfg, bytes.NewReader(bad)); err == nil {
		t.Fatal("a format 4 snapshot with customer copies in its outbox restored")
	}
}
