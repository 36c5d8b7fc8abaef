package server

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Admission: which connections the server keeps. A connection passes two
// gates, each a refusal at once rather than a queue:
//
//   - at open, the per-address bound (MaxConnsPerAddress): one remote
//     address cannot take the whole port. It then joins the pre-HELLO
//     connections, a budget of its own (MaxUnauthenticated): when that is
//     full the OLDEST pre-HELLO connection is closed to make room. A client
//     that says HELLO within a round trip has long left the pre-HELLO list
//     when an attacker's silent sockets push out the oldest, so silent
//     sockets only ever displace each other (docs/adr/0057).
//   - at HELLO, with a valid token, MaxConnections: it counts only
//     connections that completed HELLO, so sockets that never authenticate
//     cannot lock out a client that does.
//
// Pre-HELLO connections are kept in open order in a list, so that the
// ticker's hello_timeout sweep and the eviction both take from its front
// without looking at any other connection.

// connStage is where a connection is in admission (guarded by admission.mu).
type connStage uint8

const (
	stageNone     connStage = iota // not admitted: refused at open
	stagePreHello                  // admitted, in the pre-HELLO list
	stageHello                     // completed HELLO, counted in MaxConnections
	stageCut                       // closed by the server before HELLO: closing, counted nowhere
)

// admission holds the counts the gates check, shared by every event loop,
// the TLS listener's connections and the ticker.
type admission struct {
	mu         sync.Mutex
	perAddr    map[netip.Addr]int
	head, tail *conn // pre-HELLO connections, oldest first (conn.preNext, conn.prePrev)
	npre       int
	nhello     int
}

// addrKey is the remote address a connection counts against: the IP, an
// IPv4-mapped IPv6 address as the IPv4 one. Invalid (no limit) for a peer
// that is not TCP.
func addrKey(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// open admits c as a pre-HELLO connection, unless its address already holds
// perAddr connections (perAddr <= 0: no bound). When the pre-HELLO budget
// (maxPre) is then exceeded it returns the oldest pre-HELLO connection,
// already removed from the budget, for the caller to close.
func (a *admission) open(c *conn, perAddr, maxPre int) (victim *conn, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.addr.IsValid() {
		if perAddr > 0 && a.perAddr[c.addr] >= perAddr {
			return nil, false
		}
		if a.perAddr == nil {
			a.perAddr = make(map[netip.Addr]int)
		}
		a.perAddr[c.addr]++
	}
	c.openAt = time.Now() // under mu: the list stays in openAt order across event loops
	a.push(c)
	c.stage = stagePreHello
	a.npre++
	if a.npre > maxPre {
		victim = a.head
		a.cut(victim)
	}
	return victim, true
}

// hello moves c from the pre-HELLO budget to the authenticated connections.
// cut reports that c was closed by the server before (hello_timeout, or
// evicted) and is going; full that maxConns connections have completed
// HELLO already.
func (a *admission) hello(c *conn, maxConns int) (cut, full bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case c.stage != stagePreHello:
		return true, false
	case a.nhello >= maxConns:
		return false, true
	}
	a.unlink(c)
	a.npre--
	c.stage = stageHello
	a.nhello++
	return false, false
}

// close forgets c (OnClose).
func (a *admission) close(c *conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.addr.IsValid() && c.stage != stageNone {
		if n := a.perAddr[c.addr] - 1; n > 0 {
			a.perAddr[c.addr] = n
		} else {
			delete(a.perAddr, c.addr)
		}
	}
	switch c.stage {
	case stagePreHello:
		a.unlink(c)
		a.npre--
	case stageHello:
		a.nhello--
	}
	c.stage = stageNone
}

// expired removes the pre-HELLO connections opened before cutoff from the
// budget and appends them to dst, for the caller to close (ticker).
func (a *admission) expired(dst []*conn, cutoff time.Time) []*conn {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.head != nil && a.head.openAt.Before(cutoff) {
		c := a.head
		a.cut(c)
		dst = append(dst, c)
	}
	return dst
}

// cut takes a pre-HELLO connection out of the budget: the server is
// closing it (under mu).
func (a *admission) cut(c *conn) {
	a.unlink(c)
	a.npre--
	c.stage = stageCut
}

func (a *admission) push(c *conn) {
	c.prePrev, c.preNext = a.tail, nil
	if a.tail != nil {
		a.tail.preNext = c
	} else {
		a.head = c
	}
	a.tail = c
}

func (a *admission) unlink(c *conn) {
	if c.prePrev != nil {
		c.prePrev.preNext = c.preNext
	} else {
		a.head = c.preNext
	}
	if c.preNext != nil {
		c.preNext.prePrev = c.prePrev
	} else {
		a.tail = c.prePrev
	}
	c.prePrev, c.preNext = nil, nil
}

func (a *admission) preHello() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.npre
}

func (a *admission) authenticated() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nhello
}
