package raftstore

import (
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// Reading the log ahead (docs/adr/0133). Raft reads entries one GetLog at
// a time: at start it reads every entry after the restored snapshot for
// configuration changes and then again to apply it, and a leader sends a
// lagging follower its missing entries so. Each GetLog is a Pebble point
// lookup, a new iterator through every level's index blocks. When GetLog
// is asked for the entry after the one it was asked for last, it reads the
// entries that follow with one iterator (up to aheadEntries of them,
// aheadBytes in all) and answers the next calls from them.
//
// An append or a deletion that touches the entries read ahead drops them
// (raft replaces a conflicting suffix by deleting it and appending the
// leader's entries), and a read that such a change overtook is not kept.

const (
	aheadEntries = 64
	aheadBytes   = 1 << 20
)

// logAhead is a shard's entries read ahead, shared by its views like its
// first index (logfirst.go).
type logAhead struct {
	mu   sync.Mutex
	last uint64     // the index GetLog was asked for last (0: none)
	buf  []raft.Log // entries read ahead, in order, from buf[0].Index
	gen  uint64     // changes to the log (appends and deletions)
}

// take answers index from the entries read ahead, and notes the request.
// It reports whether it answered, and whether index follows the request
// before it (so reading ahead is worth it). A request it cannot answer
// drops what it holds.
func (a *logAhead) take(index uint64, l *raft.Log) (ok, follows bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	follows = a.last != 0 && index == a.last+1
	a.last = index
	if len(a.buf) == 0 || index < a.buf[0].Index || index-a.buf[0].Index >= uint64(len(a.buf)) {
		a.buf = nil
		return false, follows
	}
	k := index - a.buf[0].Index
	*l = a.buf[k]
	a.buf[k] = raft.Log{} // the caller owns its Data now
	a.buf = a.buf[k+1:]
	return true, follows
}

// generation returns the count of changes, read before a read ahead.
func (a *logAhead) generation() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gen
}

// keep installs entries read ahead, unless a change overtook the read.
func (a *logAhead) keep(gen uint64, ents []raft.Log) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen == gen && len(ents) > 0 {
		a.buf = ents
	}
}

// changed drops the entries read ahead from index from on (every one for
// a deletion: pass 0), and makes reads under way not kept.
func (a *logAhead) changed(from uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	if len(a.buf) > 0 && from <= a.buf[len(a.buf)-1].Index {
		a.buf = nil
	}
}

// readAhead reads the entries from first on, up to aheadEntries of them
// and aheadBytes of values (at least one), as far as they run without a
// gap. An entry that does not decode ends them: GetLog's own read of it
// says what is wrong.
func (s *ShardStore) readAhead(first uint64) ([]raft.Log, error) {
	var lo, hi [logKeyLen]byte
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: appendLogKey(lo[:0], s.shard, first),
		UpperBound: appendLogKey(hi[:0], s.shard, first+aheadEntries),
	})
	if err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: read ahead: %w", s.shard, err)
	}
	defer it.Close()
	var ents []raft.Log
	bytes := 0
	for ok := it.First(); ok && bytes < aheadBytes; ok = it.Next() {
		index, ok := logKeyIndex(it.Key())
		if !ok || index != first+uint64(len(ents)) {
			break
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("raftstore: shard %d: read ahead %d: %w", s.shard, index, err)
		}
		if ents == nil {
			ents = make([]raft.Log, 0, aheadEntries)
		}
		var l raft.Log
		if err := decodeLog(val, &l); err != nil || l.Index != index {
			break
		}
		ents = append(ents, l)
		bytes += len(val)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("raftstore: shard %d: read ahead: %w", s.shard, err)
	}
	return ents, nil
}
