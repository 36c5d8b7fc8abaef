package client

import (
	"context"
	"errors"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// routing is one immutable view of the cluster map: the shard count, the
// node leading each shard, and every node. Calls read it through an atomic
// pointer; a refresh or a NOT_LEADER hint replaces it whole (copy on write),
// so the hot path takes no lock to route.
type routing struct {
	version uint64
	shards  int       // 0: unknown; every call goes to some node, which forwards or hints
	hashed  bool      // shards are placed by protocol.HashName, so the client can compute them
	leaders []*node   // by shard; nil = no leader known
	holders [][]*node // by shard: its replicas (stale reads go to one of them); empty = unknown
	nodes   []*node   // every node of the map (never empty): where unroutable calls go
}

// nodeFor returns the node to send a call for shard to: its leader, or any
// node (round-robin) when the shard is unknown or has no known leader. A
// shard of -1 (protocol.AllShards) goes to any node, which fans out.
func (r *routing) nodeFor(shard int, rr uint32) *node {
	if shard >= 0 && shard < len(r.leaders) {
		if n := r.leaders[shard]; n != nil {
			return n
		}
	}
	return r.nodes[rr%uint32(len(r.nodes))]
}

// replicaFor returns a node holding a replica of shard (round-robin), for a
// stale read; any node when the replicas are unknown.
func (r *routing) replicaFor(shard int, rr uint32) *node {
	if shard >= 0 && shard < len(r.holders) && len(r.holders[shard]) > 0 {
		h := r.holders[shard]
		return h[rr%uint32(len(h))]
	}
	return r.nodes[rr%uint32(len(r.nodes))]
}

// shardOf returns the shard a command goes to, or protocol.AllShards for
// any node: a command on every shard (a customer's ops, the lists), which
// that node fans out, or an id no shard issued, which it refuses. The
// table is the nodes' own (protocol.RouteOf).
func (r *routing) shardOf(cmd *engine.Command) int {
	if !r.hashed || r.shards == 0 {
		return protocol.AllShards
	}
	if kind, shard := protocol.RouteOf(cmd, r.shards); kind == protocol.RouteShard {
		return shard
	}
	return protocol.AllShards
}

// minRefreshGap spaces topology refreshes: a burst of errors (every call
// on a connection that broke) asks for one refresh, not thousands.
const minRefreshGap = 20 * time.Millisecond

// requestRefresh asks the background loop for a fresh cluster map.
func (c *Client) requestRefresh() {
	select {
	case c.refreshReq <- struct{}{}:
	default:
	}
}

func (c *Client) refreshLoop() {
	var tick <-chan time.Time
	if d := c.opts.topologyRefresh; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	gap := time.NewTimer(minRefreshGap)
	defer gap.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-c.refreshReq:
		case <-tick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.dialTimeout+c.opts.requestTimeout)
		if err := c.refresh(ctx); err != nil {
			c.log.Debug("inv: topology refresh failed", "error", err)
		}
		cancel()
		gap.Reset(minRefreshGap)
		select {
		case <-c.done:
			return
		case <-gap.C:
		}
	}
}

// refresh fetches the cluster map from the first node that answers: the
// nodes of the current map, then the seed addresses.
func (c *Client) refresh(ctx context.Context) error {
	cur := c.route.Load()
	tried := make(map[*node]bool, len(cur.nodes)+len(c.seeds))
	var errs []error
	try := func(n *node) bool {
		if tried[n] {
			return false
		}
		tried[n] = true
		t, err := c.fetchTopology(ctx, n)
		if err != nil {
			errs = append(errs, err)
			return false
		}
		c.completeTopology(ctx, t, n)
		c.applyTopology(t, n)
		return true
	}
	for _, n := range cur.nodes {
		if try(n) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	for _, a := range c.seeds {
		if try(c.nodeAt(a)) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

// completeTopology fills in the shards t (fetched from node from) knows
// nothing of: with a replication factor below the node count, a node
// holds no raft group, and so no leader or replicas, for the shards it
// does not replicate. Each such shard is taken from the first other node
// that reports replicas for it. The version is the highest of the maps used.
func (c *Client) completeTopology(ctx context.Context, t *protocol.Topology, from *node) {
	missing := func() bool {
		for _, s := range t.Shards {
			if len(s.Replicas) == 0 {
				return true
			}
		}
		return false
	}
	if !missing() {
		return
	}
	for _, tn := range t.Nodes {
		if tn.Addr == "" || tn.ID == from.id.Load() || ctx.Err() != nil {
			continue
		}
		other, err := c.fetchTopology(ctx, c.nodeAt(tn.Addr))
		if err != nil || len(other.Shards) != len(t.Shards) {
			continue
		}
		for i := range t.Shards {
			if len(t.Shards[i].Replicas) == 0 && len(other.Shards[i].Replicas) > 0 {
				t.Shards[i] = other.Shards[i]
			}
		}
		t.Version = max(t.Version, other.Version)
		if !missing() {
			return
		}
	}
}

// fetchTopology asks one node for the map, in a single attempt.
func (c *Client) fetchTopology(ctx context.Context, n *node) (*protocol.Topology, error) {
	cn, err := n.conn(ctx)
	if err != nil {
		return nil, err
	}
	k := getCall(kindTopology)
	if !cn.enqueue(k) {
		k.release()
		return nil, errConnLost
	}
	if err := k.wait(ctx, c.opts.requestTimeout); err != nil {
		return nil, err
	}
	defer k.release()
	switch {
	case k.err != nil:
		return nil, k.err
	case k.code != engine.OK:
		return nil, errorWithMessage(k.code, k.msg)
	}
	return k.topo, nil
}

// applyTopology installs a map fetched from node from, unless it is older
// than the one in use.
func (c *Client) applyTopology(t *protocol.Topology, from *node) {
	cur := c.route.Load()
	if cur.shards > 0 && t.Version != 0 && t.Version < cur.version {
		return
	}
	fromID := from.id.Load()
	byID := make(map[uint32]*node, len(t.Nodes))
	nodes := make([]*node, 0, len(t.Nodes))
	for _, tn := range t.Nodes {
		addr := tn.Addr
		// The node we asked is reachable at the address we used, whatever
		// it advertises (a wildcard listen address, a name only resolvable
		// inside its network): prefer what is known to work.
		if tn.ID == fromID {
			addr = from.addr
		}
		if addr == "" {
			continue
		}
		n := c.nodeAt(addr)
		byID[tn.ID] = n
		nodes = append(nodes, n)
	}
	if len(nodes) == 0 {
		nodes = append(nodes, from)
	}
	r := &routing{version: t.Version, shards: len(t.Shards), hashed: t.Hash == protocol.HashName,
		leaders: make([]*node, len(t.Shards)), nodes: nodes}
	r.holders = make([][]*node, len(t.Shards))
	for i := range t.Shards {
		r.leaders[i] = byID[t.Shards[i].Leader]
		for _, id := range t.Shards[i].Replicas {
			if n := byID[id]; n != nil {
				r.holders[i] = append(r.holders[i], n)
			}
		}
	}
	c.route.Store(r)
	if cur.version != r.version || cur.shards != r.shards {
		c.log.Debug("inv: topology", "version", r.version, "shards", r.shards, "nodes", len(r.nodes))
	}
}

// followHint applies a NOT_LEADER hint: the shard's leader is at the
// hinted address. It returns that node, or nil when the hint names none
// (an election is under way), in which case the map is refreshed.
func (c *Client) followHint(nl protocol.NotLeader) *node {
	if nl.LeaderAddr == "" {
		c.requestRefresh()
		return nil
	}
	n := c.nodeAt(nl.LeaderAddr)
	cur := c.route.Load()
	if int(nl.Shard) < len(cur.leaders) && cur.leaders[nl.Shard] != n {
		next := *cur
		next.leaders = append([]*node(nil), cur.leaders...)
		next.leaders[nl.Shard] = n
		c.route.CompareAndSwap(cur, &next)
	}
	return n
}

// Topology asks the cluster for its map, installs it for routing, and
// returns it.
func (c *Client) Topology(ctx context.Context) (Topology, error) {
	r := request{kind: kindTopology}
	if err := c.exec(ctx, &r); err != nil {
		return protocol.Topology{}, err
	}
	return *r.topo, nil
}
