package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/pages"
)

// PagesMode says whether the HTTP address serves the operator console and
// the store counter (package pages, docs/adr/0090 and 0091).
type PagesMode string

const (
	// PagesAuto (the default) serves them where CheckPagesExposure allows,
	// and leaves them out, with a note in the log and at /, elsewhere.
	PagesAuto PagesMode = "auto"
	// PagesOn serves them, and refuses to start where it may not.
	PagesOn PagesMode = "on"
	// PagesOff never serves them.
	PagesOff PagesMode = "off"
)

// Check returns an error unless m is a mode of this version ("" is auto).
func (m PagesMode) Check() error {
	switch m {
	case "", PagesAuto, PagesOn, PagesOff:
		return nil
	}
	return fmt.Errorf("server: pages %q: want auto, on or off", string(m))
}

// CheckPagesExposure is CheckExposure's rule for the pages on the HTTP
// address: beyond loopback they need tokens (the console and the counter
// ask for them as the protocol does) and TLS (a browser sends its token in
// every request, and the counter's answers name customers' orders).
func CheckPagesExposure(httpAddr string, tokens *Tokens, httpTLS bool) error {
	if IsLoopback(httpAddr) || tokens.Len() > 0 && httpTLS {
		return nil
	}
	var missing string
	switch {
	case tokens.Len() == 0 && !httpTLS:
		missing = "tokens and TLS"
	case tokens.Len() == 0:
		missing = "tokens"
	default:
		missing = "TLS"
	}
	return fmt.Errorf("refusing to serve the console and counter pages on %s without %s: "+
		"configure token lines and http_tls_cert/http_tls_key (docs/SECURITY.md), bind the HTTP address to 127.0.0.1, "+
		"or set pages = off", httpAddr, missing)
}

// decidePages says whether Start mounts the pages, and if not why (for the
// index at /); an error for PagesOn where they may not be served.
func (s *Server) decidePages() (on bool, note string, err error) {
	if s.cfg.Pages == PagesOff {
		return false, "The console and counter pages are off (pages = off).", nil
	}
	if err := CheckPagesExposure(s.cfg.HTTP, s.tokens, s.cfg.HTTPTLSConfig != nil); err != nil {
		if s.cfg.Pages == PagesOn {
			return false, "", err
		}
		s.log.Warn("pages off", "reason", err.Error())
		return false, "The console and counter pages are off: this HTTP address is beyond loopback " +
			"without tokens and TLS.", nil
	}
	return true, "", nil
}

// mountPages mounts the pages on mux and runs the keeper of their book,
// which follows the change feeds while the pages are in use, until
// Shutdown.
func (s *Server) mountPages(mux *http.ServeMux) {
	shards := make([]pages.Shard, len(s.shards))
	for i, sh := range s.shards {
		shards[i] = sh
	}
	keep := pages.NewKeeper(shards, pages.NewBook(), s.cfg.PagesBookIdle, s.log.With("component", "pages"))
	pages.NewHandler(pagesBackend{s}, keep, shards, s.log).Mount(mux)
	ctx, cancel := context.WithCancel(context.Background())
	s.bgWG.Add(2)
	go func() {
		defer s.bgWG.Done()
		keep.Run(ctx)
	}()
	go func() {
		defer s.bgWG.Done()
		<-s.stopping
		cancel()
	}()
}

// httpEndpoints lists the HTTP port's paths for the index at /.
func (s *Server) httpEndpoints(pagesOn bool) []pages.Endpoint {
	eps := []pages.Endpoint{
		{Path: "/metrics", About: "Prometheus metrics of the server and the process", Link: true},
		{Path: "/healthz", About: "liveness: 200 while the process serves", Link: true},
		{Path: "/readyz", About: "readiness: 200 when the protocol port accepts and every shard has a leader", Link: true},
		{Path: "/debug/shardhash", About: "each shard's state hash, to compare replicas", Link: true},
	}
	if s.node.Faults() != nil {
		eps = append(eps, pages.Endpoint{Path: "/debug/faults", About: "fault injection of raft traffic (tests only)"})
	}
	if s.cfg.Pprof {
		eps = append(eps, pages.Endpoint{Path: "/debug/pprof/", About: "Go profiles", Link: true})
	}
	if pagesOn {
		eps = append(pages.Endpoints(), eps...)
	}
	return eps
}

// pagesBackend is the server as the pages see it (pages.Backend).
type pagesBackend struct{ s *Server }

// openCaller names the one caller of a server without tokens for the
// pickup rate limit.
const openCaller = "open"

func (b pagesBackend) Access(token string) (pages.Access, bool) {
	g, hash := b.s.grantFor(token)
	if g == nil {
		return pages.Access{}, false
	}
	a := pages.Access{Role: g.Role.String(), Stores: g.Stores, Caller: hash, Open: b.s.tokens.Len() == 0}
	if a.Open {
		a.Caller = openCaller
	}
	return a, true
}

// Do runs cmd through the router as a protocol request would, counted in
// the request metrics like one.
func (b pagesBackend) Do(ctx context.Context, cmd *engine.Command) (engine.Result, error) {
	s := b.s
	if s.draining.Load() {
		return engine.Result{}, fmt.Errorf("server shutting down")
	}
	type outcome struct {
		r   engine.Result
		err error
	}
	ch := make(chan outcome, 1)
	start := time.Now()
	s.router.Serve(cmd, false, func(r engine.Result, err error) { ch <- outcome{r, err} })
	select {
	case o := <-ch:
		s.met.observe(cmd.Op, resultCode(&o.r, o.err), start)
		return o.r, o.err
	case <-ctx.Done():
		return engine.Result{}, ctx.Err()
	}
}

func (b pagesBackend) AllowPickup(caller, store string) bool {
	s := b.s
	now := time.Now()
	return s.pickupCallers.take(caller, now, s.cfg.PickupRatePerConn, s.cfg.PickupBurstPerConn) &&
		s.pickupStores.take(store, now, s.cfg.PickupRatePerStore, s.cfg.PickupBurstPerStore)
}

func (b pagesBackend) Node() pages.NodeStatus {
	s := b.s
	n := pages.NodeStatus{NodeID: s.cfg.NodeID, Name: s.cfg.Name, Ready: s.Ready(), Draining: s.draining.Load(),
		Connections: int64(s.adm.authenticated()), PreHello: int64(s.adm.preHello()), InFlight: s.inflight.Load(),
		ReplyBytes: s.budget.total.Load(), ReplyLimit: s.budget.limit, PausedConns: s.budget.paused.Load(),
		Shards: make([]pages.ShardStatus, 0, len(s.shards))}
	if !s.started.IsZero() {
		n.Uptime = time.Since(s.started).Seconds()
	}
	for i, sh := range s.shards {
		st := sh.Status()
		ps := sh.ProposerStats()
		n.Shards = append(n.Shards, pages.ShardStatus{Shard: i, State: wireRaftState(st.State).String(),
			Leader: s.leaderNodeID(st), Term: st.Term, LastLog: st.LastLogIndex, Commit: st.CommitIndex,
			Applied: st.AppliedIndex, Snapshot: st.LastSnapshotIndex, Busy: ps.Busy, Commands: ps.Commands})
	}
	return n
}
