package engine

// oaTable maps integer keys to integer values with open addressing, linear
// probing and backward-shift deletion. Unlike Go's map it leaves no
// tombstones, so a table with steady insert/delete churn (idempotency keys
// aging out, pickup codes coming and going) keeps short probes. Keys are
// already well mixed (hashes, HMAC-derived codes) but are multiplied by a
// constant anyway so that structured keys spread too.
type oaTable[K, V uint32 | uint64] struct {
	slots []oaSlot[K, V] // len is a power of two
	n     int
}

// u64table is the table with 64-bit keys and values (16 bytes a slot).
type u64table = oaTable[uint64, uint64]

// oaSlot holds val+1, so that 0 marks an empty slot without a flag byte.
type oaSlot[K, V uint32 | uint64] struct {
	key  K
	val1 V
}

type u64slot = oaSlot[uint64, uint64]

func (s *oaSlot[K, V]) used() bool { return s.val1 != 0 }

func (t *oaTable[K, V]) home(key K) int {
	return int((uint64(key) * 0x9E3779B97F4A7C15) >> 32 & uint64(len(t.slots)-1))
}

func (t *oaTable[K, V]) get(key K) (V, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used() {
			return 0, false
		}
		if s.key == key {
			return s.val1 - 1, true
		}
	}
}

// put sets key to val (val must be below the type's maximum).
func (t *oaTable[K, V]) put(key K, val V) {
	if (t.n+1)*4 > len(t.slots)*3 { // keep the load under 3/4
		t.resize(max(16, 2*len(t.slots)))
	}
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used() {
			*s = oaSlot[K, V]{key: key, val1: val + 1}
			t.n++
			return
		}
		if s.key == key {
			s.val1 = val + 1
			return
		}
	}
}

// insert sets key to val unless the table holds key already; then it
// returns key's value and true and changes nothing. One probe where get
// followed by put takes two.
func (t *oaTable[K, V]) insert(key K, val V) (V, bool) {
	if (t.n+1)*4 > len(t.slots)*3 { // keep the load under 3/4
		t.resize(max(16, 2*len(t.slots)))
	}
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used() {
			*s = oaSlot[K, V]{key: key, val1: val + 1}
			t.n++
			return 0, false
		}
		if s.key == key {
			return s.val1 - 1, true
		}
	}
}

func (t *oaTable[K, V]) del(key K) {
	if t.n == 0 {
		return
	}
	mask := len(t.slots) - 1
	i := t.home(key)
	for {
		s := &t.slots[i]
		if !s.used() {
			return
		}
		if s.key == key {
			break
		}
		i = (i + 1) & mask
	}
	// Shift later entries of the run back so no probe sequence breaks.
	j := i
	for {
		j = (j + 1) & mask
		s := &t.slots[j]
		if !s.used() {
			break
		}
		h := t.home(s.key)
		// s may move to i if its home is not in the cyclic range (i, j].
		if (j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j)) {
			t.slots[i] = *s
			i = j
		}
	}
	t.slots[i] = oaSlot[K, V]{}
	t.n--
}

// reserve grows the table, if need be, to hold n keys under the load bound
// of put without resizing again.
func (t *oaTable[K, V]) reserve(n int) {
	size := max(16, len(t.slots))
	for n*4 > size*3 {
		size *= 2
	}
	if size > len(t.slots) {
		t.resize(size)
	}
}

// homeOrder returns entries (a key in the high 32 bits, a value in the
// low ones) ordered by the home slot of their key in the table as it is
// sized now, coarsely: a counting sort on at most 2^12 buckets of
// neighbouring slots (few enough that the sort's writes stay in the
// cache, each a stretch of the table small enough for it too), stable, so
// the order is the same on every replica.
const homeOrderBuckets = 1 << 12

func (t *oaTable[K, V]) homeOrder(entries []uint64) []uint64 {
	if len(entries) < 2 || len(t.slots) == 0 {
		return entries
	}
	shift := 0
	for len(t.slots)>>shift > homeOrderBuckets {
		shift++
	}
	count := make([]int, len(t.slots)>>shift+1)
	for _, e := range entries {
		count[t.home(K(e>>32))>>shift+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	out := make([]uint64, len(entries))
	for _, e := range entries {
		b := t.home(K(e>>32)) >> shift
		out[count[b]] = e
		count[b]++
	}
	return out
}

func (t *oaTable[K, V]) resize(size int) {
	old := t.slots
	t.slots = make([]oaSlot[K, V], size)
	t.n = 0
	for _, s := range old {
		if s.used() {
			t.put(s.key, s.val1-1)
		}
	}
}

func (t *oaTable[K, V]) len() int { return t.n }
