package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
)

// peerTable is this node's list of the cluster's nodes (docs/adr/0046):
// node id, raft id and address, client address, and whether the node is
// drained. The raft groups' configurations say who replicates each shard;
// the table says how to reach a node by its client address (TOPOLOGY,
// NOT_LEADER hints) and where to find a node that is being added. It
// starts from the configured peers, changes with ADMIN set_peer,
// forget_peer, drain and undrain, and is written to a file in the data
// folder after every change, so that a restarted node keeps what it
// learned; the file, when present, wins over the configured list.
type peerTable struct {
	mu   sync.Mutex // serialises changes and their writes
	path string     // "": not persisted
	cur  atomic.Pointer[[]Peer]
}

// peersFileVersion is the version of the file's format.
const peersFileVersion = 1

type peersFile struct {
	Version int    `json:"version"`
	Peers   []Peer `json:"peers"`
}

// openPeerTable loads the table from path if the file exists, or starts
// it from seed (and writes the file).
func openPeerTable(path string, seed []Peer) (*peerTable, error) {
	t := &peerTable{path: path}
	list := slices.Clone(seed)
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			var f peersFile
			if err := json.Unmarshal(b, &f); err != nil {
				return nil, fmt.Errorf("server: peer table %s: %w", path, err)
			}
			if f.Version != peersFileVersion {
				return nil, fmt.Errorf("server: peer table %s: version %d, want %d", path, f.Version, peersFileVersion)
			}
			list = f.Peers
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, fmt.Errorf("server: peer table: %w", err)
		}
	}
	for _, p := range list {
		if p.NodeID == 0 || p.RaftID == "" || p.RaftAddr == "" || p.ClientAddr == "" {
			return nil, fmt.Errorf("server: peer table: incomplete entry %+v", p)
		}
	}
	sortPeers(list)
	if err := t.store(list); err != nil {
		return nil, err
	}
	return t, nil
}

func sortPeers(list []Peer) {
	slices.SortFunc(list, func(a, b Peer) int { return int(a.NodeID) - int(b.NodeID) })
}

// list returns the table, sorted by node id. The caller must not change it.
func (t *peerTable) list() []Peer {
	if p := t.cur.Load(); p != nil {
		return *p
	}
	return nil
}

// byID returns node id's entry.
func (t *peerTable) byID(id uint32) (Peer, bool) {
	for _, p := range t.list() {
		if p.NodeID == id {
			return p, true
		}
	}
	return Peer{}, false
}

// update applies change to a copy of the table and, if it changed
// anything, persists and publishes it. change reports whether it did.
func (t *peerTable) update(change func([]Peer) ([]Peer, bool)) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	next, changed := change(slices.Clone(t.list()))
	if !changed {
		return false, nil
	}
	sortPeers(next)
	return true, t.store(next)
}

// store writes list to the file (atomically: a temporary file renamed
// over it) and publishes it.
func (t *peerTable) store(list []Peer) error {
	if t.path != "" {
		b, err := json.MarshalIndent(peersFile{Version: peersFileVersion, Peers: list}, "", "  ")
		if err != nil {
			return err
		}
		tmp := t.path + ".tmp"
		if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("server: peer table: %w", err)
		}
		if err := syncFile(tmp); err != nil {
			return fmt.Errorf("server: peer table: %w", err)
		}
		if err := os.Rename(tmp, t.path); err != nil {
			return fmt.Errorf("server: peer table: %w", err)
		}
		if d, err := os.Open(filepath.Dir(t.path)); err == nil {
			_ = d.Sync()
			_ = d.Close()
		}
	}
	t.cur.Store(&list)
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}
