package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
	"github.com/invsys/inv/router"
)

// Server serves the protocol for the shards of one raftstore.Node.
type Server struct {
	gnet.BuiltinEventEngine

	cfg    Config
	node   *raftstore.Node
	shards []*raftstore.Shard
	router *router.Router // between a decoded command and its shards
	log    *slog.Logger
	met    *serverMetrics

	addr      string                 // the protocol's bound address
	advertise atomic.Pointer[string] // the client address in TOPOLOGY, known once bound
	started   time.Time              // when Start began serving (STATUS's uptime)

	// The protocol port (listener.go): its listener and accept loop, and
	// gnet's event loops, which serve the connections it accepts.
	ln             net.Listener
	cli            *gnet.Client
	reserve        *os.File      // spare descriptor, spent to shed a connection when out of them (accept loop)
	stopAccept     chan struct{} // closed by Shutdown: the accept loop stops waiting
	acceptDone     chan struct{} // closed when the accept loop returned
	enrollWG       sync.WaitGroup
	lastAcceptFail atomic.Int64 // Unix nanoseconds of the last failed accept; 0: none
	lastAcceptErr  atomic.Pointer[string]
	lastTick       atomic.Int64 // Unix nanoseconds of the last OnTick: the event loops run
	acceptWarns    warnLimiter

	adm        admission // which connections are kept (admission.go)
	frameWarns warnLimiter
	connWarns  warnLimiter
	sweep      []*conn // OnTick's scratch: connections past hello_timeout

	nconns   atomic.Int64
	inflight atomic.Int64 // frames in flight on every connection
	budget   replyBudget  // bytes held for every connection's peer (replybudget.go)
	connSeq  atomic.Uint64
	draining atomic.Bool
	subsMu   sync.Mutex    // orders subscriptions starting against Shutdown's wait
	stopping chan struct{} // closed by Shutdown: subscriptions end
	subsWG   sync.WaitGroup

	mu    sync.Mutex
	conns map[*conn]struct{}

	httpSrv *http.Server
	httpLn  net.Listener

	peers  *peerTable // the cluster's nodes (peers.go); nil for a single node
	tokens *Tokens    // never nil (auth.go)
	// clusterTokenHash is HashToken(ClusterToken), "" without one: a HELLO
	// with it is another node's (auth.go).
	clusterTokenHash string
	pickupStores     storeBuckets
	tlsLn            net.Listener   // the TLS client listener (tls.go), or nil
	fwd              *forwarder     // the router's wire to other nodes' shards (forward.go); nil alone
	bgWG             sync.WaitGroup // background loops (the router's claim releases), ended by stopping

	// pickupCallers are the pickup buckets of the pages' callers (by
	// token), as each protocol connection has its own (pages.go).
	pickupCallers storeBuckets
	pagesOn       atomic.Bool // the HTTP address serves the pages (set by Start; read by SetTokens on SIGHUP)
}

// New returns a server for node's shards. SUBSCRIBE streams each shard's
// durable change feed (raftstore), kept under the node's feed retention.
func New(node *raftstore.Node, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	n := node.NumShards()
	if n < 1 || n > protocol.MaxShards {
		return nil, fmt.Errorf("server: node has %d shards", n)
	}
	s := &Server{
		cfg: cfg, node: node, log: cfg.Logger.With("component", "server"),
		stopping: make(chan struct{}), stopAccept: make(chan struct{}),
		conns: make(map[*conn]struct{}), tokens: cfg.Tokens,
	}
	if s.tokens == nil {
		s.tokens = NewTokens(nil)
	}
	if cfg.ClusterToken != "" {
		s.clusterTokenHash = HashToken(cfg.ClusterToken)
	}
	s.budget.limit = int64(cfg.MaxReplyBufferBytes)
	if len(cfg.Peers) > 0 {
		if s.peers, err = openPeerTable(cfg.PeersFile, cfg.Peers); err != nil {
			return nil, err
		}
	}
	for i := range n {
		sh := node.Shard(uint16(i))
		s.shards = append(s.shards, sh)
	}
	// The metrics first: they read the router only when scraped, and
	// observe its coordinations once it exists.
	s.met = newServerMetrics(s)
	if s.router, err = s.newRouter(); err != nil {
		return nil, err
	}
	for i, sh := range s.shards {
		sh.SetOutboxHook(func() { s.router.OutboxChanged(i) }) // an apply appended messages: deliver them
	}
	s.router.SetObserver(s.met.stages)
	return s, nil
}

// newRouter gives the router this node's shards, and in a cluster the
// forwarder and the peer table.
func (s *Server) newRouter() (*router.Router, error) {
	rc := router.Config{Shards: make([]router.Shard, len(s.shards)), GroupMaxCommands: s.cfg.GroupMaxCommands,
		Logger: s.log, ClaimWindow: s.cfg.ClaimWindow, CancelWait: s.cfg.CancelWait, CopyWait: s.cfg.CopyWait,
		SweepInterval: s.cfg.SweepInterval}
	for i, sh := range s.shards {
		rc.Shards[i] = sh
	}
	switch s.cfg.ReadMode {
	case ReadLog:
		rc.ReadMode = router.ReadLog
	case ReadLocal:
		rc.ReadMode = router.ReadLocal
	default:
		rc.ReadMode = router.ReadIndex
	}
	if len(s.cfg.Peers) > 0 {
		s.fwd = newForwarder(s.cfg.ClusterToken, s.log)
		rc.Forwarder, rc.Peers = s.fwd, clusterPeers{s}
	}
	return router.New(rc)
}

// Start binds the protocol and HTTP addresses and starts serving. It returns
// once the event loops accept connections.
func (s *Server) Start() error {
	if err := CheckExposure(s.cfg.Listen, s.tokens); err != nil {
		return err
	}
	opts := []gnet.Option{
		gnet.WithMulticore(true),
		gnet.WithTicker(true),
		gnet.WithLogger(gnetLogger{s.cfg.Logger.With("component", "gnet")}), // not s.log: one component key
	}
	if s.cfg.EventLoops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(s.cfg.EventLoops))
	}
	s.started = time.Now() // before any event loop runs: they read it unlocked
	if err := s.listen(opts); err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Listen, err)
	}
	s.addr = s.ln.Addr().String()
	adv := s.cfg.Advertise
	if adv == "" {
		adv = s.addr
	}
	s.advertise.Store(&adv)
	if s.cfg.TLSListen != "" {
		if err := s.startTLS(); err != nil {
			_ = s.stopProtocol()
			return err
		}
	}
	if s.cfg.HTTP != "" {
		if err := s.startHTTP(); err != nil {
			s.stopTLS()
			_ = s.stopProtocol()
			return err
		}
	}
	if len(s.shards) > 1 {
		s.bgWG.Add(1)
		go func() {
			defer s.bgWG.Done()
			s.router.Run(s.stopping) // outbox deliveries and the sweeps of claims (docs/adr/0070)
		}()
	}
	s.log.Info("serving", "addr", s.addr, "http", s.HTTPAddr(), "shards", len(s.shards),
		"local_reads", s.cfg.LocalReads)
	return nil
}

// Addr returns the protocol's bound address (host:port).
func (s *Server) Addr() string { return s.addr }

// HTTPAddr returns the HTTP server's bound address, or "".
func (s *Server) HTTPAddr() string {
	if s.httpLn == nil {
		return ""
	}
	return s.httpLn.Addr().String()
}

// stopProtocol closes the protocol listener and then gnet's event loops,
// which close every connection they hold.
func (s *Server) stopProtocol() error {
	s.closeListener()
	return s.cli.Stop()
}

// Shutdown stops the server gracefully: it refuses new connections and
// requests (unavailable), waits up to DrainTimeout (or ctx) for requests in
// flight to be answered and their replies written, ends subscriptions, and
// closes every connection. The node is the caller's to close afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.draining.CompareAndSwap(false, true) {
		return errors.New("server: already shut down")
	}
	start := time.Now()
	drainCtx, cancel := context.WithTimeout(ctx, s.cfg.DrainTimeout)
	defer cancel()
	// A wait that lasts says what it waits for: a stop must not look hung.
	s.waitSaying(drainCtx, func() bool { return s.inflight.Load() == 0 }, func() {
		s.log.Info("stopping: waiting for requests in flight", "requests", s.inflight.Load(), "up_to", s.cfg.DrainTimeout)
	})
	if n := s.inflight.Load(); n > 0 {
		s.log.Warn("shutdown: requests still in flight", "requests", n)
	}
	s.drainRead(drainCtx) // what clients sent before the stop is answered, not reset (drainread.go)
	close(s.stopping)
	s.subsMu.Lock() // no subscription starts after this: serveSubscribe checks draining under subsMu
	s.subsMu.Unlock()
	s.subsWG.Wait()
	s.bgWG.Wait()
	s.flushAll(drainCtx)
	if n := s.nconns.Load(); n > 0 {
		s.log.Info("stopping: closing client connections", "connections", n)
	}
	err := s.stopProtocol()
	s.stopTLS()
	if s.fwd != nil {
		s.fwd.close()
	}
	if s.httpSrv != nil {
		err = errors.Join(err, s.httpSrv.Shutdown(ctx))
	}
	s.log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
	return err
}

// flushAll wakes every connection and waits until their gathered replies
// have been handed to the socket.
func (s *Server) flushAll(ctx context.Context) {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.gc.Wake(nil)
	}
	s.waitSaying(ctx, func() bool {
		for _, c := range conns {
			c.mu.Lock()
			pending := len(c.out) > 0 && !c.closed
			c.mu.Unlock()
			if pending {
				return false
			}
		}
		return true
	}, func() { s.log.Info("stopping: waiting for replies to be written to slow clients") })
}

// slowWait is how long a wait of Shutdown runs before it says what it
// waits for.
const slowWait = 100 * time.Millisecond

// waitSaying is waitFor that calls say once if done is still false after
// slowWait.
func (s *Server) waitSaying(ctx context.Context, done func() bool, say func()) {
	if done() {
		return
	}
	slow, cancel := context.WithTimeout(ctx, slowWait)
	s.waitFor(slow, done)
	cancel()
	if done() || ctx.Err() != nil {
		return
	}
	say()
	s.waitFor(ctx, done)
}

func (s *Server) waitFor(ctx context.Context, done func() bool) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Ready reports whether every shard this node replicates has a leader
// (this node, in a cluster of one), which is when requests can be served.
func (s *Server) Ready() bool {
	for _, sh := range s.shards {
		if s.clustered() && !sh.IsMember() {
			continue
		}
		if addr, _ := sh.Leader(); addr == "" {
			return false
		}
	}
	return true
}

// OnTick cuts connections that never said HELLO (admission.go), enforces
// the read and write deadlines (deadline.go), wakes the connections whose
// reply bytes it must count afresh (replybudget.go), and samples metrics. It
// runs on a goroutine of its own, not on an event loop.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	s.budget.sample(s.log)
	now := time.Now()
	s.lastTick.Store(now.UnixNano())
	s.met.sample(s)
	s.sweep = s.adm.expired(s.sweep[:0], now.Add(-s.cfg.HelloTimeout))
	for _, c := range s.sweep {
		s.cutPreHello(c, cutHelloTimeout)
	}
	clear(s.sweep)
	s.mu.Lock()
	for c := range s.conns {
		s.checkDeadlines(c, now)
	}
	s.mu.Unlock()
	return tickInterval, gnet.None
}
