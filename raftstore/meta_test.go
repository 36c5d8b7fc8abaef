// This file proves that a data folder keeps the placement of items it was
// written under: a new folder records the node's; the same placement opens
// again; another one, or a folder holding shard state from before
// placements were recorded, is refused with ErrPlacement and a message
// naming both placements and the way over (export, import), and the refused
// open leaves the folder as it was.
package raftstore

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlacementRecorded(t *testing.T) {
	dir := t.TempDir()
	o := testNodeOptions(t, dir)
	o.Placement = "fnv1a64-store"
	n := openTestNode(t, o)
	waitLeaderOf(t, n)
	if got, err := n.Store().Placement(); err != nil || got != "fnv1a64-store" {
		t.Fatalf("placement %q, %v", got, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = openTestNode(t, o) // the same placement opens
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	o.Placement = "another"
	_, err := OpenNode(o)
	if !errors.Is(err, ErrPlacement) || !strings.Contains(err.Error(), `"fnv1a64-store"`) ||
		!strings.Contains(err.Error(), `"another"`) || !strings.Contains(err.Error(), "invctl export") {
		t.Fatalf("open under another placement: %v", err)
	}
	o.Placement = "fnv1a64-store" // the refusal changed nothing
	n = openTestNode(t, o)
	_ = n.Close()
}

func TestPlacementLegacyFolderRefused(t *testing.T) {
	dir := t.TempDir()
	o := testNodeOptions(t, dir) // no placement: a node of the earlier versions
	n := openTestNode(t, o)
	waitLeaderOf(t, n)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "raft"), StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Placement(); err != nil || got != LegacyPlacement {
		t.Fatalf("a folder with state and no record: %q, %v", got, err)
	}
	_ = s.Close()
	o.Placement = "fnv1a64-store"
	if _, err := OpenNode(o); !errors.Is(err, ErrPlacement) || !strings.Contains(err.Error(), LegacyPlacement) {
		t.Fatalf("open of a legacy folder: %v", err)
	}
}
