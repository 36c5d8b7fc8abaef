package raftstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Faults is a fault layer over the raft connections a node dials (fault
// tests only; invd enables it with fault_injection = true). It can cut the
// node off from a set of peers (dials fail, open connections close), delay
// every write, and drop connections at random. Raft's RPCs travel on the
// connections their sender dialed, so cutting A from B on both A and B
// partitions them completely; doing it on one side only is an asymmetric
// fault.
type Faults struct {
	mu      sync.Mutex
	blocked map[string]bool
	delay   time.Duration
	drop    float64 // probability per write that the connection breaks
	conns   map[*faultConn]struct{}
}

// NewFaults returns a fault layer that injects nothing yet.
func NewFaults() *Faults {
	return &Faults{blocked: map[string]bool{}, conns: map[*faultConn]struct{}{}}
}

// errPartitioned is what a dial or write across a partition gets.
var errPartitioned = errors.New("raftstore: fault layer: partitioned")

// Partition cuts this node off from the raft addresses given: new dials
// fail and open connections to them close.
func (f *Faults) Partition(addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range addrs {
		f.blocked[a] = true
	}
	for c := range f.conns {
		if f.blocked[c.peer] {
			_ = c.Conn.Close()
		}
	}
}

// Heal removes every partition, delay and drop.
func (f *Faults) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.blocked)
	f.delay, f.drop = 0, 0
}

// SetDelay delays every write on the node's raft connections by d.
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

// SetDrop makes each write break its connection with probability p.
func (f *Faults) SetDrop(p float64) {
	f.mu.Lock()
	f.drop = p
	f.mu.Unlock()
}

// String describes the faults in force.
func (f *Faults) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var cut []string
	for a := range f.blocked {
		cut = append(cut, a)
	}
	return fmt.Sprintf("partitioned from %v, delay %s, drop %.3f", cut, f.delay, f.drop)
}

// dial wraps a dial to peer.
func (f *Faults) dial(peer string, dial func() (net.Conn, error)) (net.Conn, error) {
	f.mu.Lock()
	blocked := f.blocked[peer]
	f.mu.Unlock()
	if blocked {
		return nil, errPartitioned
	}
	c, err := dial()
	if err != nil {
		return nil, err
	}
	fc := &faultConn{Conn: c, f: f, peer: peer}
	f.mu.Lock()
	f.conns[fc] = struct{}{}
	f.mu.Unlock()
	return fc, nil
}

// faultConn is a dialed raft connection under the fault layer.
type faultConn struct {
	net.Conn
	f    *Faults
	peer string
}

func (c *faultConn) Write(b []byte) (int, error) {
	c.f.mu.Lock()
	blocked, delay, drop := c.f.blocked[c.peer], c.f.delay, c.f.drop
	c.f.mu.Unlock()
	if blocked || (drop > 0 && rand.Float64() < drop) {
		_ = c.Conn.Close()
		return 0, errPartitioned
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	return c.Conn.Write(b)
}

func (c *faultConn) Read(b []byte) (int, error) {
	c.f.mu.Lock()
	blocked := c.f.blocked[c.peer]
	c.f.mu.Unlock()
	if blocked {
		_ = c.Conn.Close()
		return 0, errPartitioned
	}
	return c.Conn.Read(b)
}

func (c *faultConn) Close() error {
	c.f.mu.Lock()
	delete(c.f.conns, c)
	c.f.mu.Unlock()
	return c.Conn.Close()
}
