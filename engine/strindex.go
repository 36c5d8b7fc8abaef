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
	return x.byHash.get(strHash(name))
}

func (x *strIndex) overflowGet(name []byte) (uint32, bool) {
	if len(x.overflow) == 0 {
		return 0, false
	}
	v, ok := x.overflow[string(name)]
	return v, ok
}

// put adds a name that is not in the index.
func (x *strIndex) put(name string, slot uint32) {
	if _, taken := x.byHash.insert(strHash([]byte(name)), slot); taken {
		if x.overflow == nil {
			x.overflow = make(map[string]uint32)
		}
		x.overflow[name] = slot
	}
}

// putNew adds name at slot unless the index holds it already (same reports
// whether a slot holds name), and reports whether it added it: one hash and
// one probe where a lookup followed by put would take two of each, which
// restore pays for every item and customer.
func (x *strIndex) putNew(name string, slot uint32, same func(uint32) bool) bool {
	if v, taken := x.byHash.insert(strHash([]byte(name)), slot); taken {
		if same(v) {
			return false
		}
		if _, dup := x.overflow[name]; dup {
			return false
		}
		if x.overflow == nil {
			x.overflow = make(map[string]uint32)
		}
		x.overflow[name] = slot
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
