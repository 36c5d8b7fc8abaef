package server

import (
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// frameOp is how a frame of one op is served once its connection has said
// HELLO (serveFrame, handler.go): the checks every such frame passes, in
// this order, and then its handler.
type frameOp struct {
	// control: the connection's role must allow the op (Grant.allowsControl);
	// denied says what the role may not do, in the unauthorized refusal.
	control bool
	denied  string
	// noPayload: a frame of the op carries no payload.
	noPayload bool
	// admit: the frame counts as a request in flight from here on (busy
	// over the connection's limit, unavailable while draining); its
	// handler, or the reply, ends the count.
	admit bool
	serve func(s *Server, c *conn, f protocol.Frame, now time.Time) gnet.Action
}

// frameOps are the control ops, by op code; an op without a handler is
// unknown. Domain ops (0x11 and up) are domainOp.
var frameOps = [...]frameOp{
	protocol.OpHello: {serve: func(_ *Server, c *conn, f protocol.Frame, _ time.Time) gnet.Action {
		c.sendError(f.ReqID, engine.CodeProtocol, "a second HELLO")
		return gnet.Close
	}},
	protocol.OpPing:     {serve: (*Server).servePing},
	protocol.OpTopology: {noPayload: true, serve: (*Server).serveTopology},
	protocol.OpSubscribe: {control: true, denied: "subscribe",
		serve: func(s *Server, c *conn, f protocol.Frame, _ time.Time) gnet.Action {
			s.serveSubscribe(c, f)
			return gnet.None
		}},
	protocol.OpSnapshot: {control: true, denied: "snapshot", noPayload: true, admit: true,
		serve: func(s *Server, c *conn, f protocol.Frame, _ time.Time) gnet.Action {
			s.serveSnapshot(c, f.ReqID) // replies from its own goroutine (snapshot.go)
			return gnet.None
		}},
	protocol.OpStatus: {control: true, denied: "ask for STATUS", noPayload: true,
		serve: func(s *Server, c *conn, f protocol.Frame, _ time.Time) gnet.Action {
			s.serveStatus(c, f.ReqID) // status.go
			return gnet.None
		}},
	protocol.OpAdmin: {control: true, denied: "change the cluster", admit: true,
		serve: func(s *Server, c *conn, f protocol.Frame, _ time.Time) gnet.Action {
			s.serveAdmin(c, f) // replies from its own goroutine (admin.go)
			return gnet.None
		}},
	protocol.OpShardCall: {control: true, denied: "forward", admit: true,
		serve: func(s *Server, c *conn, f protocol.Frame, now time.Time) gnet.Action {
			s.serveShardCall(c, f, now) // forward.go
			return gnet.None
		}},
	protocol.OpBatch: {admit: true, serve: func(s *Server, c *conn, f protocol.Frame, now time.Time) gnet.Action {
		if !s.serveBatch(c, f, now) {
			s.unadmit(c)
		}
		return gnet.None
	}},
}

// domainOp serves every domain op (serveOp).
var domainOp = frameOp{admit: true, serve: func(s *Server, c *conn, f protocol.Frame, now time.Time) gnet.Action {
	op, _ := f.Op.Engine()
	s.serveOp(c, f, op, now)
	return gnet.None
}}

// frameOpOf returns how frames of op are served, or nil for an op this
// server does not know (or a reply's op sent as a request).
func frameOpOf(op protocol.Op) *frameOp {
	if int(op) < len(frameOps) && frameOps[op].serve != nil {
		return &frameOps[op]
	}
	if _, ok := op.Engine(); ok {
		return &domainOp
	}
	return nil
}

// servePing answers PING with its nonce (event loop).
func (s *Server) servePing(c *conn, f protocol.Frame, _ time.Time) gnet.Action {
	nonce, err := protocol.DecodePing(f.Payload)
	if err != nil {
		c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
		return gnet.None
	}
	c.lock()
	c.out = protocol.AppendPing(c.out, f.ReqID, nonce, true)
	c.unlock(true)
	return gnet.None
}

// serveTopology answers TOPOLOGY with the shard map (event loop).
func (s *Server) serveTopology(c *conn, f protocol.Frame, _ time.Time) gnet.Action {
	t := s.topology()
	s.tlsTopology(c, &t)
	c.lock()
	start := len(c.out)
	c.out = protocol.AppendTopology(c.out, f.ReqID, &t)
	c.finishFrame(start, f.ReqID)
	c.unlock(true)
	return gnet.None
}
