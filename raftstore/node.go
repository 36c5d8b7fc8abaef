package raftstore

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Node is one inv process's share of the cluster: the Pebble store, the raft
// listener, and one raft group per shard. A single-node deployment is the
// same code with a cluster of one.
type Node struct {
	id     raft.ServerID
	addr   raft.ServerAddress
	store  *Store
	mux    *Mux
	shards []*Shard
	faults *Faults // nil unless fault injection is on
	disk   *diskGuard
	marks  *markFile // what each shard's log is known to hold (marks.go)

	pruneStop chan struct{} // closed to stop the feed pruner
	pruneDone chan struct{} // closed when it has stopped

	closeOnce sync.Once
	closeErr  error
}

// OpenNode opens the store in o.Dir and starts every shard group. A node
// without state bootstraps its shards: with o.Peers if given, else as a
// single-node cluster, unless o.NoBootstrap. A node with state resumes it.
func OpenNode(o Options) (*Node, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", o.BindAddr); err != nil {
			return nil, fmt.Errorf("raftstore: raft listener: %w", err)
		}
	}
	var advertise net.Addr = ln.Addr()
	if o.Advertise != "" {
		advertise = stringAddr(o.Advertise)
	}
	n := &Node{addr: raft.ServerAddress(advertise.String())}
	n.id = raft.ServerID(o.ID)
	if n.id == "" {
		n.id = raft.ServerID(n.addr)
	}
	peers, err := bootstrapServers(&o, n.id, n.addr)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}

	// Before Pebble opens: on a disk without room to open it, Pebble would
	// retry the flush of its recovered log forever.
	if n.disk, err = openDiskGuard(&o); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if n.store, err = Open(filepath.Join(o.Dir, "raft"), o.Store); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if o.Placement != "" {
		if err := n.store.checkPlacement(o.Dir, o.Placement); err != nil {
			_ = n.store.Close()
			_ = ln.Close()
			return nil, err
		}
	}
	n.faults = o.Faults
	n.mux = NewMux(ln, MuxOptions{Advertise: advertise, Logger: o.Logger.With("component", "raft-mux"), Faults: o.Faults, TLS: o.RaftTLS})
	// Only the nodes the placement names bootstrap a shard; the others
	// hold an empty group until a leader adds them.
	placed := make([][]raft.Server, o.Shards)
	for i := range placed {
		placed[i] = placeServers(peers, uint16(i), o.Replicas)
		if !slices.ContainsFunc(placed[i], func(s raft.Server) bool { return s.ID == n.id }) {
			placed[i] = nil
		}
	}
	// Before any raft runs: compare each log with what it acknowledged.
	snaps, lost, err := n.recoverShards(&o, placed)
	if err != nil {
		_ = n.Close()
		return nil, err
	}
	if n.shards, err = openShards(&o, n, placed, snaps, lost); err != nil {
		_ = n.Close() // closes the shards that opened
		return nil, err
	}
	n.pruneStop, n.pruneDone = make(chan struct{}), make(chan struct{})
	go n.pruner(o.FeedPruneInterval, n.pruneStop, n.pruneDone, o.Logger)
	n.disk.start(o.DiskCheckInterval)
	return n, nil
}

// openShards opens the node's shards, up to GOMAXPROCS at a time: each
// restores its newest snapshot on its own goroutine (raft.NewRaft), which
// is most of a restart's time and grows with the items (docs/adr/0123).
// The shards one goroutine opens read their snapshots into the same
// memory, which goes once they are open.
// On an error it returns the shards that opened, in order, with the first
// error by shard id.
func openShards(o *Options, n *Node, placed [][]raft.Server, snaps []*snapshotStore, lost []*ShardLoss) ([]*Shard, error) {
	shards := make([]*Shard, o.Shards)
	errs := make([]error, o.Shards)
	snapSlots := make(chan struct{}, o.SnapshotsAtOnce) // the node's, shared by its shards
	next := atomic.Int32{}
	var wg sync.WaitGroup
	for range min(o.Shards, max(1, runtime.GOMAXPROCS(0))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for {
				i := int(next.Add(1)) - 1
				if i >= o.Shards {
					return
				}
				shards[i], errs[i] = openShard(uint16(i), o, n.store, n.mux, n.id, shardDeps{
					peers: placed[i], snaps: snaps[i], disk: n.disk, marks: n.marks,
					persistMarks: o.clusterMode(), lost: lost[i], restoreBuf: &buf, snapSlots: snapSlots,
				})
			}
		}()
	}
	wg.Wait()
	opened := slices.DeleteFunc(slices.Clone(shards), func(s *Shard) bool { return s == nil })
	for _, err := range errs {
		if err != nil {
			return opened, err
		}
	}
	return shards, nil
}

// bootstrapServers returns the configuration a stateless shard bootstraps
// with, or nil for none.
func bootstrapServers(o *Options, id raft.ServerID, addr raft.ServerAddress) ([]raft.Server, error) {
	if o.NoBootstrap {
		return nil, nil
	}
	if len(o.Peers) == 0 {
		return []raft.Server{{Suffrage: raft.Voter, ID: id, Address: addr}}, nil
	}
	servers := make([]raft.Server, 0, len(o.Peers))
	self := false
	for _, p := range o.Peers {
		if p.ID == "" || p.Addr == "" {
			return nil, fmt.Errorf("raftstore: peer %+v needs an id and an address", p)
		}
		self = self || raft.ServerID(p.ID) == id
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr)})
	}
	if !self {
		return nil, fmt.Errorf("raftstore: peers do not include this node (%s)", id)
	}
	return servers, nil
}

// ID returns the node's raft server id.
func (n *Node) ID() raft.ServerID { return n.id }

// Addr returns the node's raft address (its mux listener).
func (n *Node) Addr() raft.ServerAddress { return n.addr }

// NumShards returns the number of shard groups.
func (n *Node) NumShards() int { return len(n.shards) }

// Shard returns shard id's group, or nil if there is no such shard.
func (n *Node) Shard(id uint16) *Shard {
	if int(id) >= len(n.shards) {
		return nil
	}
	return n.shards[id]
}

// Faults returns the node's fault layer, nil unless Options.Faults was set.
func (n *Node) Faults() *Faults { return n.faults }

// DiskStatus returns the node's disk reserve as last read.
func (n *Node) DiskStatus() DiskStatus { return n.disk.status() }

// Store returns the node's Pebble store.
func (n *Node) Store() *Store { return n.store }

// Close shuts the node down gracefully: proposers first (queued requests
// fail with ErrClosed, requests in flight resolve), then every raft group,
// then the change feeds (their readers and waiters get ErrClosed), then the
// listener and Pebble. Shards close in parallel: each waits on its
// own raft.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close() })
	return n.closeErr
}

// drainTimeout bounds how long Close lets entries in flight resolve before
// it shuts raft down.
const drainTimeout = 5 * time.Second

func (n *Node) close() error {
	eachShard := func(f func(*Shard) error) error {
		errs := make([]error, len(n.shards))
		var wg sync.WaitGroup
		for i, s := range n.shards {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f(s)
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	// Stop taking requests and let what is in flight resolve while raft
	// still runs, for at most drainTimeout: an entry raft does not answer
	// by then (a stalled disk, a group without a quorum) resolves when raft
	// shuts down, as of unknown outcome.
	err := eachShard(func(s *Shard) error { s.prop.closeIntake(); s.prop.waitResolved(drainTimeout); return nil })
	err = errors.Join(err, eachShard((*Shard).shutdownRaft))
	eachShard(func(s *Shard) error { s.prop.waitResolved(0); return nil })
	// Raft has stopped writing the feeds: stop the pruner, then wake every
	// feed reader with ErrClosed, before Pebble closes under them.
	if n.pruneStop != nil {
		close(n.pruneStop)
		<-n.pruneDone
	}
	n.disk.close()
	for _, s := range n.shards {
		s.feed.close()
	}
	if n.mux != nil {
		err = errors.Join(err, n.mux.Close())
	}
	if n.marks != nil {
		err = errors.Join(err, n.marks.close()) // no raft or proposer left to change it
	}
	if n.store != nil {
		err = errors.Join(err, n.store.Close())
	}
	return err
}

// stringAddr is an advertised address given as text.
type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }
