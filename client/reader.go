package client

import (
	"errors"
	"strconv"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The reader side of a connection: one goroutine reads frames (many per
// read syscall, through protocol.Reader's buffer), finds the call or BATCH
// each answers by request id, decodes the answer into the call and
// finishes it. Replies come in any order: shards complete independently.

func (c *conn) readLoop(rd *protocol.Reader) {
	for {
		f, err := rd.Next()
		if err != nil {
			c.fail(err)
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		if !f.Reply() {
			c.fail(errorWithMessage(engine.CodeProtocol, "a frame without the reply flag from the server"))
			return
		}
		if f.ReqID == 0 {
			// An answer to no request: the server refuses the connection
			// (too many connections, shutting down) or could not read a
			// frame header of ours. Either way this connection is done.
			c.fail(frameError(f))
			return
		}
		c.mu.Lock()
		p, ok := c.pending[f.ReqID]
		if ok {
			delete(c.pending, f.ReqID)
			c.inflight--
		}
		c.mu.Unlock()
		if !ok {
			// A frame for a request we do not have in flight: the server and
			// this client disagree about the stream. Nothing read from it
			// can be trusted any more.
			c.fail(errorWithMessage(engine.CodeProtocol, "a reply to request "+
				strconv.FormatUint(uint64(f.ReqID), 10)+", which is not in flight"))
			return
		}
		select {
		case c.room <- struct{}{}:
		default:
		}
		if p.b != nil {
			c.deliverBatch(p.b, f)
			c.putRec(p.b)
			continue
		}
		deliver(p.c, f)
	}
}

// frameError returns the error an ERROR frame (or any unexpected frame) stands for.
func frameError(f protocol.Frame) error {
	if f.Op != protocol.OpError {
		return errorWithMessage(engine.CodeProtocol, "unexpected "+f.Op.String()+" frame")
	}
	var e protocol.ErrorReply
	if err := protocol.DecodeErrorReply(f.Payload, &e); err != nil {
		return err
	}
	return errorWithMessage(e.Code, e.Message)
}

// deliver decodes the answer to a call that had a frame of its own.
func deliver(k *call, f protocol.Frame) {
	var err error
	switch f.Op {
	case protocol.OpError:
		var e protocol.ErrorReply
		if err = protocol.DecodeErrorReply(f.Payload, &e); err == nil {
			k.code, k.msg = e.Code, e.Message
		}
	case protocol.OpNotLeader:
		if err = protocol.DecodeNotLeader(f.Payload, &k.hint); err == nil {
			k.code = engine.CodeNotLeader
		}
	case protocol.OpTopology:
		if k.kind != kindTopology {
			err = errUnexpected(f.Op)
			break
		}
		k.topo = new(protocol.Topology)
		err = protocol.DecodeTopology(f.Payload, k.topo)
	case protocol.OpSnapshot:
		if k.kind != kindSnapshot {
			err = errUnexpected(f.Op)
			break
		}
		k.snap = new(protocol.SnapshotReply)
		err = protocol.DecodeSnapshotReply(f.Payload, k.snap)
	case protocol.OpStatus:
		if k.kind != kindStatus {
			err = errUnexpected(f.Op)
			break
		}
		k.status = new(protocol.StatusReply)
		err = protocol.DecodeStatusReply(f.Payload, k.status)
	case protocol.OpAdmin:
		if k.kind != kindAdmin {
			err = errUnexpected(f.Op)
			break
		}
		k.adminR = new(protocol.AdminReply)
		err = protocol.DecodeAdminReply(f.Payload, k.adminR)
	case protocol.OpPing:
		var nonce uint64
		if nonce, err = protocol.DecodePing(f.Payload); err == nil && (k.kind != kindPing || nonce != k.nonce) {
			err = errUnexpected(f.Op)
		}
	default:
		if k.kind != kindOp && k.kind != kindSolo || f.Op != protocol.DomainOp(k.cmd.Op) {
			err = errUnexpected(f.Op)
			break
		}
		err = protocol.DecodeResult(f.Payload, &k.res)
	}
	if err != nil {
		k.err = protocolError(err)
	}
	k.finish()
}

// deliverBatch hands each call of a BATCH its entries of the reply.
func (c *conn) deliverBatch(b *batchRec, f protocol.Frame) {
	var err error
	switch f.Op {
	case protocol.OpBatch:
		c.brs, err = protocol.DecodeBatchResult(f.Payload, c.brs[:0])
		if err == nil && len(c.brs) != b.entries {
			err = errors.New("BATCH reply of " + strconv.Itoa(len(c.brs)) + " entries to " +
				strconv.Itoa(b.entries) + " requests")
		}
	case protocol.OpError, protocol.OpNotLeader:
		// The whole batch was refused (busy, malformed ...): every call
		// gets the answer.
		for _, k := range b.calls {
			deliver(k, f)
		}
		return
	default:
		err = errUnexpected(f.Op)
	}
	if err != nil {
		perr := protocolError(err)
		for _, k := range b.calls {
			k.fail(perr)
		}
		return
	}
	at := 0
	for _, k := range b.calls {
		if k.kind == kindCart {
			n := len(k.cmds)
			takeCart(k, c.brs[at:at+n])
			at += n
		} else {
			takeEntry(k, &c.brs[at])
			at++
		}
		k.finish()
	}
	clear(c.brs) // drop references to read data the calls now own
}

// takeEntry copies one BATCH entry's answer into a call.
func takeEntry(k *call, br *protocol.BatchResult) {
	switch br.Op {
	case protocol.OpError:
		k.code, k.msg = br.Err.Code, br.Err.Message
	case protocol.OpNotLeader:
		k.code, k.hint = engine.CodeNotLeader, br.NotLeader
	default:
		if br.Op != protocol.DomainOp(k.cmd.Op) {
			k.err = protocolError(errUnexpected(br.Op))
			return
		}
		k.res = br.Result
	}
}

// takeCart copies a chain's entries into a cart call. An entry the server
// did not serve (ERROR, NOT_LEADER) makes the whole chain unserved: a chain
// is applied whole or not at all.
func takeCart(k *call, brs []protocol.BatchResult) {
	k.results = k.results[:0]
	for i := range brs {
		br := &brs[i]
		switch br.Op {
		case protocol.OpError:
			if k.code == engine.OK {
				k.code, k.msg = br.Err.Code, br.Err.Message
			}
		case protocol.OpNotLeader:
			if k.code == engine.OK {
				k.code, k.hint = engine.CodeNotLeader, br.NotLeader
			}
		}
		k.results = append(k.results, br.Result)
	}
}

func errUnexpected(op protocol.Op) error {
	return errors.New("unexpected " + op.String() + " answer")
}

// protocolError wraps a reply this client could not make sense of.
func protocolError(err error) error {
	var se *ServerError
	if errors.As(err, &se) {
		return err
	}
	return &ServerError{Code: engine.CodeProtocol, Message: "bad reply: " + err.Error()}
}
