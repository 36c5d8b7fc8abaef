package server

import (
	"io"

	"github.com/VictoriaMetrics/metrics"
)

// writeRouterMetrics writes the router's counts (router.Stats): its work
// across shards, which the router itself, free of any metrics library,
// only counts.
func (s *Server) writeRouterMetrics(w io.Writer) {
	st := s.router.Stats()
	metrics.WriteCounterUint64(w, "inv_forwarded_total", st.Forwarded)
	metrics.WriteCounterUint64(w, "inv_coordinations_total", st.Coordinated)
	metrics.WriteCounterUint64(w, "inv_carts_across_shards_total", st.Carts)
	metrics.WriteCounterUint64(w, "inv_claim_releases_total", st.ReleasesSent)
	metrics.WriteCounterUint64(w, "inv_claim_releases_deferred_total", st.ReleasesDeferred)
}
