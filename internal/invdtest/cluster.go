package invdtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ClusterOptions of a cluster of invd processes on loopback.
type ClusterOptions struct {
	Bin    string
	Dir    string // each node's data goes to Dir/node-<id>
	Nodes  int    // default 3
	Shards int    // 0: invd's default
	// Config is extra config text shared by every node (engine rules, log
	// level, raft timing). The cluster adds node_id, raft_bind, peers and a
	// shared pickup_secret.
	Config string
	// Failpoints gives every node a failpoint endpoint (Cluster.Failpoint);
	// Bin must be built with the failpoints tag.
	Failpoints bool
}

// Cluster is a set of invd processes forming one cluster. Node i (0-based)
// has node id i+1. A killed node's slot keeps its options so that it can be
// restarted on the same data and ports.
type Cluster struct {
	mu    sync.Mutex
	opts  []Options
	procs []*Proc // nil while a node is down
	// Clients lists every node's protocol address, for client seeds.
	Clients []string
	// Rafts lists every node's raft address.
	Rafts []string

	bin, dir, shared string // for Join: the binary, the data root, the shared config
	shards           int
	peers            []string // id=raft=client of the nodes started together
}

// clusterSecret is the pickup secret every test cluster node shares.
const clusterSecret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// StartCluster starts o.Nodes processes at once (each waits for every shard
// to elect a leader before it opens its port, which needs a majority).
func StartCluster(o ClusterOptions) (*Cluster, error) {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	c := &Cluster{opts: make([]Options, o.Nodes), procs: make([]*Proc, o.Nodes),
		bin: o.Bin, dir: o.Dir, shared: o.Config, shards: o.Shards}
	raft := make([]string, o.Nodes)
	var peers []string
	for i := range o.Nodes {
		c.opts[i] = Options{Bin: o.Bin, Data: filepath.Join(o.Dir, fmt.Sprintf("node-%d", i+1)),
			Shards: o.Shards, Addr: FreeAddr(), HTTP: FreeAddr()}
		if o.Failpoints {
			c.opts[i].FailpointHTTP = FreeAddr()
		}
		raft[i] = FreeAddr()
		c.Rafts = append(c.Rafts, raft[i])
		c.Clients = append(c.Clients, c.opts[i].Addr)
		peers = append(peers, fmt.Sprintf("%d=%s=%s", i+1, raft[i], c.opts[i].Addr))
	}
	c.peers = peers
	for i := range o.Nodes {
		c.opts[i].Config = fmt.Sprintf("%s\nnode_id = %d\nraft_bind = %s\npeers = %s\npickup_secret = %s\n",
			o.Config, i+1, raft[i], strings.Join(peers, ","), clusterSecret)
		if err := os.MkdirAll(filepath.Dir(c.opts[i].Data), 0o755); err != nil {
			return nil, err
		}
	}
	all := make([]int, o.Nodes)
	for i := range all {
		all[i] = i
	}
	if err := c.Start(all...); err != nil {
		c.KillAll()
		return nil, err
	}
	return c, nil
}

// Size is the number of nodes.
func (c *Cluster) Size() int { return len(c.opts) }

// Proc returns node i's process, nil while it is down.
func (c *Cluster) Proc(i int) *Proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i]
}

// Start starts the given nodes (down ones) in parallel and waits until each
// serves.
func (c *Cluster) Start(nodes ...int) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for k, i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.mu.Lock()
			o := c.opts[i]
			c.mu.Unlock()
			p, err := Start(o)
			if err != nil {
				errs[k] = fmt.Errorf("node %d: %w", i+1, err)
				return
			}
			c.mu.Lock()
			c.procs[i] = p
			c.mu.Unlock()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Launch starts down node i without waiting for it to serve (Proc(i).
// WaitServing waits): a node whose shards can only elect a leader once
// other nodes are back.
func (c *Cluster) Launch(i int) error {
	c.mu.Lock()
	o := c.opts[i]
	c.mu.Unlock()
	p, err := Launch(o)
	if err != nil {
		return fmt.Errorf("node %d: %w", i+1, err)
	}
	c.mu.Lock()
	c.procs[i] = p
	c.mu.Unlock()
	return nil
}

// DataDir is node i's data folder.
func (c *Cluster) DataDir(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts[i].Data
}

// Kill sends SIGKILL to node i and waits for it to be gone.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	p := c.procs[i]
	c.procs[i] = nil
	c.mu.Unlock()
	if p != nil {
		p.Kill()
	}
}

// Failpoint arms points of a failpoint spec on running node i (see
// Proc.Failpoint) and returns its armed points with their hits.
func (c *Cluster) Failpoint(i int, spec string) (string, error) {
	p := c.Proc(i)
	if p == nil {
		return "", fmt.Errorf("node %d is down", i+1)
	}
	return p.Failpoint(spec)
}

// StartFailpoints sets the failpoint spec node i is started with from now
// on (INV_FAILPOINTS; "" for none).
func (c *Cluster) StartFailpoints(i int, spec string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts[i].Failpoints = spec
}

// WaitExit waits up to timeout for node i to end by itself (a failpoint's
// crash), marks it down and returns its exit code and its last logs.
func (c *Cluster) WaitExit(i int, timeout time.Duration) (code int, logs string, err error) {
	p := c.Proc(i)
	if p == nil {
		return 0, "", fmt.Errorf("node %d is down", i+1)
	}
	if code, err = p.Wait(timeout); err != nil {
		return 0, p.Logs(), fmt.Errorf("node %d: %w", i+1, err)
	}
	c.mu.Lock()
	c.procs[i] = nil
	c.mu.Unlock()
	return code, p.Logs(), nil
}

// KillAll kills every running node.
func (c *Cluster) KillAll() {
	for i := range c.opts {
		c.Kill(i)
	}
}

// StopAll stops every running node gracefully; it returns the logs of
// nodes that reported a data race.
func (c *Cluster) StopAll(timeout time.Duration) (races []string) {
	for i := range c.opts {
		c.mu.Lock()
		p := c.procs[i]
		c.procs[i] = nil
		c.mu.Unlock()
		if p == nil {
			continue
		}
		_ = p.Stop(timeout)
		if p.DataRace() {
			races = append(races, p.Logs())
		}
	}
	return races
}

// Logs returns every running node's log tail.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for i := range c.opts {
		if p := c.Proc(i); p != nil {
			fmt.Fprintf(&b, "=== node %d\n%s\n", i+1, p.Logs())
		}
	}
	return b.String()
}

// ShardHash is one node's /debug/shardhash answer.
type ShardHash struct {
	Shard   int    `json:"shard"`
	Node    uint32 `json:"node"`
	Leader  bool   `json:"leader"`
	Member  bool   `json:"member"` // false: the node does not replicate the shard
	Applied uint64 `json:"applied"`
	Hash    string `json:"hash"`
}

// ShardHashes asks node i for every shard's applied index and state hash.
func (c *Cluster) ShardHashes(i int) ([]ShardHash, error) {
	p := c.Proc(i)
	if p == nil {
		return nil, fmt.Errorf("node %d is down", i+1)
	}
	code, body, err := p.HTTPGet("/debug/shardhash")
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("node %d: /debug/shardhash: %d %s", i+1, code, body)
	}
	var hs []ShardHash
	return hs, json.Unmarshal([]byte(body), &hs)
}

// Leader returns the node (0-based) that leads shard as reported by the
// nodes themselves, or -1.
func (c *Cluster) Leader(shard int) int {
	for i := range c.opts {
		hs, err := c.ShardHashes(i)
		if err == nil && shard < len(hs) && hs[shard].Leader {
			return i
		}
	}
	return -1
}

// LeaderCounts returns how many shards each running node leads.
func (c *Cluster) LeaderCounts() []int {
	n := make([]int, len(c.opts))
	for i := range c.opts {
		hs, err := c.ShardHashes(i)
		if err != nil {
			continue
		}
		for _, h := range hs {
			if h.Leader {
				n[i]++
			}
		}
	}
	return n
}

// WaitConverged waits until every running node that replicates a shard
// reports, for every shard, the same applied index and the same state hash, and returns the number
// of shards compared; or an error describing the difference at timeout.
func (c *Cluster) WaitConverged(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	var report string
	for {
		var views [][]ShardHash
		report = ""
		ok := true
		for i := range c.opts {
			if c.Proc(i) == nil {
				continue
			}
			hs, err := c.ShardHashes(i)
			if err != nil {
				ok = false
				report = err.Error()
				break
			}
			views = append(views, hs)
		}
		if ok && len(views) > 0 {
			for s := range views[0] {
				// Only the nodes that replicate the shard hold its state.
				var first *ShardHash
				for _, v := range views {
					if s >= len(v) {
						ok = false
						report += fmt.Sprintf("\n  shard %d: missing from a node", s)
						continue
					}
					if !v[s].Member {
						continue
					}
					if first == nil {
						first = &v[s]
						continue
					}
					if v[s].Applied != first.Applied || v[s].Hash != first.Hash {
						ok = false
						report += fmt.Sprintf("\n  shard %d: node %d applied %d hash %.12s; node %d applied %d hash %.12s",
							s, first.Node, first.Applied, first.Hash, v[s].Node, v[s].Applied, v[s].Hash)
					}
				}
				if first == nil {
					ok = false
					report += fmt.Sprintf("\n  shard %d: no running node replicates it", s)
				}
			}
			if ok {
				return len(views[0]), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("replicas did not converge within %s:%s", timeout, report)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Partition cuts the nodes of group off from every other node, in both
// directions, through each node's raft fault layer (/debug/faults; the
// nodes need fault_injection = true). Client ports stay reachable.
func (c *Cluster) Partition(group ...int) error {
	in := map[int]bool{}
	for _, i := range group {
		in[i] = true
	}
	var inside, outside []string
	for i, a := range c.Rafts {
		if in[i] {
			inside = append(inside, a)
		} else {
			outside = append(outside, a)
		}
	}
	var errs []error
	for i := range c.opts {
		cut := inside
		if in[i] {
			cut = outside
		}
		errs = append(errs, c.faults(i, "partition="+strings.Join(cut, ",")))
	}
	return errors.Join(errs...)
}

// Heal removes every fault on every running node.
func (c *Cluster) Heal() error {
	var errs []error
	for i := range c.opts {
		errs = append(errs, c.faults(i, "heal=1"))
	}
	return errors.Join(errs...)
}

// Faults sends a /debug/faults query to node i (a no-op if it is down).
func (c *Cluster) faults(i int, query string) error {
	p := c.Proc(i)
	if p == nil {
		return nil
	}
	code, body, err := p.HTTPGet("/debug/faults?" + query)
	if err != nil {
		return err
	}
	if code != 200 {
		return fmt.Errorf("node %d: /debug/faults?%s: %d %s", i+1, query, code, body)
	}
	return nil
}

// Faults sends a raw /debug/faults query (delay=20ms, drop=0.01, heal=1 ...)
// to node i.
func (c *Cluster) Faults(i int, query string) error { return c.faults(i, query) }
