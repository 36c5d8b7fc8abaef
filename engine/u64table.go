package engine

// oaTable maps integer keys to integer values with open addressing, linear
// probing and backward-shift deletion. Unlike Go's map it leaves no
// tombstones, so a table with steady insert/delete churn (idempotency keys
// aging out, pickup codes coming and going) keeps short probes. Keys are
// already well mixed (hashes, HMAC-derived codes) but are multiplied by a
// constant anyway so that structured keys spread too.
//
// A table grows incrementally: when it passes its load bound it takes a
// table twice the size and keeps the old one beside it, and each later
// put or insert moves the next few of the old table's slots into the new
// one (growSteps). Moving a whole table at once stalled the apply that
// happened to pass the bound: 100 ms at a million idempotency keys, the
// shard of a flash sale's hot item. While the old table remains, a key
// lives in exactly one of the two: in the old one only at a slot the
// move has not reached (below oldNext it has moved) and not marked moved
// out (oaMoved: a put or del of its key took it out early; the mark keeps
// the old table's probe runs whole).
type oaTable[K, V uint32 | uint64] struct {
	slots []oaSlot[K, V] // len is a power of two
	n     int            // keys in slots

	old     []oaSlot[K, V] // the table before the growth under way, or nil
	oldNext int            // old's slots below this one have moved
	oldN    int            // keys still living in old
}

// growSteps is how many of the old table's slots each put or insert
// moves while a growth is under way. The old table is at most 3/4 full
// and the new one takes 3/4 of twice its size before growing again, so
// the move must cover the old table within 3/4 of its size in puts (2 a
// put would do). More a put ends the growth sooner, and with it the
// lookups that miss the new table and probe the old one too (4 a put
// made BenchmarkEngineReserveSpread about a tenth slower); 32 slots cost
// a put about a microsecond at most.
const growSteps = 32

// u64table is the table with 64-bit keys and values (16 bytes a slot).
type u64table = oaTable[uint64, uint64]

// oaSlot holds val+1, so that 0 marks an empty slot without a flag byte;
// in an old table the value's maximum marks a key moved out (oaMoved).
type oaSlot[K, V uint32 | uint64] struct {
	key  K
	val1 V
}

type u64slot = oaSlot[uint64, uint64]

func (s *oaSlot[K, V]) used() bool { return s.val1 != 0 }

// moved reports an old table's slot whose key was taken out by a put or
// a del before the move reached it.
func (s *oaSlot[K, V]) moved() bool { return s.val1 == ^V(0) }

func (t *oaTable[K, V]) home(key K) int { return oaHome(key, len(t.slots)) }

func oaHome[K uint32 | uint64](key K, size int) int {
	return int((uint64(key) * 0x9E3779B97F4A7C15) >> 32 & uint64(size-1))
}

func (t *oaTable[K, V]) get(key K) (V, bool) {
	if t.n > 0 {
		mask := len(t.slots) - 1
		for i := t.home(key); ; i = (i + 1) & mask {
			s := &t.slots[i]
			if !s.used() {
				break
			}
			if s.key == key {
				return s.val1 - 1, true
			}
		}
	}
	if t.oldN > 0 {
		if i := t.findOld(key); i >= 0 {
			return t.old[i].val1 - 1, true
		}
	}
	return 0, false
}

// findOld returns the old table's slot where key still lives, or -1.
func (t *oaTable[K, V]) findOld(key K) int {
	mask := len(t.old) - 1
	for i := oaHome(key, len(t.old)); ; i = (i + 1) & mask {
		s := &t.old[i]
		if !s.used() {
			return -1
		}
		if s.key == key {
			if i < t.oldNext || s.moved() {
				return -1 // it lives in slots, or was deleted
			}
			return i
		}
	}
}

// takeOld takes key out of the old table, if it lives there, and
// reports its value.
func (t *oaTable[K, V]) takeOld(key K) (V, bool) {
	if t.oldN == 0 {
		return 0, false
	}
	i := t.findOld(key)
	if i < 0 {
		return 0, false
	}
	v := t.old[i].val1 - 1
	t.old[i].val1 = ^V(0)
	t.oldN--
	return v, true
}

// put sets key to val (val must be below the type's maximum less one).
func (t *oaTable[K, V]) put(key K, val V) {
	assertOAValue(val)
	t.grow()
	t.takeOld(key)
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
	assertOAValue(val)
	t.grow()
	if t.oldN > 0 {
		if i := t.findOld(key); i >= 0 {
			return t.old[i].val1 - 1, true
		}
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

func assertOAValue[V uint32 | uint64](val V) {
	if val >= ^V(0)-1 {
		panic("engine: table value out of range")
	}
}

// grow moves growSteps of the old table's slots, if a growth is under
// way, and starts one when a key more would pass the load bound (3/4).
func (t *oaTable[K, V]) grow() {
	if t.old != nil {
		t.move(growSteps)
	}
	if (t.n+t.oldN+1)*4 <= len(t.slots)*3 {
		return
	}
	if t.old != nil {
		t.move(len(t.old)) // cannot happen with growSteps over 2; bounded anyway
	}
	if t.n == 0 {
		t.slots = make([]oaSlot[K, V], max(16, 2*len(t.slots)))
		return
	}
	t.old, t.oldNext, t.oldN = t.slots, 0, t.n
	t.slots, t.n = make([]oaSlot[K, V], 2*len(t.slots)), 0
	t.move(growSteps)
}

// move moves up to k of the old table's slots into slots.
func (t *oaTable[K, V]) move(k int) {
	for ; k > 0 && t.old != nil; k-- {
		s := t.old[t.oldNext]
		t.oldNext++
		if s.used() && !s.moved() {
			t.place(s.key, s.val1)
			t.oldN--
		}
		if t.oldNext == len(t.old) {
			t.old, t.oldNext = nil, 0
		}
	}
}

// place puts a key known to be absent from slots, whose load bound has
// room, with its stored value val1.
func (t *oaTable[K, V]) place(key K, val1 V) {
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		if s := &t.slots[i]; !s.used() {
			*s = oaSlot[K, V]{key: key, val1: val1}
			t.n++
			return
		}
	}
}

func (t *oaTable[K, V]) del(key K) {
	if _, ok := t.takeOld(key); ok {
		return
	}
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

// each calls f with every key and its value, in no particular order.
func (t *oaTable[K, V]) each(f func(K, V)) {
	for i := range t.slots {
		if s := &t.slots[i]; s.used() {
			f(s.key, s.val1-1)
		}
	}
	for i := t.oldNext; t.oldN > 0 && i < len(t.old); i++ {
		if s := &t.old[i]; s.used() && !s.moved() {
			f(s.key, s.val1-1)
		}
	}
}

// reserve grows the table, if need be, to hold n keys under the load bound
// of put without resizing again. A growth under way is finished first.
func (t *oaTable[K, V]) reserve(n int) {
	if t.old != nil {
		t.move(len(t.old))
	}
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

// resize moves every key into a table of size slots at once (reserve's:
// no growth is under way).
func (t *oaTable[K, V]) resize(size int) {
	old := t.slots
	t.slots = make([]oaSlot[K, V], size)
	t.n = 0
	for _, s := range old {
		if s.used() {
			t.place(s.key, s.val1)
		}
	}
}

func (t *oaTable[K, V]) len() int { return t.n + t.oldN }
