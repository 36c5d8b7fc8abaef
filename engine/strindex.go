package engine

// strIndex maps strings (item keys, customer ids) to slots. It keys a
// table by a 32-bit hash of the string; the caller checks the string at
// the slot it gets back. That is cheaper than Go's string map at these sizes
// (no string header per entry, no tombstones). The rare string whose hash
// collides with another goes to a small overflow map.
type strIndex struct {
	byHash   oaTable[uint32, uint32] // 8 bytes a slot: a 32-bit hash tag and the slot
	overflow map[string]uint32
}

// strHash is FNV-1a with a final mix. Deterministic: no seed, no randomness
// inside the engine (the index is rebuilt on restore, never serialized).
func strHash(b []byte) uint32 {
	h := fnv64(fnvOffset, b)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return uint32(h)
}

// candidate returns the slot stored under name's hash; the caller must check
// that the slot's string is name, and else ask overflowGet.
func (x *strIndex) candidate(name []byte) (uint32, bool) {
	return x.candidateHashed(strHash(name))
}

// candidateHashed is candidate of a name whose strHash the caller has.
func (x *strIndex) candidateHashed(h uint32) (uint32, bool) { return x.byHash.get(h) }

func (x *strIndex) overflowGet(name []byte) (uint32, bool) {
	if len(x.overflow) == 0 {
		return 0, false
	}
	v, ok := x.overflow[string(name)]
	return v, ok
}

// put adds a name that is not in the index.
func (x *strIndex) put(name string, slot uint32) { x.putHashed(name, strHash([]byte(name)), slot) }

// putHashed is put of a name whose strHash the caller has: a bulk put
// hashes each item's key once for its three uses.
func (x *strIndex) putHashed(name string, h, slot uint32) {
	if _, taken := x.byHash.insert(h, slot); taken {
		if x.overflow == nil {
			x.overflow = make(map[string]uint32)
		}
		x.overflow[name] = slot
	}
}

// putAll adds the names of many slots at once, as restore does: entries
// holds each one's strHash in its high 32 bits and its slot in the low
// ones, and name returns a slot's string. It reports false when a name is
// already in the index or twice among them. The entries go into the table
// in the order of their home slots, so that filling a table much larger
// than the cache walks it once from start to end instead of missing the
// cache at every insert; the index is the one single puts would build,
// but for which of two colliding names the table holds and which the
// overflow (each is found either way).
func (x *strIndex) putAll(entries []uint64, name func(uint32) string) bool {
	t := &x.byHash
	t.reserve(t.n + len(entries))
	for _, e := range t.homeOrder(entries) {
		slot := uint32(e)
		v, taken := t.insert(uint32(e>>32), slot)
		if !taken {
			continue
		}
		nm := name(slot)
		if name(v) == nm {
			return false
		}
		if _, dup := x.overflow[nm]; dup {
			return false
		}
		if x.overflow == nil {
			x.overflow = make(map[string]uint32)
		}
		x.overflow[nm] = slot
	}
	return true
}

// reserve sizes the index for n names, so that filling it does not
// rehash it at every doubling.
func (x *strIndex) reserve(n int) { x.byHash.reserve(n) }

// del removes a name stored at slot (used only to undo a customer created in
// a failed linked group).
func (x *strIndex) del(name string, slot uint32) {
	h := strHash([]byte(name))
	if v, ok := x.byHash.get(h); ok && v == slot {
		x.byHash.del(h)
		return
	}
	delete(x.overflow, name)
}
