// What this file proves: the rebuilder's find (snapbuild.go) picks the
// snapshot whose own header says its state stands at the base asked for,
// not by raft's index alone: raft's index of a snapshot may be above the
// FSM's (no-op entries are not applied), so a snapshot taken at raft index
// 12 may stand at 10. It returns the newest such snapshot, "" when none
// stands there (every one stands elsewhere, or the store is empty), and
// skips a snapshot that cannot be read instead of failing.
//
// How: a file snapshot store in a temporary folder, holding snapshots
// written by writeSnapshot at chosen raft indexes with chosen state
// indexes in their headers, and one whose header is cut short.
package raftstore

import (
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

// putSnap stores a snapshot at raft index raftIndex whose header says its
// state stands at stateIndex, and returns its id; cut stores only part of
// the header.
func putSnap(t *testing.T, store raft.SnapshotStore, raftIndex, stateIndex uint64, cut bool) string {
	t.Helper()
	sink, err := store.Create(raft.SnapshotVersionMax, raftIndex, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer = sink
	if cut {
		w = &limitWriter{w: sink, left: snapshotHeaderLen - 1}
	}
	if err := writeSnapshot(w, stateIndex, []byte("state")); err != nil && !cut {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.ID()
}

// limitWriter writes the first left bytes and drops the rest.
type limitWriter struct {
	w    io.Writer
	left int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	n := min(len(p), l.left)
	l.left -= n
	if _, err := l.w.Write(p[:n]); err != nil {
		return 0, err
	}
	return len(p), nil
}

func TestRebuilderFind(t *testing.T) {
	store, err := raft.NewFileSnapshotStoreWithLogger(t.TempDir(), 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &rebuilder{snaps: store}
	if got := b.find(10); got != "" {
		t.Fatalf("empty store: found %q", got)
	}
	at5 := putSnap(t, store, 5, 5, false)
	at10 := putSnap(t, store, 12, 10, false) // raft's index above the state's: two no-op entries
	cut := putSnap(t, store, 14, 14, true)
	at20 := putSnap(t, store, 20, 20, false)
	for _, c := range []struct {
		base uint64
		want string
	}{
		{5, at5},
		{10, at10}, // raft index 12, state at 10: found by its header
		{12, ""},   // raft index 12 stands at 10, not 12
		{14, ""},   // the snapshot at 14 cannot be read: skipped
		{20, at20},
		{21, ""},
	} {
		if got := b.find(c.base); got != c.want {
			t.Errorf("find(%d) = %q, want %q (cut one: %q)", c.base, got, c.want, cut)
		}
	}
	// Two snapshots standing at one base: the newest is taken.
	again := putSnap(t, store, 22, 20, false)
	if got := b.find(20); got != again {
		t.Errorf("find(20) with two at 20 = %q, want the newer %q", got, again)
	}
}
