package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPeerTablePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers.json")
	seed := []Peer{
		{NodeID: 2, RaftID: "node-2", RaftAddr: "h2:7430", ClientAddr: "h2:7420"},
		{NodeID: 1, RaftID: "node-1", RaftAddr: "h1:7430", ClientAddr: "h1:7420"},
	}
	tab, err := openPeerTable(path, seed)
	if err != nil {
		t.Fatal(err)
	}
	if l := tab.list(); len(l) != 2 || l[0].NodeID != 1 {
		t.Fatalf("seeded table %+v, want sorted by id", l)
	}
	changed, err := tab.update(func(l []Peer) ([]Peer, bool) {
		return append(l, Peer{NodeID: 4, RaftID: "node-4", RaftAddr: "h4:7430", ClientAddr: "h4:7420", Drained: true}), true
	})
	if err != nil || !changed {
		t.Fatalf("update: %v %v", changed, err)
	}
	// A restart with the original seed keeps what was learned.
	again, err := openPeerTable(path, seed)
	if err != nil {
		t.Fatal(err)
	}
	if l := again.list(); len(l) != 3 || l[2].NodeID != 4 || !l[2].Drained || l[2].ClientAddr != "h4:7420" {
		t.Fatalf("reopened table %+v", l)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
	// A damaged file is refused, not replaced by the seed.
	if err := os.WriteFile(path, []byte(`{"version":1,"peers":[{"node_id":5}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openPeerTable(path, seed); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("damaged table: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"version":2,"peers":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openPeerTable(path, seed); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("future version: %v", err)
	}
}
