package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// The HTTP server is for operators and scrapers only, on its own port so
// that it never competes with the protocol's event loops:
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
func (s *Server) startHTTP() error {
	ln, err := net.Listen("tcp", s.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("server: http listen on %s: %w", s.cfg.HTTP, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		s.met.set.WritePrometheus(w)
		metrics.WriteProcessMetrics(w)
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
