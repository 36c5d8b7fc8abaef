package engine

// The outbox: one exactly-once channel from this shard to each other shard
// (docs/adr/0070). Every asynchronous effect of one shard on another is a
// message appended by Apply, in the same entry as the change that causes
// it, numbered 1, 2, 3 ... per destination. The sending shard's leader
// delivers: it reads the pending messages (Outbox), proposes them on the
// destination as one group of commands (Message.Command: the kind's op with
// FromShard and Seq), then proposes OpDelivered here, which drops them.
//
// The destination keeps, per sending shard, the highest number it applied
// (its inbox mark, replicated and in the snapshot) and applies message n
// only when n == mark+1: n <= mark is a duplicate (answered OK, no effect),
// n > mark+1 a gap (out_of_order: the sender resends from its first
// undelivered message). A crash or a change of leader between delivery and
// trim only delivers again. The kinds are ops (Op.Message); the channel
// does not know what they mean.

// Message is one outbox message: what its destination applies, and what
// caused it (for the deliverer's logs and reads).
type Message struct {
	Seq      uint64 // 1, 2, 3 ... per (this shard, destination)
	Op       Op     // the kind: the op the destination applies (Op.Message)
	Claim    string // release_claim: the claim's key
	Customer string // whose rule it is (the destination is the customer's home)
	ID       uint64 // the reservation that caused it (release_claim, no_show)
	At       int64  // log time it was appended (no_show: the no-show's time, which the home's window counts from)
	To       uint16 // the destination (customer_copy routes by it: protocol.RouteOf)
	Tier     uint8  // customer_copy: the customer's tier
	Block    uint8  // customer_copy: the customer's block (BlockNone, BlockOperator, BlockNoShows)
}

// Command is the command that delivers the message from shard from. Its
// byte fields are copies.
func (m *Message) Command(from uint16) Command {
	c := Command{Op: m.Op, FromShard: from, Seq: m.Seq}
	if m.Claim != "" {
		c.Claim = []byte(m.Claim)
	}
	if m.Customer != "" {
		c.Customer = []byte(m.Customer) // it routes release_claim and no_show to the customer's home (protocol.RouteOf)
	}
	switch m.Op {
	case OpCustomerCopy:
		c.Tier, c.Qty, c.ToShard = m.Tier, int64(m.Block), m.To
	case OpNoShow:
		c.ID, c.Deadline = m.ID, m.At
	}
	return c
}

// outbox is the shard's messages out and the marks of messages in, by shard.
type outbox struct {
	to       []outQueue // by destination shard
	marks    []uint64   // by sending shard: the highest message number applied from it
	appended uint64     // messages appended (OutboxAppended): not state
}

// outQueue is one destination's undelivered messages, numbered
// last-len(msgs)+1 .. last.
type outQueue struct {
	last uint64
	msgs []Message
}

func (o *outbox) init(cfg *Config) {
	if cfg.Shards > 1 {
		o.to = make([]outQueue, cfg.Shards)
		o.marks = make([]uint64, cfg.Shards)
	}
}

// delivered is the number of the last message the destination applied.
func (q *outQueue) delivered() uint64 { return q.last - uint64(len(q.msgs)) }

// send appends a message for shard to.
func (s *state) send(to uint16, m Message) {
	if int(to) >= len(s.out.to) || to == s.cfg.ShardID {
		panic("engine: outbox message to shard " + itoa(int64(to)) + " from shard " + itoa(int64(s.cfg.ShardID)))
	}
	q := &s.out.to[to]
	s.j.outbox(to, q)
	q.last++
	m.Seq, m.To = q.last, to
	q.msgs = append(q.msgs, m)
	s.out.appended++
	s.sent = MessageRef{To: to, Seq: m.Seq}
}

// MessageRef names one outbox message: its destination and number. A
// command whose effect on another shard went into the outbox (the cancel
// or return of a claimed reservation) carries it in its Result (Sent), so
// that whoever answers the command may wait until the message arrived.
type MessageRef struct {
	To  uint16
	Seq uint64
}

// OutboxAppended counts the messages appended since the engine was made
// or restored (a failed linked group's count too): a hint, not state,
// whose change tells the shard's leader to deliver (docs/adr/0070).
func (e *Engine) OutboxAppended() uint64 { return e.st.out.appended }

// receive checks a delivered message against the inbox mark of its sender:
// done reports that the command must not run (a duplicate, a gap, or not a
// message at all) and r is its answer.
func (s *state) receive(c *Command) (r Result, done bool) {
	if !c.Op.Message() || int(c.FromShard) >= len(s.out.marks) || c.FromShard == s.cfg.ShardID {
		return s.refuse(CodeBadRequest), true
	}
	mark := &s.out.marks[c.FromShard]
	switch {
	case c.Seq <= *mark:
		return Result{}, true // applied before
	case c.Seq > *mark+1:
		return s.refuse(CodeOutOfOrder), true
	}
	*mark = c.Seq // taken even if the message turns out malformed: it must not block the ones after it
	return Result{}, false
}

// deliveredOp drops the messages to ToShard up to Seq: the destination
// applied them. Qty says how many went; an older Seq is done already.
func (s *state) deliveredOp(c *Command) Result {
	if int(c.ToShard) >= len(s.out.to) || c.ToShard == s.cfg.ShardID || c.Seq == 0 {
		return s.refuse(CodeBadRequest)
	}
	q := &s.out.to[c.ToShard]
	if c.Seq > q.last {
		return s.refuse(CodeBadRequest) // never sent
	}
	if c.Seq <= q.delivered() {
		return Result{}
	}
	n := int(c.Seq - q.delivered())
	clear(q.msgs[:n])
	q.msgs = q.msgs[n:]
	if len(q.msgs) == 0 {
		q.msgs = nil // the array goes; a new one grows with the next message
	}
	return Result{Qty: int64(n)}
}

// Outbox returns up to max undelivered messages to shard to, oldest first.
func (e *Engine) Outbox(to uint16, max int) []Message {
	if int(to) >= len(e.st.out.to) {
		return nil
	}
	q := &e.st.out.to[to]
	return append([]Message(nil), q.msgs[:min(max, len(q.msgs))]...)
}

// OutboxQueue is one destination's place in the outbox.
type OutboxQueue struct {
	To        uint16
	Delivered uint64 // the last message the destination applied (as far as this shard knows)
	Last      uint64 // the last message appended
}

// OutboxPending returns the destinations with undelivered messages, by shard.
func (e *Engine) OutboxPending() []OutboxQueue {
	var out []OutboxQueue
	for i := range e.st.out.to {
		if q := &e.st.out.to[i]; len(q.msgs) > 0 {
			out = append(out, OutboxQueue{To: uint16(i), Delivered: q.delivered(), Last: q.last})
		}
	}
	return out
}

// InboxMark returns the number of the last message applied from shard from.
func (e *Engine) InboxMark(from uint16) uint64 {
	if int(from) >= len(e.st.out.marks) {
		return 0
	}
	return e.st.out.marks[from]
}
