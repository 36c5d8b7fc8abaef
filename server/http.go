package server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/invsys/inv/internal/promtext"
	"github.com/invsys/inv/pages"
)

// The HTTP server is for operators, scrapers and the pages (package pages:
// the console and the store counter), on its own port so that it never
// competes with the protocol's event loops:
//
//	/metrics       Prometheus text: the server's metrics and the process's
//	/healthz       200 while the process serves HTTP, is not shutting
//	               down, and its protocol listener and event loops run
//	               (liveness)
//	/readyz        200 when the protocol port accepts connections (no
//	               accept failed lately, listener.go) and every local shard
//	               has a leader and has applied every entry it knows
//	               committed (readiness), 503 with the reason otherwise
//	/debug/pprof/  Go profiles, only with Config.Pprof (bind the HTTP
//	               address to loopback or a private network)
//	/              an index of every endpoint (package pages)
//	/console, /counter, /api/...
//	               the operator console and the store counter with their
//	               JSON API (package pages, pages.go), where Config.Pages
//	               and CheckPagesExposure allow; they ask for tokens as the
//	               protocol does
//
// With Config.HTTPTLSConfig every path is served over TLS.
func (s *Server) startHTTP() error {
	pagesOn, pagesNote, err := s.decidePages()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("server: http listen on %s: %w", s.cfg.HTTP, err)
	}
	if s.cfg.HTTPTLSConfig != nil {
		ln = tls.NewListener(ln, s.cfg.HTTPTLSConfig)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", pages.Index(s.cfg.Name, s.cfg.NodeID, s.httpEndpoints(pagesOn), pagesNote))
	if pagesOn {
		s.mountPages(mux)
		s.pagesOn.Store(true)
	}
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		// One HELP and TYPE per family, each family's series together,
		// counters named _total (package promtext), whatever order the
		// writers use.
		var page bytes.Buffer
		s.met.set.WritePrometheus(&page)
		metrics.WriteProcessMetrics(&page)
		metrics.WriteFDMetrics(&page)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = promtext.Normalize(w, page.Bytes(), metricHelp)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case s.draining.Load():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		case s.listenerGone() != "": // for good: a restart is the remedy
			http.Error(w, s.listenerGone(), http.StatusServiceUnavailable)
		case !s.Ready():
			http.Error(w, "a shard has no leader", http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte("ok\n"))
		}
	})
	mux.HandleFunc("/readyz", s.serveReady)
	s.clusterHTTP(mux) // cluster.go: /debug/shardhash, /debug/faults
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	s.httpLn = ln
	// Timeouts bound what a slow or idle HTTP client can hold; a CPU
	// profile runs for its ?seconds=, so writes get a minute.
	s.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: time.Minute}
	go func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server", "error", err)
		}
	}()
	return nil
}
