package server

import (
	"errors"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The server's answers at the network edge: frames refused before they are
// served, connections refused or cut by admission (admission.go). Each is
// counted by reason (edgeMetrics) and logged at Warn through a warnLimiter.

// refuseFrame answers a frame the scanner refused (framescan.go) and counts
// it. Over the frame limit the connection is closed: the stream is no
// longer at a frame boundary. A frame with bad flag bits is delimited, so
// the connection goes on. One line is logged per connection.
func (s *Server) refuseFrame(c *conn, f protocol.Frame, err error) gnet.Action {
	reason, act := refusedBadFlags, gnet.None
	if errors.Is(err, protocol.ErrTooLarge) {
		reason, act = refusedTooLarge, gnet.Close
	}
	s.met.edge.framesRefused[reason].Inc()
	c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
	if !c.warned {
		c.warned = true
		if ok, held := s.frameWarns.allow(time.Now()); ok {
			s.log.Warn("refused a frame", "conn", c.id, "remote", c.remote, "reason", frameRefusalNames[reason],
				"op", f.Op.String(), "error", err, "suppressed", held)
		}
	}
	return act
}

// refuseConn counts and logs a connection refused by admission.
func (s *Server) refuseConn(c *conn, reason connRefusal) {
	s.met.edge.connsRefused[reason].Inc()
	if ok, held := s.connWarns.allow(time.Now()); ok {
		s.log.Warn("refused a connection", "remote", c.remote, "reason", connRefusalNames[reason],
			"max_connections", s.cfg.MaxConnections, "max_connections_per_address", s.cfg.MaxConnsPerAddress,
			"suppressed", held)
	}
}

// cutPreHello closes a connection admission has already taken out of the
// pre-HELLO budget: it outlived hello_timeout, or it was the oldest when the
// budget was full. Any goroutine: gnet closes it on its own loop.
func (s *Server) cutPreHello(c *conn, reason preHelloCut) {
	s.met.edge.preHelloCut[reason].Inc()
	if reason == cutEvicted {
		if ok, held := s.connWarns.allow(time.Now()); ok {
			s.log.Warn("closing the oldest connection without HELLO: max_unauthenticated_connections is full",
				"conn", c.id, "remote", c.remote, "max_unauthenticated_connections", s.cfg.MaxUnauthenticated,
				"suppressed", held)
		}
	}
	_ = c.gc.Close()
}

// admitHello counts a connection whose HELLO carries a valid token among
// the authenticated ones, or refuses it: busy past MaxConnections, or
// closed silently when the server already cut it (event loop).
func (s *Server) admitHello(c *conn, reqID uint32) gnet.Action {
	cut, full := s.adm.hello(c, s.cfg.MaxConnections)
	switch {
	case cut:
		return gnet.Close
	case full:
		s.refuseConn(c, refusedMaxConnections)
		c.sendError(reqID, engine.CodeBusy, "too many connections")
		return gnet.Close
	}
	return gnet.None
}
