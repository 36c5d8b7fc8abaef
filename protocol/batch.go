package protocol

import (
	"strconv"

	"github.com/invsys/inv/engine"
)

// A BATCH payload is a u16 count (1..MaxBatchOps) and that many entries:
//
//	u8   op code (a domain op; in a reply also ERROR or NOT_LEADER)
//	u8   entry flags: bit 0 linked (requests only), bits 1-7 zero
//	u32  body length
//	...  body: a request payload, a reply payload, an ERROR or NOT_LEADER payload
//
// The reply holds one entry per request entry, in the same order. Each
// entry carries its length so that a reader can check the whole batch's
// framing before it applies anything (ParseBatch): a batch is refused whole
// or served whole, never cut short by a bad entry half way.

// EntryFlags is a batch entry's flag byte.
type EntryFlags uint8

// EntryLinked marks a request entry whose command succeeds or fails together
// with the next one (engine.Command.Linked): the lines of a cart.
const EntryLinked EntryFlags = 0x01

const entryHeaderSize = 1 + 1 + 4

// Entry is one entry of a batch. Body aliases the batch payload.
type Entry struct {
	Op    Op
	Flags EntryFlags
	Body  []byte
}

// Batch iterates over the entries of a batch payload checked by ParseBatch.
type Batch struct {
	n    int
	rest []byte
}

// ParseBatch checks a batch payload's framing (count, entry headers,
// lengths, entry flags) and returns an iterator over its entries. It does
// not decode the bodies and accepts any op code: the caller decides which
// entries it accepts. It allocates nothing.
func ParseBatch(payload []byte) (Batch, error) {
	c := cursor{b: payload}
	n := int(c.u16())
	if c.err != nil {
		return Batch{}, c.err
	}
	if n == 0 {
		return Batch{}, malformed("batch of zero entries")
	}
	if n > MaxBatchOps {
		return Batch{}, tooLarge("batch entries", n, MaxBatchOps)
	}
	if n*entryHeaderSize > len(c.b) {
		return Batch{}, errTruncated
	}
	rest := c.b
	for i := 0; i < n; i++ {
		c.u8()
		if EntryFlags(c.u8())&^EntryLinked != 0 {
			return Batch{}, malformed("reserved entry flag set in batch entry " + strconv.Itoa(i))
		}
		c.take(int(c.u32()))
		if c.err != nil {
			return Batch{}, c.err
		}
	}
	if err := c.end(); err != nil {
		return Batch{}, err
	}
	return Batch{n: n, rest: rest}, nil
}

// Len returns the number of entries not yet returned by Next.
func (b *Batch) Len() int { return b.n }

// Next returns the next entry, or false after the last.
func (b *Batch) Next() (Entry, bool) {
	if b.n == 0 {
		return Entry{}, false
	}
	c := cursor{b: b.rest}
	e := Entry{Op: Op(c.u8()), Flags: EntryFlags(c.u8())}
	e.Body = c.take(int(c.u32()))
	b.rest = c.b
	b.n--
	return e, true
}

// DecodeBatchRequest decodes a BATCH request payload into cmds (reusing its
// capacity) and returns it. Every entry must be a domain op a client may
// send and decode cleanly, or the whole batch is refused: the server answers
// one ERROR and applies nothing. The commands alias payload. With enough
// capacity in cmds it allocates nothing.
func DecodeBatchRequest(payload []byte, cmds []engine.Command) ([]engine.Command, error) {
	b, err := ParseBatch(payload)
	if err != nil {
		return cmds[:0], err
	}
	cmds = cmds[:0]
	for e, ok := b.Next(); ok; e, ok = b.Next() {
		// DecodeRequest overwrites the whole command: reuse a slot
		// without zeroing it first (a Command is ~200 bytes).
		if len(cmds) < cap(cmds) {
			cmds = cmds[:len(cmds)+1]
		} else {
			cmds = append(cmds, engine.Command{})
		}
		cmd := &cmds[len(cmds)-1]
		if err := DecodeRequest(e.Op, e.Body, cmd); err != nil {
			return cmds[:0], err
		}
		cmd.Linked = e.Flags&EntryLinked != 0
	}
	return cmds, nil
}

// BatchWriter appends a BATCH frame entry by entry, in place: the server
// fills a reply as results arrive from the shards, without a second buffer.
// The zero value is ready for Begin.
type BatchWriter struct {
	buf   []byte
	start int // offset of the frame header
	n     int
	reply bool
}

// Begin starts a BATCH frame at the end of dst: a request (reply false) or a reply.
func (w *BatchWriter) Begin(dst []byte, reqID uint32, reply bool) {
	var flags Flags
	if reply {
		flags = FlagReply
	}
	w.buf, w.start = beginFrame(dst, OpBatch, flags, reqID)
	w.buf = appendU16(w.buf, 0) // count, filled by Finish
	w.n = 0
	w.reply = reply
}

// beginEntry appends an entry header with a zero body length and returns
// where the body starts; endEntry fills the length in once the body is
// appended.
func (w *BatchWriter) beginEntry(op Op, flags EntryFlags) int {
	if w.n == MaxBatchOps {
		panic("protocol: batch over MaxBatchOps entries")
	}
	w.n++
	w.buf = append(w.buf, byte(op), byte(flags))
	w.buf = appendU32(w.buf, 0)
	return len(w.buf)
}

func (w *BatchWriter) endEntry(bodyStart int) {
	le.PutUint32(w.buf[bodyStart-4:], uint32(len(w.buf)-bodyStart))
}

// AddRequest appends a request entry; cmd.Linked sets EntryLinked.
func (w *BatchWriter) AddRequest(cmd *engine.Command) {
	if w.reply {
		panic("protocol: request entry in a batch reply")
	}
	var flags EntryFlags
	if cmd.Linked {
		flags = EntryLinked
	}
	s := w.beginEntry(DomainOp(cmd.Op), flags)
	w.buf = appendCommand(w.buf, cmd)
	w.endEntry(s)
}

// AddResult appends the reply entry of a domain op.
func (w *BatchWriter) AddResult(op engine.Op, r *engine.Result) {
	w.mustReply()
	s := w.beginEntry(DomainOp(op), 0)
	w.buf = appendResult(w.buf, r)
	w.endEntry(s)
}

// AddError appends an ERROR entry: this entry was not served (busy, timeout,
// unavailable ...) while others of the batch may have been.
func (w *BatchWriter) AddError(e *ErrorReply) {
	w.mustReply()
	s := w.beginEntry(OpError, 0)
	w.buf = appendErrorReply(w.buf, e)
	w.endEntry(s)
}

// AddNotLeader appends a NOT_LEADER entry: this entry's shard is led elsewhere.
func (w *BatchWriter) AddNotLeader(nl *NotLeader) {
	w.mustReply()
	s := w.beginEntry(OpNotLeader, 0)
	w.buf = appendNotLeader(w.buf, nl)
	w.endEntry(s)
}

func (w *BatchWriter) mustReply() {
	if !w.reply {
		panic("protocol: reply entry in a batch request")
	}
}

// Len returns the number of entries added so far.
func (w *BatchWriter) Len() int { return w.n }

// Finish completes the frame and returns the buffer. At least one entry must
// have been added.
func (w *BatchWriter) Finish() []byte {
	if w.n == 0 {
		panic("protocol: empty batch")
	}
	le.PutUint16(w.buf[w.start+HeaderSize:], uint16(w.n))
	buf := finishFrame(w.buf, w.start)
	w.buf = nil
	return buf
}

// AppendBatchRequest appends a BATCH request frame of cmds (each must pass
// CheckRequest; 1..MaxBatchOps of them).
func AppendBatchRequest(dst []byte, reqID uint32, cmds []engine.Command) []byte {
	var w BatchWriter
	w.Begin(dst, reqID, false)
	for i := range cmds {
		w.AddRequest(&cmds[i])
	}
	return w.Finish()
}

// AppendBatchResult appends a BATCH reply frame: results[i] answers cmds[i].
func AppendBatchResult(dst []byte, reqID uint32, cmds []engine.Command, results []engine.Result) []byte {
	if len(cmds) != len(results) {
		panic("protocol: batch of " + strconv.Itoa(len(cmds)) + " commands and " + strconv.Itoa(len(results)) + " results")
	}
	var w BatchWriter
	w.Begin(dst, reqID, true)
	for i := range results {
		w.AddResult(cmds[i].Op, &results[i])
	}
	return w.Finish()
}

// BatchResult is one decoded entry of a BATCH reply: Op is the entry's op
// code; Result is filled for a domain op, Err for OpError, NotLeader for
// OpNotLeader.
type BatchResult struct {
	Op        Op
	Result    engine.Result
	Err       ErrorReply
	NotLeader NotLeader
}

// DecodeBatchResult decodes a BATCH reply payload into out (reusing its
// capacity) and returns it.
func DecodeBatchResult(payload []byte, out []BatchResult) ([]BatchResult, error) {
	b, err := ParseBatch(payload)
	if err != nil {
		return out[:0], err
	}
	if cap(out) < b.Len() {
		// The framing is checked: exactly this many entries follow. A
		// slice grown by append would keep up to twice their size.
		out = make([]BatchResult, 0, b.Len())
	}
	out = out[:0]
	for e, ok := b.Next(); ok; e, ok = b.Next() {
		if e.Flags != 0 {
			return out[:0], malformed("entry flags set in a batch reply")
		}
		out = append(out, BatchResult{Op: e.Op})
		br := &out[len(out)-1]
		switch {
		case e.Op == OpError:
			err = DecodeErrorReply(e.Body, &br.Err)
		case e.Op == OpNotLeader:
			err = DecodeNotLeader(e.Body, &br.NotLeader)
		default:
			if _, ok := e.Op.Engine(); !ok {
				return out[:0], unknownOp(e.Op)
			}
			err = DecodeResult(e.Body, &br.Result)
		}
		if err != nil {
			return out[:0], err
		}
	}
	return out, nil
}
