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
// leader's entries), and a read whose range such a change touched while
// it ran is not kept; appends past it, a leader's new entries, leave it.

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
	// The read ahead under way, if any: its token (0: none), the last
	// index it may read, and whether a change touched its range since it
	// began. Only an append or deletion at or below that index spoils it:
	// a leader appends all the while it reads old entries for a follower.
	reading uint64
	readTo  uint64
	spoiled bool
	tokens  uint64
}

// take answers index from the entries read ahead, and notes the request.
// When it cannot answer and index follows the request before it (so
// reading ahead is worth it), it begins a read ahead from index and
// returns its token for keep (0: none). A request it cannot answer drops
// what it holds.
func (a *logAhead) take(index uint64, l *raft.Log) (ok bool, token uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	follows := a.last != 0 && index == a.last+1
	a.last = index
	if len(a.buf) == 0 || index < a.buf[0].Index || index-a.buf[0].Index >= uint64(len(a.buf)) {
		a.buf = nil
		if !follows {
			return false, 0
		}
		return false, a.begin(index)
	}
	k := index - a.buf[0].Index
	*l = a.buf[k]
	a.buf[k] = raft.Log{} // the caller owns its Data now
	a.buf = a.buf[k+1:]
	return true, 0
}

// begin starts a read ahead from index (under mu); one begun after it
// makes it not kept.
func (a *logAhead) begin(index uint64) uint64 {
	a.tokens++
	a.reading, a.readTo, a.spoiled = a.tokens, index+aheadEntries-1, false
	return a.tokens
}

// keep installs the entries the read ahead token read, unless a change to
// its range overtook it or another read began meanwhile.
func (a *logAhead) keep(token uint64, ents []raft.Log) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if token == a.reading && !a.spoiled && len(ents) > 0 {
		a.buf = ents
	}
	if token == a.reading {
		a.reading = 0
	}
}

// changed drops the entries read ahead from index from on (every one for
// a deletion: pass 0), and spoils the read under way if it reaches from.
func (a *logAhead) changed(from uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reading != 0 && from <= a.readTo {
		a.spoiled = true
	}
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
