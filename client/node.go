package client

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// node is one server of the cluster and the connections to it. A node has
// a fixed number of connection slots; calls spread over them round-robin.
// A slot whose connection broke is redialled on demand: by the first call
// that finds no live connection to the node at all (it waits for the dial),
// or in the background while other slots still serve.
type node struct {
	cl    *Client
	addr  string
	id    atomic.Uint32 // from HELLO; 0 until a connection said it
	slots []slot
	rr    atomic.Uint32
}

type slot struct {
	cur     atomic.Pointer[conn]
	dialing chan struct{} // capacity 1: holding the token means dialing

	mu      sync.Mutex
	failAt  time.Time // last failed dial
	failErr error
}

// redialBackoff is how long a slot answers with its last dial error before
// dialing again: when a node is down, a crowd of calls should not each
// spend a connect attempt on it; the callers back off and retry meanwhile.
const redialBackoff = 50 * time.Millisecond

func newNode(cl *Client, addr string) *node {
	n := &node{cl: cl, addr: addr, slots: make([]slot, cl.opts.connsPerNode)}
	for i := range n.slots {
		n.slots[i].dialing = make(chan struct{}, 1)
	}
	return n
}

func live(c *conn) bool { return c != nil && !c.broken.Load() }

// conn returns a live connection to the node, dialing one if there is none.
func (n *node) conn(ctx context.Context) (*conn, error) {
	i := n.rr.Add(1)
	ns := uint32(len(n.slots))
	s := &n.slots[i%ns]
	if c := s.cur.Load(); live(c) {
		return c, nil
	}
	for j := uint32(1); j < ns; j++ {
		if c := n.slots[(i+j)%ns].cur.Load(); live(c) {
			n.redialInBackground(s)
			return c, nil
		}
	}
	return n.dial(ctx, s)
}

// dial connects slot s, or returns the connection another caller just made.
func (n *node) dial(ctx context.Context, s *slot) (*conn, error) {
	select {
	case s.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.dialing }()
	return n.dialHeld(ctx, s)
}

// dialHeld dials while holding s.dialing.
func (n *node) dialHeld(ctx context.Context, s *slot) (*conn, error) {
	if c := s.cur.Load(); live(c) {
		return c, nil
	}
	s.mu.Lock()
	if !s.failAt.IsZero() && time.Since(s.failAt) < redialBackoff {
		err := s.failErr
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	if n.cl.isDone() {
		return nil, ErrClientClosed
	}
	c, err := dialConn(ctx, n.cl, n)
	if err != nil {
		if ctx.Err() == nil {
			s.mu.Lock()
			s.failAt, s.failErr = time.Now(), err
			s.mu.Unlock()
			n.cl.log.Debug("inv: dial failed", "node", n.addr, "error", err)
			n.cl.requestRefresh()
		}
		return nil, err
	}
	s.mu.Lock()
	s.failAt, s.failErr = time.Time{}, nil
	s.mu.Unlock()
	n.id.Store(c.hello.NodeID)
	s.cur.Store(c)
	if n.cl.isDone() { // Close ran while we dialed: do not leave this one open
		c.close()
		return nil, ErrClientClosed
	}
	n.cl.log.Debug("inv: connected", "node", n.addr, "node_id", c.hello.NodeID, "server", c.hello.Server)
	return c, nil
}

// redialInBackground redials s unless a dial is already under way.
func (n *node) redialInBackground(s *slot) {
	select {
	case s.dialing <- struct{}{}:
	default:
		return
	}
	started := n.cl.background(func() {
		defer func() { <-s.dialing }()
		ctx, cancel := context.WithTimeout(n.cl.life, n.cl.opts.dialTimeout)
		defer cancel()
		_, _ = n.dialHeld(ctx, s)
	})
	if !started {
		<-s.dialing
	}
}

// close closes the node's connections; calls in flight on them fail with
// errConnLost and retry elsewhere (or give up, when the client is closing).
func (n *node) close() {
	for i := range n.slots {
		if c := n.slots[i].cur.Load(); c != nil {
			c.close()
		}
	}
}
