package server

import "time"

// gnet has no socket deadlines, so the server keeps its own: the event loop
// notes when a partial frame began and when pending replies stopped
// draining, and the ticker (OnTick, every tickInterval) cuts connections
// past ReadTimeout, and wakes those past WriteTimeout so that their loop
// looks at the outbound buffer afresh and cuts them if it still has not
// drained (only the loop can read it). It also wakes every connection with
// replies in gnet's buffer or frames paused for the reply budget: gnet
// drains its buffer without telling the server, so only such a wake
// counts what the kernel took, and resumes a paused connection once the
// node has room (replybudget.go).

// notePartial records whether a partial frame waits in the inbound buffer
// (event loop): the clock starts at its first bytes and is not reset by
// more of them, so a trickle cannot hold it forever.
func (c *conn) notePartial(partial bool) {
	switch {
	case !partial:
		c.partialSince.Store(0)
	case c.partialSince.Load() == 0:
		c.partialSince.Store(time.Now().UnixNano())
	}
}

// writeProgress records whether the peer took any of the pending replies
// since the last flush, and reports false once replies have waited past
// WriteTimeout with none taken (event loop). pre is the outbound buffer
// before this flush's write, ob after it.
func (c *conn) writeProgress(pre, ob int) bool {
	drained := pre < c.lastOutbound
	c.lastOutbound = ob
	if ob == 0 {
		c.stallSince.Store(0)
		return true
	}
	now := time.Now().UnixNano()
	since := c.stallSince.Load()
	if since == 0 || drained {
		c.stallSince.Store(now)
		return true
	}
	return time.Duration(now-since) <= c.srv.cfg.WriteTimeout
}

// checkDeadlines enforces the read and write timeouts of one connection,
// and wakes it when the reply budget must look at it afresh (ticker, under
// s.mu).
func (s *Server) checkDeadlines(c *conn, now time.Time) {
	if p := c.partialSince.Load(); p != 0 && now.Sub(time.Unix(0, p)) > s.cfg.ReadTimeout {
		s.log.Info("closing a connection stuck in a partial frame", "conn", c.id, "remote", c.remote)
		_ = c.gc.Close()
		return
	}
	// Past WriteTimeout: OnTraffic → flush → writeProgress decides.
	w := c.stallSince.Load()
	stalled := w != 0 && now.Sub(time.Unix(0, w)) > s.cfg.WriteTimeout
	if stalled || c.readPaused.Load() || c.outbound.Load() > 0 {
		_ = c.gc.Wake(nil)
	}
}
