package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/invsys/inv/pages"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
)

// Config configures a Server. Zero fields take the defaults of limits.go.
type Config struct {
	// Listen is the protocol's TCP address (host:port). Default 127.0.0.1:7420.
	Listen string
	// HTTP is the address of the metrics, health and profiling server;
	// empty means none.
	HTTP string
	// Pprof serves Go's profiles under /debug/pprof/ on the HTTP address.
	// Off by default: profiles reveal the process's internals.
	Pprof bool
	// Pages serves the operator console and the store counter on the HTTP
	// address (pages.go): PagesAuto ("", the default) where
	// CheckPagesExposure allows, PagesOn or a refused start, PagesOff never.
	Pages PagesMode
	// PagesBookIdle is how long the pages' book keeps following the
	// shards' change feeds after the last request of their API (the next
	// one starts it again: pages.Keeper, docs/adr/0124). 0:
	// pages.DefaultBookIdle; < 0: it follows from start to stop.
	PagesBookIdle time.Duration
	// HTTPTLSConfig, when set, serves the HTTP address over TLS: what lets
	// the pages listen beyond loopback (with tokens).
	HTTPTLSConfig *tls.Config

	// NodeID is this node's id in TOPOLOGY and HELLO (never 0). Default 1.
	NodeID uint32
	// Advertise is the address clients reach this node at, for TOPOLOGY.
	// Default: the listen address.
	Advertise string
	// Name is the server name HELLO answers with. Default "invd".
	Name string
	// Peers lists every node of a cluster, this one included (cluster.go);
	// empty for a single node. TOPOLOGY and NOT_LEADER name nodes by it.
	Peers []Peer
	// PeersFile, in a cluster, is where the node keeps its peer table
	// across restarts (peers.go); empty: not kept.
	PeersFile string

	// EventLoops is the number of gnet event loops; 0 means one per CPU.
	EventLoops int

	MaxFrameBytes int
	// MaxConnections bounds connections that completed HELLO; past it
	// HELLO is answered busy. MaxUnauthenticated bounds those that have
	// not yet: past it the oldest of them is closed (admission.go).
	MaxConnections     int
	MaxUnauthenticated int
	// MaxConnsPerAddress bounds the connections of one remote IP address;
	// negative: no bound.
	MaxConnsPerAddress int
	MaxInFlight        int // frames per connection
	MaxOutboundBytes   int // per connection; at most MaxReplyBufferBytes
	CompressMinBytes   int
	// MaxReplyBufferBytes is the node-wide budget of bytes held for
	// clients' replies (replybudget.go); past it the connections holding
	// more than their share are not read until they drain.
	MaxReplyBufferBytes int

	// GroupMaxCommands is the most commands the server hands the proposer
	// in one group (a BATCH's share of one shard); it must not exceed the
	// node's raftstore Options.BatchMaxCommands. Default
	// raftstore.DefaultBatchMaxCommands.
	GroupMaxCommands int

	// ClaimWindow, CancelWait and SweepInterval tune the limits across
	// shards (router.Config, docs/adr/0070): how far ahead a limited
	// reserve's deadline lies, how long a cancel's reply waits for its
	// claim's release, and how often a shard's leader sweeps the claims and
	// holds past their deadline and retries failed deliveries. Defaults
	// router.DefaultClaimWindow (5s), DefaultCancelWait (2s),
	// DefaultSweepInterval (1s); ClaimWindow at most engine.MaxClaimWindow.
	ClaimWindow   time.Duration
	CancelWait    time.Duration
	SweepInterval time.Duration
	// CopyWait bounds how long the reply to a block, unblock or set_tier
	// waits for every shard to apply the customer's copy (docs/adr/0072);
	// past it the operator is answered timeout. Default
	// router.DefaultCopyWait (5s).
	CopyWait time.Duration

	// LocalReads serves read-only ops from the leader's state without going
	// through the log: cheaper, but a read right after a leader change may
	// miss the last writes (docs/adr/0033). Default false: reads are
	// linearizable.
	LocalReads bool
	// ReadMode is how reads without the stale flag are served
	// (docs/adr/0033): ReadIndex (default; linearizable, no log entry),
	// ReadLog (linearizable, through the log) or ReadLocal (what
	// LocalReads = true selects).
	ReadMode ReadMode

	// DrainTimeout bounds Shutdown's wait for requests in flight.
	DrainTimeout time.Duration
	// HelloTimeout closes connections that have not said HELLO by then.
	HelloTimeout time.Duration
	// ReadTimeout cuts a connection whose partial frame has not completed
	// by then; WriteTimeout one whose pending replies saw no progress
	// (deadline.go).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration

	// Tokens are the accepted HELLO tokens and their roles (auth.go); nil
	// or empty runs the server open, every connection an operator, which
	// Start allows on a loopback address only. Rotate with SetTokens.
	Tokens *Tokens
	// ClusterToken is the token this node presents to the other nodes of
	// its cluster when it forwards a command to a shard they lead
	// (forward.go). Every node must accept it with the operator role; empty
	// when the cluster runs without tokens.
	ClusterToken string

	// TLSListen, when set, is a second client address served over TLS with
	// TLSConfig (tls.go): the same protocol and handlers, one goroutine per
	// connection, for clients outside the private network.
	TLSListen string
	TLSConfig *tls.Config
	// TLSAdvertise is the TLS address clients reach, for TOPOLOGY answered
	// over TLS. Default: the TLS listener's bound address.
	TLSAdvertise string

	// Pickup attempts allowed per second, and their bursts, per connection
	// and per store (pickuplimit.go).
	PickupRatePerConn   float64
	PickupBurstPerConn  int
	PickupRatePerStore  float64
	PickupBurstPerStore int

	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7420"
	}
	if c.NodeID == 0 {
		c.NodeID = 1
	}
	if c.ReadMode == "" {
		c.ReadMode = ReadIndex
		if c.LocalReads {
			c.ReadMode = ReadLocal
		}
	}
	if err := c.ReadMode.Check(); err != nil {
		return c, err
	}
	if err := c.Pages.Check(); err != nil {
		return c, err
	}
	if c.Pages == "" {
		c.Pages = PagesAuto
	}
	if c.PagesBookIdle == 0 {
		c.PagesBookIdle = pages.DefaultBookIdle
	}
	if c.Name == "" {
		c.Name = "invd"
	}
	def(&c.MaxFrameBytes, DefaultMaxFrameBytes)
	def(&c.MaxConnections, DefaultMaxConnections)
	def(&c.MaxUnauthenticated, DefaultMaxUnauthenticated)
	if c.MaxConnsPerAddress == 0 {
		c.MaxConnsPerAddress = DefaultMaxConnsPerAddress
	}
	def(&c.MaxInFlight, DefaultMaxInFlight)
	def(&c.MaxReplyBufferBytes, DefaultMaxReplyBufferBytes)
	def(&c.MaxOutboundBytes, min(DefaultMaxOutboundBytes, c.MaxReplyBufferBytes))
	def(&c.CompressMinBytes, DefaultCompressMinBytes)
	def(&c.GroupMaxCommands, raftstore.DefaultBatchMaxCommands)
	def(&c.PickupBurstPerConn, DefaultPickupBurstPerConn)
	def(&c.PickupBurstPerStore, DefaultPickupBurstPerStore)
	if c.PickupRatePerConn <= 0 {
		c.PickupRatePerConn = DefaultPickupRatePerConn
	}
	if c.PickupRatePerStore <= 0 {
		c.PickupRatePerStore = DefaultPickupRatePerStore
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = DefaultHelloTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.MaxFrameBytes < protocol.HeaderSize+64 || c.MaxFrameBytes > protocol.MaxFrameBytesLimit:
		return c, fmt.Errorf("server: MaxFrameBytes %d outside %d..%d", c.MaxFrameBytes,
			protocol.HeaderSize+64, protocol.MaxFrameBytesLimit)
	case c.MaxInFlight > 1<<20:
		return c, errors.New("server: MaxInFlight over 1<<20")
	case c.MaxReplyBufferBytes < c.MaxFrameBytes:
		// A budget under one frame would pause a connection for a single
		// large reply.
		return c, fmt.Errorf("server: MaxReplyBufferBytes %d under MaxFrameBytes %d", c.MaxReplyBufferBytes, c.MaxFrameBytes)
	case c.MaxOutboundBytes > c.MaxReplyBufferBytes:
		return c, fmt.Errorf("server: MaxOutboundBytes %d over MaxReplyBufferBytes %d: one connection may not hold more than the node",
			c.MaxOutboundBytes, c.MaxReplyBufferBytes)
	case c.GroupMaxCommands > raftstore.MaxEntryCommands:
		return c, fmt.Errorf("server: GroupMaxCommands %d over %d", c.GroupMaxCommands, raftstore.MaxEntryCommands)
	}
	return c, nil
}

// ReadMode is how a node serves linearizable reads (docs/adr/0033).
type ReadMode string

const (
	// ReadIndex: the leader confirms its leadership with a heartbeat round
	// and waits until it has applied its commit index, then reads its
	// state. Linearizable without a log entry.
	ReadIndex ReadMode = "read_index"
	// ReadLog: reads ride in the log like writes. Linearizable; costs
	// bytes in a raft entry.
	ReadLog ReadMode = "log"
	// ReadLocal: the leader reads its applied state at once. Not
	// linearizable around leadership changes.
	ReadLocal ReadMode = "local"
)

// Check returns an error unless m is a read mode of this version.
func (m ReadMode) Check() error {
	switch m {
	case ReadIndex, ReadLog, ReadLocal:
		return nil
	}
	return fmt.Errorf("server: read mode %q: want read_index, log or local", string(m))
}
