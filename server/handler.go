package server

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// OnOpen admits a connection as one that has not said HELLO yet
// (admission.go), or answers busy (its address holds too many) or
// unavailable (shutting down) and closes it.
func (s *Server) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	if s.draining.Load() {
		s.met.edge.connsRefused[refusedShuttingDown].Inc()
		return protocol.AppendError(nil, 0, &protocol.ErrorReply{Code: engine.CodeUnavailable,
			Message: "the server is shutting down"}), gnet.Close
	}
	c := &conn{srv: s, gc: gc, id: s.connSeq.Add(1), maxFrameOut: protocol.DefaultMaxFrameBytes, fd: socketFD(gc)}
	if a := gc.RemoteAddr(); a != nil {
		c.remote = a.String()
		c.addr = addrKey(a)
	}
	victim, ok := s.adm.open(c, s.cfg.MaxConnsPerAddress, s.cfg.MaxUnauthenticated)
	if !ok {
		s.refuseConn(c, refusedPerAddress)
		return protocol.AppendError(nil, 0, &protocol.ErrorReply{Code: engine.CodeBusy,
			Message: "too many connections from this address"}), gnet.Close
	}
	if victim != nil {
		s.cutPreHello(victim, cutEvicted)
	}
	s.nconns.Add(1)
	gc.SetContext(c)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	return nil, gnet.None
}

// OnClose drops the connection's state. Requests still in flight finish
// and their replies are discarded.
func (s *Server) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None // refused in OnOpen
	}
	c.lock()
	c.closed = true
	c.out = nil
	c.dropHeld() // replybudget.go
	c.unlock(true)
	for _, sub := range c.subs {
		close(sub.stop)
	}
	c.subs = nil
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.adm.close(c)
	s.nconns.Add(-1)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("connection closed", "conn", c.id, "remote", c.remote, "error", err)
	}
	return gnet.None
}

// OnTraffic serves every whole frame that has arrived, then writes every
// reply gathered since the last flush. Proposers wake it (conn.unlock) when
// replies are waiting, so it also runs with nothing new to read. A
// connection over its share of the node's reply budget is not read
// (replybudget.go); its frames wait in the inbound buffer.
func (s *Server) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	act := s.readFrames(c)
	why := c.flush()
	if why == cutNone {
		why = s.afterRead(c)
	}
	if why != cutNone {
		s.cutSlowConsumer(c, why)
		return gnet.Close
	}
	return act
}

// readFrames serves the whole frames in the inbound buffer in place:
// payloads alias gnet's buffer, and every proposal copies what it keeps
// before the buffer is discarded. A partial frame stays buffered for the
// next read (drainInbound, framescan.go).
func (s *Server) readFrames(c *conn) gnet.Action {
	if s.holdReading(c) { // paused for the reply budget: not even a Peek, which may copy (replybudget.go)
		return gnet.None
	}
	now := time.Now() // one clock read per read: every frame of it arrived together
	act := gnet.None
	hold := func() bool { return s.holdReading(c) } // over its share of the reply budget
	d := drainInbound(c.gc, s.cfg.MaxFrameBytes, hold, func(f protocol.Frame, err error) bool {
		if err != nil {
			act = s.refuseFrame(c, f, err)
		} else {
			act = s.serveFrame(c, f, now)
		}
		return act != gnet.None
	})
	s.met.wire.bytesIn.Add(d.consumed)
	if d.stopped {
		return act
	}
	c.notePartial(d.partial) // frames held back for the reply budget are not late: they are not being read
	return gnet.None
}

// serveFrame serves one frame (event loop): HELLO first, then each op by
// its row of frameOps (frames.go).
func (s *Server) serveFrame(c *conn, f protocol.Frame, now time.Time) gnet.Action {
	if f.Reply() {
		c.sendError(f.ReqID, engine.CodeProtocol, "a request with the reply flag set")
		return gnet.None
	}
	if !c.hello.Load() {
		if f.Op != protocol.OpHello {
			c.sendError(f.ReqID, engine.CodeNoHello, "the first frame must be HELLO")
			return gnet.Close
		}
		return s.serveHello(c, f)
	}
	if comp := f.Compression(); comp != protocol.CompressionNone {
		if comp != c.comp {
			c.sendError(f.ReqID, engine.CodeProtocol, "compression "+comp.String()+" was not negotiated")
			return gnet.None
		}
		var err error
		if f, c.scratch, err = protocol.DecompressFrame(c.scratch, f, s.cfg.MaxFrameBytes); err != nil {
			c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
			return gnet.None
		}
	}
	if f.Flags.Stale() && !staleAllowed(f.Op) {
		c.sendError(f.ReqID, engine.CodeProtocol, "the stale flag is for reads: "+f.Op.String()+" is not one")
		return gnet.None
	}
	s.noteFrame(c, f) // the reply reservation admit takes (replybudget.go)
	op := frameOpOf(f.Op)
	switch {
	case op == nil:
		c.sendError(f.ReqID, engine.CodeUnknownOp, "unknown op code 0x"+strconv.FormatUint(uint64(f.Op), 16))
		return gnet.None
	case op.control && !c.grant.allowsControl(f.Op):
		c.sendError(f.ReqID, engine.CodeUnauthorized, "the "+c.grant.Role.String()+" role may not "+op.denied)
		return gnet.None
	case op.noPayload && len(f.Payload) != 0:
		c.sendError(f.ReqID, engine.CodeProtocol, f.Op.String()+" takes no payload")
		return gnet.None
	case op.admit && !s.admit(c, f.ReqID):
		return gnet.None
	}
	return op.serve(s, c, f, now) // frames.go
}

// staleAllowed reports whether a frame of op may carry the stale flag: a
// read-only domain op, or a BATCH (whose read-only groups it applies to).
func staleAllowed(op protocol.Op) bool {
	if op == protocol.OpBatch {
		return true
	}
	eop, ok := op.Engine()
	return ok && eop.ReadOnly()
}

// admit counts a request in flight, or answers it busy (over the
// connection's MaxInFlight) or unavailable (draining).
func (s *Server) admit(c *conn, reqID uint32) bool {
	if int(c.inflight.Load()) >= s.cfg.MaxInFlight {
		c.sendError(reqID, engine.CodeBusy, "too many requests in flight on this connection")
		return false
	}
	c.inflight.Add(1)
	s.inflight.Add(1)
	c.reserveAdmitted()
	// Checked after counting, so that Shutdown, which sets draining and then
	// waits for the count to reach zero, never misses a request.
	if s.draining.Load() {
		s.unadmit(c)
		c.sendError(reqID, engine.CodeUnavailable, "the server is shutting down")
		return false
	}
	return true
}

func (s *Server) unadmit(c *conn) {
	c.unreserveAdmitted()
	c.inflight.Add(-1)
	s.inflight.Add(-1)
}

// serveOp decodes and routes one domain request (event loop).
func (s *Server) serveOp(c *conn, f protocol.Frame, op engine.Op, now time.Time) {
	cmd := &c.cmd
	if err := protocol.DecodeRequest(f.Op, f.Payload, cmd); err != nil {
		s.unadmit(c)
		c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
		return
	}
	if !s.authorize(c, f.ReqID, cmd) || !s.pickupAllowed(c, f.ReqID, cmd) {
		s.unadmit(c)
		return
	}
	s.router.Serve(cmd, f.Flags.Stale(), newCall(c, f.ReqID, op, now).done)
}

// serveHello answers HELLO: the version both speak, the compression both
// accept (S2 first: it is the cheaper), and the limits of this server.
func (s *Server) serveHello(c *conn, f protocol.Frame) gnet.Action {
	if f.Compression() != protocol.CompressionNone {
		c.sendError(f.ReqID, engine.CodeProtocol, "HELLO is never compressed")
		return gnet.Close
	}
	var h protocol.Hello
	if err := protocol.DecodeHello(f.Payload, &h); err != nil {
		c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
		return gnet.Close
	}
	if h.Version < 1 {
		c.sendError(f.ReqID, engine.CodeProtocol, "no protocol version in common (this server speaks 1)")
		return gnet.Close
	}
	grant, tokenHash := s.grantFor(h.Token)
	if grant == nil {
		s.log.Info("refused a token", "conn", c.id, "remote", c.remote, "client", h.Client)
		c.sendError(f.ReqID, engine.CodeUnauthorized, "missing or unknown token")
		return gnet.Close
	}
	if act := s.admitHello(c, f.ReqID); act != gnet.None {
		return act
	}
	c.grant = grant
	c.actor = []byte(actorOf(grant, tokenHash))
	c.node = s.isNodeToken(grant, tokenHash)
	c.hideCodes.Store(!grant.seesPickupCodes())
	if tokenHash != "" {
		c.tokenHash.Store(&tokenHash)
	}
	comp := protocol.CompressionNone
	switch {
	case h.Accept.Has(protocol.CompressionS2):
		comp = protocol.CompressionS2
	case h.Accept.Has(protocol.CompressionZstd):
		comp = protocol.CompressionZstd
	}
	maxOut := int(h.MaxFrame)
	if maxOut == 0 {
		maxOut = protocol.DefaultMaxFrameBytes
	}
	maxOut = min(max(maxOut, 256), protocol.MaxFrameBytesLimit)
	reply := protocol.HelloReply{
		Version:     min(h.Version, protocol.ProtocolVersion),
		Compression: comp,
		NodeID:      s.cfg.NodeID,
		Server:      s.cfg.Name,
		Limits: protocol.Limits{
			MaxFrame:    uint32(s.cfg.MaxFrameBytes),
			MaxBatchOps: MaxBatchOps,
			MaxInFlight: uint32(s.cfg.MaxInFlight),
			MaxIDBytes:  protocol.MaxIDBytes,
			MaxKeyBytes: protocol.MaxKeyBytes,
		},
	}
	if comp != protocol.CompressionNone {
		reply.Limits.CompressMinBytes = uint32(s.cfg.CompressMinBytes)
	}
	c.lock()
	c.comp, c.compMin, c.maxFrameOut = comp, s.cfg.CompressMinBytes, maxOut
	c.out = protocol.AppendHelloReply(c.out, f.ReqID, &reply)
	c.unlock(true)
	c.hello.Store(true)
	s.log.Debug("hello", "conn", c.id, "remote", c.remote, "client", h.Client, "compression", comp.String(),
		"role", grant.Role.String())
	return gnet.None
}

// topology describes the shard map: in a cluster, every configured node
// (clusterTopology, cluster.go); alone, this node, which leads and holds
// every shard. Version is the sum of the shards' raft terms, which grows
// whenever any shard elects a leader.
func (s *Server) topology() protocol.Topology {
	if s.clustered() {
		return s.clusterTopology()
	}
	t := protocol.Topology{
		Hash:   protocol.HashName,
		Nodes:  []protocol.Node{{ID: s.cfg.NodeID, Addr: s.advertiseAddr()}},
		Shards: make([]protocol.ShardPlacement, len(s.shards)),
	}
	self := []uint32{s.cfg.NodeID}
	for i, sh := range s.shards {
		t.Version += sh.Term()
		p := &t.Shards[i]
		p.Replicas = self
		if sh.IsLeader() {
			p.Leader = s.cfg.NodeID
		}
	}
	return t
}

// gnetLogger sends gnet's own messages to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(format string, args ...any) { g.l.Debug(fmt.Sprintf(format, args...)) }
func (g gnetLogger) Infof(format string, args ...any)  { g.l.Info(fmt.Sprintf(format, args...)) }
func (g gnetLogger) Warnf(format string, args ...any)  { g.l.Warn(fmt.Sprintf(format, args...)) }
func (g gnetLogger) Errorf(format string, args ...any) { g.l.Error(fmt.Sprintf(format, args...)) }
func (g gnetLogger) Fatalf(format string, args ...any) {
	g.l.Error("fatal: " + fmt.Sprintf(format, args...))
}

// advertiseAddr is this node's client address, once the listener is bound.
func (s *Server) advertiseAddr() string {
	if a := s.advertise.Load(); a != nil {
		return *a
	}
	return s.cfg.Listen
}
