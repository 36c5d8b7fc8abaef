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

	eng       gnet.Engine
	addr      string                 // the protocol's bound address
	advertise atomic.Pointer[string] // the client address in TOPOLOGY, known once bound
	started   time.Time              // when Start began serving (STATUS's uptime)
	booted    chan struct{}          // closed by OnBoot
	exited    chan struct{}          // closed when gnet.Run returned
	runErr    error

	nconns   atomic.Int64
	inflight atomic.Int64 // frames in flight on every connection
	connSeq  atomic.Uint64
	draining atomic.Bool
	subsMu   sync.Mutex    // orders subscriptions starting against Shutdown's wait
	stopping chan struct{} // closed by Shutdown: subscriptions end
	subsWG   sync.WaitGroup

	mu    sync.Mutex
	conns map[*conn]struct{}

	httpSrv *http.Server
	httpLn  net.Listener

	peers        *peerTable // the cluster's nodes (peers.go); nil for a single node
	tokens       *Tokens    // never nil (auth.go)
	pickupStores storeBuckets
	tlsLn        net.Listener   // the TLS client listener (tls.go), or nil
	fwd          *forwarder     // the router's wire to other nodes' shards (forward.go); nil alone
	bgWG         sync.WaitGroup // background loops (the router's claim releases), ended by stopping
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
		booted: make(chan struct{}), exited: make(chan struct{}), stopping: make(chan struct{}),
		conns: make(map[*conn]struct{}), tokens: cfg.Tokens,
	}
	if s.tokens == nil {
		s.tokens = NewTokens(nil)
	}
	if len(cfg.Peers) > 0 {
		if s.peers, err = openPeerTable(cfg.PeersFile, cfg.Peers); err != nil {
			return nil, err
		}
	}
	for i := range n {
		sh := node.Shard(uint16(i))
		s.shards = append(s.shards, sh)
	}
	// The metrics first: the router is made with their coordinator
	// observer. They read the router only when scraped.
	s.met = newServerMetrics(s)
	if s.router, err = s.newRouter(); err != nil {
		return nil, err
	}
	return s, nil
}

// newRouter gives the router this node's shards, and in a cluster the
// forwarder and the peer table.
func (s *Server) newRouter() (*router.Router, error) {
	rc := router.Config{Shards: make([]router.Shard, len(s.shards)), GroupMaxCommands: s.cfg.GroupMaxCommands,
		Logger: s.log, ObserveStep: s.met.stages.observeStep}
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
		gnet.WithReusePort(false),
		// SO_REUSEADDR, as Go's own listeners set it: a restarted server
		// must bind its port while its old connections sit in TIME_WAIT.
		gnet.WithReuseAddr(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithTicker(true),
		gnet.WithLogger(gnetLogger{s.log.With("component", "gnet")}),
	}
	if s.cfg.EventLoops > 0 {
		opts = append(opts, gnet.WithNumEventLoop(s.cfg.EventLoops))
	}
	s.started = time.Now() // before any event loop runs: they read it unlocked
	go func() {
		s.runErr = gnet.Run(s, "tcp://"+s.cfg.Listen, opts...)
		close(s.exited)
	}()
	select {
	case <-s.booted:
	case <-s.exited:
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Listen, s.runErr)
	}
	s.addr = s.boundAddr()
	adv := s.cfg.Advertise
	if adv == "" {
		adv = s.addr
	}
	s.advertise.Store(&adv)
	if s.cfg.TLSListen != "" {
		if err := s.startTLS(); err != nil {
			_ = s.eng.Stop(context.Background())
			return err
		}
	}
	if s.cfg.HTTP != "" {
		if err := s.startHTTP(); err != nil {
			_ = s.eng.Stop(context.Background())
			return err
		}
	}
	if len(s.shards) > 1 {
		s.bgWG.Add(1)
		go func() {
			defer s.bgWG.Done()
			s.router.RunReleases(s.stopping) // claims of finished reservations (docs/adr/0050)
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

// boundAddr asks the listening socket for its address (the configured one
// may have port 0).
func (s *Server) boundAddr() string {
	fd, err := s.eng.Dup()
	if err != nil {
		return s.cfg.Listen
	}
	f := os.NewFile(uintptr(fd), "listener") // owns fd: f.Close closes it
	ln, err := net.FileListener(f)
	_ = f.Close()
	if err != nil {
		return s.cfg.Listen
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Shutdown stops the server gracefully: it refuses new connections and
// requests (unavailable), waits up to DrainTimeout (or ctx) for requests in
// flight to be answered and their replies written, ends subscriptions, and
// closes every connection. The node is the caller's to close afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.draining.CompareAndSwap(false, true) {
		return errors.New("server: already shut down")
	}
	drainCtx, cancel := context.WithTimeout(ctx, s.cfg.DrainTimeout)
	defer cancel()
	s.waitFor(drainCtx, func() bool { return s.inflight.Load() == 0 })
	if n := s.inflight.Load(); n > 0 {
		s.log.Warn("shutdown: requests still in flight", "requests", n)
	}
	close(s.stopping)
	s.subsMu.Lock() // no subscription starts after this: serveSubscribe checks draining under subsMu
	s.subsMu.Unlock()
	s.subsWG.Wait()
	s.bgWG.Wait()
	s.flushAll(drainCtx)
	err := s.eng.Stop(ctx)
	<-s.exited
	s.stopTLS()
	if s.fwd != nil {
		s.fwd.close()
	}
	if s.httpSrv != nil {
		err = errors.Join(err, s.httpSrv.Shutdown(ctx))
	}
	s.log.Info("stopped")
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
	s.waitFor(ctx, func() bool {
		for _, c := range conns {
			c.mu.Lock()
			pending := len(c.out) > 0 && !c.closed
			c.mu.Unlock()
			if pending {
				return false
			}
		}
		return true
	})
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

// OnBoot records the engine; Start is waiting for it.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.booted)
	return gnet.None
}

// OnTick sweeps connections that never said HELLO and samples metrics.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	s.met.sample(s)
	now := time.Now()
	s.mu.Lock()
	for c := range s.conns {
		if !c.hello.Load() && now.Sub(c.openAt) > s.cfg.HelloTimeout {
			_ = c.gc.Close()
			continue
		}
		s.checkDeadlines(c, now)
	}
	s.mu.Unlock()
	return tickInterval, gnet.None
}
