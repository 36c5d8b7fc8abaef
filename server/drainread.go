package server

import (
	"context"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// A graceful stop answers what clients already sent. Requests still in a
// socket's receive queue, or in the connection's buffer, when the server
// closes it would be lost without an answer; worse, closing a socket with
// unread bytes makes the kernel send a reset, and a client reading its
// last replies may then lose them too. So, once the requests in flight are
// answered, Shutdown keeps reading for up to drainReadGrace, answering
// each request unavailable, until every connection's inbound side is
// empty (drainRead), and only then closes.

// drainReadGrace bounds how long Shutdown keeps reading what clients sent
// before the stop. A client that keeps sending after it was told
// unavailable is not waited for past it; one second covers a pipelined
// window of any size this server admits on a loaded machine.
const drainReadGrace = time.Second

// socketFD is the descriptor whose receive queue drainRead watches, or -1
// for a connection of the TLS port, whose reader goroutine empties the
// socket into the connection's buffer (counted in unread) by itself.
func socketFD(gc gnet.Conn) int {
	if _, ok := gc.(*tlsConn); ok {
		return -1
	}
	return gc.Fd()
}

// inboundEmpty reports whether no open connection has bytes unread, in its
// buffer or in its socket's receive queue; it wakes those that have some,
// so their loops read and answer them.
func (s *Server) inboundEmpty() bool {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	empty := true
	for _, c := range conns {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			continue
		}
		if c.unread.Load() > 0 || c.fd > 0 && socketUnread(c.fd) > 0 {
			empty = false
			_ = c.gc.Wake(nil)
		}
	}
	return empty
}

// drainRead waits, at most drainReadGrace (and ctx), until every
// connection's inbound side is empty and every request read is answered.
func (s *Server) drainRead(ctx context.Context) {
	grace, cancel := context.WithTimeout(ctx, drainReadGrace)
	defer cancel()
	s.waitFor(grace, func() bool { return s.inflight.Load() == 0 && s.inboundEmpty() })
}
