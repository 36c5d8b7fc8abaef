package engine

import (
	"cmp"
	"slices"
)

// One due heap for everything that becomes due at a log time: hold expiries
// and pickup deadlines (expiry.go, by reservation id), pending claims on a
// customer's home (claim.go, by claim key) and provisional holds on an
// item's shard (claimhold.go, by reservation id). Entries are ordered by
// (time, tiebreak), so the order is the same on every replica whatever the
// heap's history. Entries are never removed in the middle: whoever pushes
// one checks, when it surfaces, whether it still names something due (a
// stale entry is dropped), which keeps every change O(log n) and the heap
// free of back-pointers.

// due is one entry: what id names (a reservation id, a claim key) is due
// at at; id breaks ties between entries of one time.
type due[T cmp.Ordered] struct {
	at int64
	id T
}

// dueEntry is the reservations' entry (expiry, finished records).
type dueEntry = due[uint64]

// dueHeap is a binary min-heap of entries ordered by (at, id).
type dueHeap[T cmp.Ordered] []due[T]

func (h dueHeap[T]) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].id < h[j].id
}

func (h *dueHeap[T]) push(e due[T]) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

// pop removes and returns the earliest entry. The heap must not be empty.
func (h *dueHeap[T]) pop() due[T] {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a.less(r, l) {
			m = r
		}
		if !a.less(m, i) {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

// dropStale pops entries from the top while live says they name nothing
// due any more, so that the earliest entry is a live one (or none is left).
func (h *dueHeap[T]) dropStale(live func(due[T]) bool) {
	for len(*h) > 0 && !live((*h)[0]) {
		h.pop()
	}
}

// ordered returns the live entries due at or before until, earliest first,
// at most max. It reads without popping (the heap is replicated state: a
// reader must not change it) and walks the heap's array, which the batch
// start keeps short of stale entries at its top; the caller's heaps hold
// only what became due within a coordination window, so the walk is short.
func (h dueHeap[T]) ordered(until int64, max int, live func(due[T]) bool) []due[T] {
	var out []due[T]
	for _, e := range h {
		if e.at <= until && live(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b due[T]) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out = slices.Compact(out) // an entry pushed twice (an id reused after a rolled-back group) is listed once
	return out[:min(len(out), max)]
}

// fifo is a queue of entries whose times never decrease (log time is
// monotonic), so the oldest is always at the head.
type fifo[T any] struct {
	buf  []T
	head int
}

func (q *fifo[T]) push(e T)  { q.buf = append(q.buf, e) }
func (q *fifo[T]) len() int  { return len(q.buf) - q.head }
func (q *fifo[T]) peek() T   { return q.buf[q.head] }
func (q *fifo[T]) live() []T { return q.buf[q.head:] }

func (q *fifo[T]) pop() T {
	e := q.buf[q.head]
	var zero T
	q.buf[q.head] = zero // drop what it points to
	q.head++
	if q.head >= 1024 && q.head*2 >= len(q.buf) { // compact: amortised O(1), memory stays within 2x
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf = q.buf[:n]
		q.head = 0
	}
	return e
}
