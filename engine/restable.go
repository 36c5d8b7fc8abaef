package engine

// resTable stores reservations by their per-shard sequence number: the
// reservation with seq s lives in chunk (s-1)/resChunkLen. Ids are issued in
// order, so no id map is needed; a chunk is freed when the last of its
// reservations is forgotten, and freed chunks are kept for reuse so steady
// load allocates nothing. A chunk exists exactly when it holds a reservation.
type resTable struct {
	chunks []*resChunk // chunks[i] covers chunk number first+i; nil when empty
	first  uint64
	spare  []*resChunk
}

const resChunkLen = 1024

type resChunk struct {
	live int32
	r    [resChunkLen]reservation
}

// get returns the reservation with sequence number seq, or nil.
func (t *resTable) get(seq uint64) *reservation {
	if seq == 0 {
		return nil
	}
	c := (seq - 1) / resChunkLen
	if c < t.first || c-t.first >= uint64(len(t.chunks)) {
		return nil
	}
	ch := t.chunks[c-t.first]
	if ch == nil {
		return nil
	}
	r := &ch.r[(seq-1)%resChunkLen]
	if r.id == 0 {
		return nil
	}
	return r
}

// add makes room for seq (the next sequence number) and returns its zeroed slot.
func (t *resTable) add(seq uint64) *reservation {
	c := (seq - 1) / resChunkLen
	if len(t.chunks) == 0 {
		t.first = c
	}
	for c-t.first >= uint64(len(t.chunks)) {
		t.chunks = append(t.chunks, nil)
	}
	ch := t.chunks[c-t.first]
	if ch == nil {
		if n := len(t.spare); n > 0 {
			ch = t.spare[n-1]
			t.spare = t.spare[:n-1]
		} else {
			ch = new(resChunk)
		}
		t.chunks[c-t.first] = ch
	}
	ch.live++
	r := &ch.r[(seq-1)%resChunkLen]
	*r = reservation{}
	return r
}

// remove clears the slot of seq, freeing its chunk when it was the last.
func (t *resTable) remove(seq uint64) {
	c := (seq - 1) / resChunkLen
	i := c - t.first
	ch := t.chunks[i]
	ch.r[(seq-1)%resChunkLen] = reservation{}
	ch.live--
	if ch.live > 0 {
		return
	}
	t.chunks[i] = nil
	if len(t.spare) < 4 {
		t.spare = append(t.spare, ch)
	}
	for len(t.chunks) > 0 && t.chunks[0] == nil {
		t.chunks[0] = nil
		t.chunks = t.chunks[1:]
		t.first++
	}
	if len(t.chunks) == 0 {
		t.chunks = nil // drop the backing array of a drained table
	}
}

// each calls f for every reservation in sequence order.
func (t *resTable) each(f func(r *reservation)) {
	for _, ch := range t.chunks {
		if ch == nil {
			continue
		}
		for i := range ch.r {
			if ch.r[i].id != 0 {
				f(&ch.r[i])
			}
		}
	}
}
