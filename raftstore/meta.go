package raftstore

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// The node's own metadata, beside the shards' keys in the same Pebble:
//
//	'm' name -> value
//
// "placement" names how items are placed on shards (the server's shard
// function, protocol.HashName). A shard's log and snapshots hold the items
// that function sent to it: read under another function, the same items
// would be looked for in other shards, and a store's rules would span
// shards. So the scheme is recorded when a data folder is first used, and a
// folder recorded under another scheme, or holding shard state from before
// schemes were recorded, is refused at open (docs/adr/0071).
const prefixMeta byte = 'm'

var metaPlacement = []byte{prefixMeta, 'p', 'l', 'a', 'c', 'e', 'm', 'e', 'n', 't'}

// LegacyPlacement names the placement of data folders that record none:
// they were written by nodes that placed items by SKU and store.
const LegacyPlacement = "fnv1a64-lp"

// ErrPlacement is returned (wrapped, with a message saying what to do) by
// OpenNode for a data folder written under another placement.
var ErrPlacement = errors.New("raftstore: the data folder was written under another placement of items")

// Placement returns the placement recorded in the store: "" for a store
// that holds nothing, LegacyPlacement for one with shard state and no record.
func (s *Store) Placement() (string, error) {
	v, closer, err := s.db.Get(metaPlacement)
	switch {
	case err == nil:
		defer closer.Close()
		return string(v), nil
	case !isNotFound(err):
		return "", fmt.Errorf("raftstore: read placement: %w", err)
	}
	empty, err := s.empty()
	if err != nil || empty {
		return "", err
	}
	return LegacyPlacement, nil
}

// empty reports whether the store holds no key at all.
func (s *Store) empty() (bool, error) {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return false, fmt.Errorf("raftstore: %w", err)
	}
	defer it.Close()
	return !it.First(), nil
}

// checkPlacement records want in a store that holds nothing yet, accepts a
// store that recorded want, and refuses any other with ErrPlacement and a
// message naming both schemes and the way over (export, then import).
func (s *Store) checkPlacement(dir, want string) error {
	got, err := s.Placement()
	switch {
	case err != nil:
		return err
	case got == want:
		return nil
	case got == "":
		if err := s.db.Set(metaPlacement, []byte(want), pebble.Sync); err != nil {
			return fmt.Errorf("raftstore: record placement: %w", err)
		}
		return nil
	}
	return fmt.Errorf("%w: %s holds shards placed by %q, this node places items by %q (every SKU of a store in the "+
		"store's shard); serving it would look for items in the wrong shards. Export the catalog with the version "+
		"that wrote it (invctl export), start this version on an empty data folder and import it (invctl import)",
		ErrPlacement, dir, got, want)
}
