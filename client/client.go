package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Client is a connection pool to an inv cluster that routes every call to
// the node leading its shard. It is safe for concurrent use by any number
// of goroutines; one Client per process is the intended use.
type Client struct {
	opts  options
	log   *slog.Logger
	keys  *keySource
	seeds []string

	mu    sync.Mutex
	nodes map[string]*node // by address: every node ever known
	route atomic.Pointer[routing]
	rr    atomic.Uint32

	refreshReq chan struct{} // capacity 1

	closing atomic.Bool     // Close has begun: new calls are refused
	active  atomic.Int64    // calls in progress (Close drains them)
	life    context.Context // ends at shutdown: bounds subscriptions and background dials
	stop    context.CancelFunc
	done    chan struct{}
	doneSet bool // under bgMu: done is closed
	bgMu    sync.Mutex
	bg      sync.WaitGroup
}

// Dial connects to the cluster through the first of addrs that answers
// (host:port of any nodes; one is enough), learns the cluster map from it,
// and returns a Client. Connections to the other nodes open when the first
// call needs them. ctx bounds the dial; it is not kept.
func Dial(ctx context.Context, addrs []string, opts ...Option) (*Client, error) {
	if len(addrs) == 0 {
		return nil, errors.New("inv: Dial needs at least one address")
	}
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	o.normalize()
	c := &Client{opts: o, log: o.logger, keys: newKeySource(), seeds: addrs,
		nodes: make(map[string]*node), refreshReq: make(chan struct{}, 1), done: make(chan struct{})}
	c.life, c.stop = context.WithCancel(context.Background())
	seedNodes := make([]*node, 0, len(addrs))
	for _, a := range addrs {
		seedNodes = append(seedNodes, c.nodeAt(a))
	}
	c.route.Store(&routing{nodes: seedNodes})
	if err := c.refresh(ctx); err != nil {
		c.shutdown()
		return nil, fmt.Errorf("inv: dial %v: %w", addrs, err)
	}
	c.background(c.refreshLoop)
	return c, nil
}

// Close stops the client: calls made from now on fail with
// ErrClientClosed; calls in flight (retries included) may finish, for up
// to the drain timeout (WithDrainTimeout); then every connection closes and
// what is still in flight fails.
func (c *Client) Close() error {
	if !c.closing.CompareAndSwap(false, true) {
		return nil
	}
	deadline := time.Now().Add(c.opts.drainTimeout)
	for c.active.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	left := c.active.Load()
	c.shutdown()
	if left > 0 {
		return fmt.Errorf("inv: close: %d calls still in flight after %s", left, c.opts.drainTimeout)
	}
	return nil
}

// shutdown closes the connections and waits for the background goroutines.
func (c *Client) shutdown() {
	c.bgMu.Lock()
	if !c.doneSet {
		c.doneSet = true
		close(c.done)
		c.stop()
	}
	c.bgMu.Unlock()
	c.mu.Lock()
	nodes := make([]*node, 0, len(c.nodes))
	for _, n := range c.nodes {
		nodes = append(nodes, n)
	}
	c.mu.Unlock()
	for _, n := range nodes {
		n.close()
	}
	c.bg.Wait()
}

func (c *Client) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// background runs f on a goroutine Close waits for, unless Close has
// already stopped the client.
func (c *Client) background(f func()) bool {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.doneSet {
		return false
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		f()
	}()
	return true
}

// enter counts a call in progress, unless the client is closing.
func (c *Client) enter() bool {
	c.active.Add(1)
	if c.closing.Load() {
		c.active.Add(-1)
		return false
	}
	return true
}

func (c *Client) leave() { c.active.Add(-1) }

// nodeAt returns the node at addr, creating it on first mention.
func (c *Client) nodeAt(addr string) *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nodes[addr]
	if !ok {
		n = newNode(c, addr)
		c.nodes[addr] = n
	}
	return n
}

// Shards returns the number of shards of the cluster (0 before the map is known).
func (c *Client) Shards() int { return c.route.Load().shards }

// Ping measures a round trip to a node of the cluster (a quick check that
// it answers), retries included.
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	r := request{kind: kindPing}
	start := time.Now()
	if err := c.exec(ctx, &r); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
