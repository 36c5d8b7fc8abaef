// Tests of the marks file (marks.go) on a real file in t.TempDir(): marks
// survive a reopen; a copy torn or damaged by a crash is passed over for
// the other, older one; a file with both copies damaged, or written for
// another shard count, is refused; an ack already covered by a synced copy
// writes nothing; and concurrent acks of many shards share synced writes
// (group commit), counted by the copies' sequence numbers.
package raftstore

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func openTestMarks(t *testing.T, dir string, shards int) *markFile {
	t.Helper()
	m, _, err := openMarkFile(dir, shards, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMarksSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	m, fresh, err := openMarkFile(dir, 3, testLogger(t))
	if err != nil || !fresh {
		t.Fatalf("fresh open: %v %v", fresh, err)
	}
	if err := m.ack(0, 17); err != nil {
		t.Fatal(err)
	}
	r, err := m.persist(2, 40, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.wait(); err != nil {
		t.Fatal(err)
	}
	if err := m.close(); err != nil {
		t.Fatal(err)
	}
	m, fresh, err = openMarkFile(dir, 3, testLogger(t))
	if err != nil || fresh {
		t.Fatalf("reopen: %v %v", fresh, err)
	}
	defer m.close()
	if got := m.get(0); got != (shardMark{Acked: 17}) {
		t.Fatalf("shard 0: %+v", got)
	}
	if got := m.get(2); got != (shardMark{Persisted: 40, Term: 3}) {
		t.Fatalf("shard 2: %+v", got)
	}
	// A persisted mark is set, not raised: raft may have cut its log.
	r, _ = m.persist(2, 35, 4)
	if err := r.wait(); err != nil || m.get(2) != (shardMark{Persisted: 35, Term: 4}) {
		t.Fatalf("lowered persist: %+v %v", m.get(2), err)
	}
}

func TestMarksTornCopyFallsBackToTheOther(t *testing.T) {
	dir := t.TempDir()
	m := openTestMarks(t, dir, 2)
	for i := uint64(1); i <= 5; i++ {
		if err := m.ack(1, i*10); err != nil {
			t.Fatal(err)
		}
	}
	seq := m.seq
	m.close()
	path := filepath.Join(dir, marksFileName)
	damage := func(slot uint64, at int) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt([]byte{0xff}, int64(slot)*int64(marksSlotLen(2))+int64(at)); err != nil {
			t.Fatal(err)
		}
	}
	// The newest copy (50) torn in its last mark: the older one (40) wins.
	damage(seq%2, marksHeaderLen+marksShardLen+1)
	m = openTestMarks(t, dir, 2)
	if got := m.get(1).Acked; got != 40 {
		t.Fatalf("after a torn newest copy: acked %d, want 40", got)
	}
	m.close()
	// Both damaged: refused, and nothing is guessed.
	damage((seq+1)%2, 0)
	if _, _, err := openMarkFile(dir, 2, testLogger(t)); !errors.Is(err, errMarksDamaged) {
		t.Fatalf("both copies damaged: %v", err)
	}
}

func TestMarksRefuseAnotherShardCount(t *testing.T) {
	dir := t.TempDir()
	openTestMarks(t, dir, 4).close()
	if _, _, err := openMarkFile(dir, 5, testLogger(t)); !errors.Is(err, errMarksShards) {
		t.Fatalf("5 shards over a file for 4: %v", err)
	}
}

func TestMarksAckAlreadyCoveredWritesNothing(t *testing.T) {
	m := openTestMarks(t, t.TempDir(), 1)
	defer m.close()
	if err := m.ack(0, 100); err != nil {
		t.Fatal(err)
	}
	seq := m.seq
	for i := uint64(1); i <= 100; i++ {
		if err := m.ack(0, i); err != nil {
			t.Fatal(err)
		}
	}
	if m.seq != seq {
		t.Fatalf("%d writes for acks an earlier write covered", m.seq-seq)
	}
}

func TestMarksGroupCommit(t *testing.T) {
	const shards, acks = 16, 200
	m := openTestMarks(t, t.TempDir(), shards)
	defer m.close()
	start := m.seq
	var wg sync.WaitGroup
	for s := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(1); i <= acks; i++ {
				if err := m.ack(uint16(s), i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	writes := m.seq - start
	t.Logf("%d acks in %d synced writes (%.1f acks a write)", shards*acks, writes, float64(shards*acks)/float64(writes))
	if writes >= shards*acks {
		t.Fatalf("%d writes for %d acks: no group commit", writes, shards*acks)
	}
	for s := range shards {
		if got := m.get(uint16(s)).Acked; got != acks {
			t.Fatalf("shard %d acked %d", s, got)
		}
	}
}

func BenchmarkMarksAck(b *testing.B) {
	m, _, err := openMarkFile(b.TempDir(), 16, testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer m.close()
	for i := 0; i < b.N; i++ {
		if err := m.ack(0, uint64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRecordedShards reads the shard count a folder's marks file was
// written for, from either copy (with slots of one page and of several),
// and reports none for a folder without the file.
func TestRecordedShards(t *testing.T) {
	if n, ok, err := RecordedShards(t.TempDir()); ok || err != nil {
		t.Fatalf("empty folder: %d %v %v", n, ok, err)
	}
	for _, shards := range []int{1, 16, 300} {
		dir := t.TempDir()
		m := openTestMarks(t, dir, shards)
		if err := m.ack(0, 5); err != nil { // the second copy is written too
			t.Fatal(err)
		}
		m.close()
		if n, ok, err := RecordedShards(dir); n != shards || !ok || err != nil {
			t.Fatalf("%d shards: read %d %v %v", shards, n, ok, err)
		}
		// Each copy alone still tells.
		path := filepath.Join(dir, marksFileName)
		whole, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for slot := 0; slot < 2; slot++ {
			b := append([]byte(nil), whole...)
			b[slot*marksSlotLen(shards)+marksHeaderLen] ^= 0xff // the other copy's first mark: its checksum fails
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if n, ok, err := RecordedShards(dir); n != shards || !ok || err != nil {
				t.Fatalf("%d shards, copy %d damaged: read %d %v %v", shards, slot, n, ok, err)
			}
		}
		b := append([]byte(nil), whole...)
		b[marksHeaderLen] ^= 0xff
		b[marksSlotLen(shards)+marksHeaderLen] ^= 0xff
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := RecordedShards(dir); !errors.Is(err, errMarksDamaged) {
			t.Fatalf("%d shards, both copies damaged: %v", shards, err)
		}
	}
}
