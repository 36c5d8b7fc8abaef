// Tests of the snapshot folder's preparation at open (snapdir.go), on
// folders written by hashicorp/raft's own FileSnapshotStore and then damaged
// the way a crash or a disk does, with an in-memory raft log standing for
// the shard's. They prove that an unfinished ".tmp" folder is removed with
// one log line naming it and its size; that a damaged newest snapshot
// (truncated state, flipped bytes, meta.json that does not decode, a
// missing state file) is moved aside, with one log line, when the log
// holds every entry after the newest intact snapshot, and that otherwise
// the open fails with a SnapshotDamagedError naming the file and what is
// wrong while the folder stays byte for byte as it was; and that the store
// lists an older snapshot only while the log continues it.
package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// snapFixture is a shard folder with snapshots made by raft's store.
type snapFixture struct {
	base  string
	names []string // oldest first
}

// newSnapFixture writes one snapshot per index, oldest first.
func newSnapFixture(t *testing.T, indexes ...uint64) *snapFixture {
	t.Helper()
	f := &snapFixture{base: t.TempDir()}
	store, err := raft.NewFileSnapshotStore(f.base, len(indexes)+1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, idx := range indexes {
		sink, err := store.Create(raft.SnapshotVersionMax, idx, 2, raft.Configuration{}, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		state := bytes.Repeat([]byte(fmt.Sprintf("state at %d;", idx)), 50)
		if err := writeSnapshot(sink, idx, state); err != nil {
			t.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		f.names = append(f.names, sink.ID())
	}
	return f
}

func (f *snapFixture) dir() string { return filepath.Join(f.base, snapshotsDirName) }

func (f *snapFixture) file(i int, name string) string {
	return filepath.Join(f.dir(), f.names[i], name)
}

// tree lists every file under the shard folder with its contents.
func (f *snapFixture) tree(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(f.base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// logWith is a raft log holding entries first..last (none if first is 0).
func logWith(t *testing.T, first, last uint64) raft.LogStore {
	t.Helper()
	s := raft.NewInmemStore()
	for i := first; first != 0 && i <= last; i++ {
		if err := s.StoreLog(&raft.Log{Index: i, Term: 2, Type: raft.LogCommand}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// recordLog is a logger whose lines a test reads back.
func recordLog() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// damages: ways a snapshot's files get damaged, and the words the error
// must use for each.
var damages = []struct {
	name, file, want string
	do               func(t *testing.T, path string)
}{
	{"truncated state", snapshotStateName, "truncated", func(t *testing.T, p string) {
		if err := os.Truncate(p, 20); err != nil {
			t.Fatal(err)
		}
	}},
	{"flipped byte in state", snapshotStateName, "checksum mismatch", func(t *testing.T, p string) {
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 0x40
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	{"meta.json cut short", snapshotMetaName, "meta.json does not decode", func(t *testing.T, p string) {
		b, _ := os.ReadFile(p)
		if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	{"state file missing", snapshotStateName, "cannot be read", func(t *testing.T, p string) {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}},
}

func TestPrepareSnapshotsRemovesUnfinished(t *testing.T) {
	f := newSnapFixture(t, 100)
	// What a crash in the middle of a write leaves: raft's Create wrote
	// meta.json (no checksum yet) and part of state.bin.
	tmp := filepath.Join(f.dir(), "2-180-1700000000000.tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(tmp, snapshotMetaName), []byte(`{"Version":1,"ID":"2-180-1700000000000","Index":180,"Term":2,"CRC":null}`+"\n"), 0o644)
	_ = os.WriteFile(filepath.Join(tmp, snapshotStateName), make([]byte, 4096), 0o644)
	size := folderBytes(tmp)

	log, buf := recordLog()
	if err := prepareSnapshots(0, f.base, logWith(t, 50, 200), log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unfinished snapshot still there: %v", err)
	}
	if _, err := os.Stat(f.file(0, snapshotStateName)); err != nil {
		t.Fatalf("the intact snapshot was touched: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "removed an unfinished snapshot") ||
		!strings.Contains(lines[0], "name=2-180-1700000000000.tmp") || !strings.Contains(lines[0], fmt.Sprintf("bytes=%d", size)) {
		t.Fatalf("log: want one line naming the folder and its %d bytes, got\n%s", size, buf)
	}
	// raft's store, listing it now, has nothing to warn about.
	var warned bytes.Buffer
	store, err := raft.NewFileSnapshotStore(f.base, 2, &warned)
	if err != nil {
		t.Fatal(err)
	}
	if metas, err := store.List(); err != nil || len(metas) != 1 || strings.Contains(warned.String(), "temporary") {
		t.Fatalf("list after: %d snapshots, %v, log %q", len(metas), err, warned.String())
	}
	// A second open has nothing to do and says nothing.
	buf.Reset()
	if err := prepareSnapshots(0, f.base, logWith(t, 50, 200), log); err != nil || buf.Len() != 0 {
		t.Fatalf("second open: %v, log %q", err, buf)
	}
}

func TestPrepareSnapshotsPassesOverDamagedWhenTheLogCovers(t *testing.T) {
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			f := newSnapFixture(t, 100, 200)
			d.do(t, f.file(1, d.file))
			log, buf := recordLog()
			// The log holds every entry after the older snapshot (101..) and
			// past the damaged one: replaying it rebuilds the same state.
			if err := prepareSnapshots(3, f.base, logWith(t, 90, 230), log); err != nil {
				t.Fatal(err)
			}
			moved := filepath.Join(f.base, damagedSnapshotsDir, f.names[1])
			if _, err := os.Stat(moved); err != nil {
				t.Fatalf("damaged snapshot not moved aside: %v", err)
			}
			if _, err := os.Stat(filepath.Join(f.dir(), f.names[1])); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("damaged snapshot still in the store: %v", err)
			}
			line := strings.TrimSpace(buf.String())
			if strings.Count(line, "\n") != 0 || !strings.Contains(line, "moved a damaged snapshot aside") ||
				!strings.Contains(line, "name="+f.names[1]) || !strings.Contains(line, d.want) ||
				!strings.Contains(line, "restoring_from=\""+f.names[0]) {
				t.Fatalf("log: want one line naming %s, %q and the snapshot restored, got\n%s", f.names[1], d.want, buf)
			}
			store, _ := raft.NewFileSnapshotStore(f.base, 2, io.Discard)
			if metas, err := store.List(); err != nil || len(metas) != 1 || metas[0].ID != f.names[0] {
				t.Fatalf("raft's store lists %v, %v: want only %s", metas, err, f.names[0])
			}
		})
	}
}

func TestPrepareSnapshotsRefusesWhenTheLogDoesNotCover(t *testing.T) {
	cases := []struct {
		name    string
		snaps   []uint64
		first   uint64
		last    uint64
		wantWhy string
	}{
		{"log starts after the older snapshot", []uint64{100, 200}, 150, 230, "log starts at index 150: entries 101 to 149"},
		{"no older snapshot, log compacted", []uint64{200}, 150, 230, "no older snapshot is intact while the log starts at index 150: entries 1 to 149"},
		{"empty log", []uint64{100, 200}, 0, 0, "while the log is empty: entries 101 to 200"},
		{"log ends before the damaged snapshot", []uint64{100, 200}, 90, 150, "log ends at index 150: entries 151 to 200"},
	}
	for _, c := range cases {
		for _, d := range damages {
			t.Run(c.name+"/"+d.name, func(t *testing.T) {
				f := newSnapFixture(t, c.snaps...)
				newest := len(c.snaps) - 1
				d.do(t, f.file(newest, d.file))
				// Leftovers stay too: a refused start changes nothing.
				tmp := filepath.Join(f.dir(), "2-300-1.tmp")
				_ = os.MkdirAll(tmp, 0o755)
				before := f.tree(t)
				log, buf := recordLog()
				err := prepareSnapshots(3, f.base, logWith(t, c.first, c.last), log)
				var de *SnapshotDamagedError
				if !errors.As(err, &de) {
					t.Fatalf("got %v, want a SnapshotDamagedError", err)
				}
				msg := err.Error()
				for _, w := range []string{"shard 3", f.file(newest, d.file), d.want, c.wantWhy, "Nothing was changed", "docs/OPERATIONS.md"} {
					if !strings.Contains(msg, w) {
						t.Errorf("error lacks %q:\n%s", w, msg)
					}
				}
				if after := f.tree(t); !equalTrees(before, after) {
					t.Errorf("the folder changed")
				}
				if _, err := os.Stat(tmp); err != nil {
					t.Errorf("a refused start removed %s: %v", tmp, err)
				}
				if buf.Len() != 0 {
					t.Errorf("a refused start logged changes:\n%s", buf)
				}
			})
		}
	}
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestPrepareSnapshotsNoIntactSnapshotLogFromStart(t *testing.T) {
	// Every snapshot damaged but the log still starts at 1: the state is
	// rebuilt from the log alone.
	f := newSnapFixture(t, 100, 200)
	damages[1].do(t, f.file(1, snapshotStateName))
	damages[2].do(t, f.file(0, snapshotMetaName))
	log, buf := recordLog()
	if err := prepareSnapshots(0, f.base, logWith(t, 1, 210), log); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(f.dir())
	if len(entries) != 0 {
		t.Fatalf("store still holds %v", entries)
	}
	if n := strings.Count(buf.String(), "moved a damaged snapshot aside"); n != 2 || !strings.Contains(buf.String(), `restoring_from="the log alone"`) {
		t.Fatalf("log:\n%s", buf)
	}
}

func TestPrepareSnapshotsOlderUnreadableMetaMovedAside(t *testing.T) {
	// The newest is intact: an older folder whose meta.json does not decode
	// is invisible to raft (which would warn about it on every listing and
	// never reap it), so it goes aside; older intact ones stay.
	f := newSnapFixture(t, 50, 100, 200)
	damages[2].do(t, f.file(1, snapshotMetaName))
	damages[1].do(t, f.file(0, snapshotStateName)) // older, unread: left to raft's reaper
	log, buf := recordLog()
	if err := prepareSnapshots(0, f.base, logWith(t, 150, 230), log); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(f.dir())
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := []string{f.names[0], f.names[2]}
	sort.Strings(want)
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("store holds %v, want %v", names, want)
	}
	if strings.Count(buf.String(), "\n") != 1 || !strings.Contains(buf.String(), "name="+f.names[1]) {
		t.Fatalf("log:\n%s", buf)
	}
}

func TestSnapshotStoreListsOnlyWhatTheLogContinues(t *testing.T) {
	f := newSnapFixture(t, 100, 200)
	files, err := raft.NewFileSnapshotStore(f.base, 2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		first, last uint64
		want        int
	}{
		{90, 230, 2},  // the log continues the older snapshot
		{101, 200, 2}, // exactly
		{102, 230, 1}, // entry 101 is gone
		{0, 0, 1},     // an empty log continues nothing
		{90, 150, 1},  // the log does not reach the newest
	} {
		s := &snapshotStore{FileSnapshotStore: files, logs: logWith(t, c.first, c.last)}
		metas, err := s.List()
		if err != nil || len(metas) != c.want || metas[0].Index != 200 {
			t.Errorf("log [%d, %d]: %d snapshots (%v), want %d, the newest first", c.first, c.last, len(metas), err, c.want)
		}
	}
}
