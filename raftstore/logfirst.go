package raftstore

import "sync"

// A shard's first log index, kept in memory. Reading it from Pebble takes
// a new iterator over the shard's log range: tables to open, index blocks
// to read past the range tombstones of every compaction. On a loaded node
// that took up to 195 ms, and the FSM reads it while it captures a
// snapshot (snapbuild.go's covers), on the apply path: it was the capture's
// stall (docs/adr/0122). The first index changes only when the log is
// compacted or truncated (DeleteRange) or when entries arrive in an empty
// log (StoreLogs), so it is read from Pebble once after each of those, and
// from memory otherwise.
//
// Every view of a shard (Store.Shard) shares its shard's cell, so a change
// through one view is seen through all.

// logFirst is one shard's cached first index. gen counts the changes: a
// read from Pebble that a change overtook is not cached, so the cell never
// holds an index older than the log's.
type logFirst struct {
	mu    sync.Mutex
	known bool
	index uint64
	gen   uint64

	// ahead is the shard's entries read ahead (logahead.go), kept in the
	// same cell so that every view shares them.
	ahead logAhead
}

// get returns the cached index, or read's and caches it.
func (c *logFirst) get(read func() (uint64, error)) (uint64, error) {
	c.mu.Lock()
	if c.known {
		defer c.mu.Unlock()
		return c.index, nil
	}
	gen := c.gen
	c.mu.Unlock()
	index, err := read() // outside the lock: a change meanwhile is seen by gen
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.known, c.index = true, index
	}
	c.mu.Unlock()
	return index, nil
}

// changed forgets the cached index after a change of the log's first entry.
func (c *logFirst) changed() {
	c.mu.Lock()
	c.gen++
	c.known = false
	c.mu.Unlock()
}

// appended forgets the cached index if the log was empty: the append made
// its first entry.
func (c *logFirst) appended() {
	c.mu.Lock()
	if c.known && c.index == 0 {
		c.gen++
		c.known = false
	}
	c.mu.Unlock()
}

// logFirsts holds the cells of a Store's shards.
type logFirsts struct {
	mu    sync.Mutex
	cells map[uint16]*logFirst
}

func (f *logFirsts) of(shard uint16) *logFirst {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cells == nil {
		f.cells = map[uint16]*logFirst{}
	}
	c := f.cells[shard]
	if c == nil {
		c = &logFirst{}
		f.cells[shard] = c
	}
	return c
}
