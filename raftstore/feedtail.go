package raftstore

import (
	"fmt"
	"sort"

	"github.com/invsys/inv/engine"
)

// The feed's tail: the newest events of a shard, as stored (the same
// encoded values), kept in memory as well, so that a consumer that keeps up
// with the feed (the pages' follower, a SUBSCRIBE) reads them without a
// Pebble iterator. Under load a follower reads after every commit, and an
// iterator's seek through the memtables and every level cost more than the
// decoding of the few events it found (docs/adr/0074).
//
// A chunk is the events of one record call, immutable once published:
// readers copy the chunk list's header under nmu and decode outside any
// lock. The list only ever grows at its end and drops from its front by
// reslicing, so the elements a reader's header shows are never written
// again.

// tailMaxEvents bounds the events the tail keeps per shard: a few reads'
// worth (followReadMax is 1,024), a few hundred KB.
const tailMaxEvents = 4096

type tailChunk struct {
	pos  []Position // the events' positions, ascending
	end  []uint32   // each event's value is data[end[i-1]:end[i]]
	data []byte
}

func (c *tailChunk) value(i int) []byte {
	var from uint32
	if i > 0 {
		from = c.end[i-1]
	}
	return c.data[from:c.end[i]]
}

// feedTail is guarded by Feed.nmu.
type feedTail struct {
	chunks []*tailChunk
	n      int      // events in chunks
	from   Position // every stored event at or after from is in chunks
}

// reset empties the tail: every event from on, none stored yet, will be
// in it.
func (t *feedTail) reset(from Position) {
	*t = feedTail{from: from}
}

// push publishes c (its events come after every event in the tail) and
// drops the oldest chunks past tailMaxEvents, keeping c.
func (t *feedTail) push(c *tailChunk) {
	t.chunks = append(t.chunks, c)
	t.n += len(c.pos)
	for len(t.chunks) > 1 && t.n > tailMaxEvents {
		old := t.chunks[0]
		t.chunks = t.chunks[1:] // not cleared: a reader may hold this header
		t.n -= len(old.pos)
		t.from = old.pos[len(old.pos)-1].Next()
	}
}

// readTail serves ReadEvents from the tail when it holds every event from
// from on; ok is false when it does not (or the feed failed, or from is
// before the floor), and the caller reads Pebble, which also reports
// those errors. life is held shared.
func (f *Feed) readTail(from Position, max int, dst []FeedEvent) (_ []FeedEvent, next Position, ok bool, _ error) {
	f.nmu.Lock()
	if f.failed != nil || from.Less(f.floor) || from.Less(f.tail.from) {
		f.nmu.Unlock()
		return dst, from, false, nil
	}
	chunks := f.tail.chunks
	f.nmu.Unlock()

	next = from
	n0 := len(dst)
	// The first chunk whose last event is at or after from.
	ci := sort.Search(len(chunks), func(i int) bool {
		c := chunks[i]
		return !c.pos[len(c.pos)-1].Less(from)
	})
	for ; ci < len(chunks) && max > 0; ci++ {
		c := chunks[ci]
		i := sort.Search(len(c.pos), func(i int) bool { return !c.pos[i].Less(from) })
		for ; i < len(c.pos) && max > 0; i++ {
			p := c.pos[i]
			dst = append(dst, FeedEvent{Position: p})
			ev := &dst[len(dst)-1].Event
			var prev *engine.Event
			if len(dst)-1 > n0 {
				prev = &dst[len(dst)-2].Event
			}
			if err := decodeEventValue(c.value(i), ev, prev); err != nil {
				return dst[:len(dst)-1], next, true, fmt.Errorf("raftstore: shard %d: feed event %v: %w", f.shard, p, err)
			}
			next = p.Next()
			max--
		}
	}
	return dst, next, true, nil
}
