package engine

// journal records how to undo the changes of a linked group, so that a group
// that fails part-way leaves nothing behind. It is on only while a linked
// group runs; elsewhere every record call is a cheap no-op.
//
// Records hold pointers into slabs (stable) and old values; undo runs them
// backwards. The due heaps and the finished queue are not journaled: their
// entries are checked against the reservation when popped, so a stale entry
// is harmless. Idempotency keys are stored only after a group is decided.
// The claim index and the outbox are (claimhold.go, outbox.go): a group
// that cancels a claimed hold and then fails sends no release. So are the
// items a group marked freed (waitlist.go): a group that fails freed
// nothing, and its marks must not promote a line's head.
type journal struct {
	on      bool
	entries []undo
	events  int
	freed   int // len(state.wait.freed) at begin
	seq     uint64
	stats   Stats
}

type undoKind uint8

const (
	undoItem undoKind = iota + 1
	undoExt
	undoWindow
	undoCustomer
	undoNewCustomer
	undoI32
	undoRes
	undoNewRes
	undoPIN
	undoOutbox
	undoHoldKey
	undoFn
)

type undo struct {
	kind   undoKind
	name   string // undoHoldKey: the claim key
	slot   uint32
	had    bool // undoPIN: the code had an entry
	key    uint64
	val    uint64
	p32    *int32
	old32  int32
	it     *item
	oldIt  item
	ext    *itemExt
	oldExt itemExt
	win    *window
	oldWin window
	cust   *customer
	oldC   customer
	res    *reservation
	oldR   reservation
	fn     func() // undoFn: restores what a table of its own changed (marks.go)
}

func (j *journal) item(it *item) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoItem, it: it, oldIt: *it})
		if it.ext != nil {
			j.entries = append(j.entries, undo{kind: undoExt, ext: it.ext, oldExt: *it.ext})
		}
	}
}

func (j *journal) window(w *window) {
	if j.on && w != nil {
		j.entries = append(j.entries, undo{kind: undoWindow, win: w, oldWin: *w})
	}
}

func (j *journal) customer(c *customer) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoCustomer, cust: c, oldC: *c})
	}
}

func (j *journal) newCustomer(slot uint32) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoNewCustomer, slot: slot})
	}
}

func (j *journal) i32(p *int32) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoI32, p32: p, old32: *p})
	}
}

func (j *journal) res(r *reservation) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoRes, res: r, oldR: *r})
	}
}

func (j *journal) newRes(seq uint64) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoNewRes, key: seq})
	}
}

func (j *journal) pin(code uint64, old uint64, had bool) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoPIN, key: code, val: old, had: had})
	}
}

// outbox records a destination's queue before an append: its last number
// and length.
func (j *journal) outbox(to uint16, q *outQueue) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoOutbox, slot: uint32(to), key: q.last, val: uint64(len(q.msgs))})
	}
}

// holdKey records a claim key's entry in the claim index before a change.
func (j *journal) holdKey(key string, old uint64, had bool) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoHoldKey, name: key, val: old, had: had})
	}
}

// fn records how to undo a change to state that keeps its own tables
// (the marks' maps): the closure restores what the change replaced. Call
// it only while j.on: building a closure that captures anything allocates
// it, journaling or not, and these run on every reserve.
func (j *journal) fn(undoIt func()) {
	if j.on {
		j.entries = append(j.entries, undo{kind: undoFn, fn: undoIt})
	}
}

// begin starts journaling a linked group.
func (s *state) begin() {
	s.j.on = true
	s.j.entries = s.j.entries[:0]
	s.j.events = len(s.events)
	s.j.freed = len(s.wait.freed)
	s.j.seq = s.seq
	s.j.stats = s.stats
}

// commit keeps the group's changes.
func (s *state) commit() {
	s.j.on = false
	clear(s.j.entries) // drop pointers so slabs' old copies are not pinned
	s.j.entries = s.j.entries[:0]
}

// rollback undoes every change since begin, newest first.
func (s *state) rollback() {
	s.j.on = false
	for i := len(s.j.entries) - 1; i >= 0; i-- {
		u := &s.j.entries[i]
		switch u.kind {
		case undoItem:
			*u.it = u.oldIt
		case undoExt:
			*u.ext = u.oldExt
		case undoWindow:
			*u.win = u.oldWin
		case undoCustomer:
			*u.cust = u.oldC
		case undoNewCustomer:
			c := s.customers.at(u.slot)
			s.custByName.del(c.id, u.slot)
			*c = customer{}
			s.customers.n-- // undone newest first: this was the last slot handed out
		case undoI32:
			*u.p32 = u.old32
		case undoRes:
			*u.res = u.oldR
		case undoNewRes:
			s.res.remove(u.key)
		case undoOutbox:
			q := &s.out.to[u.slot]
			clear(q.msgs[u.val:])
			q.last, q.msgs = u.key, q.msgs[:u.val]
		case undoHoldKey:
			if u.had {
				s.holds.byKey[u.name] = u.val
			} else {
				delete(s.holds.byKey, u.name)
			}
		case undoFn:
			u.fn()
		case undoPIN:
			if u.had {
				s.pins.put(u.key, u.val)
			} else {
				s.pins.del(u.key)
			}
		}
	}
	s.events = s.events[:s.j.events]
	s.wait.freed = s.wait.freed[:s.j.freed]
	s.seq = s.j.seq
	s.stats = s.j.stats
	clear(s.j.entries)
	s.j.entries = s.j.entries[:0]
}
