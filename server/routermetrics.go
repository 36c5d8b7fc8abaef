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
	metrics.WriteCounterUint64(w, "inv_coordinations_stale_peek_total", st.StalePeeks)
	metrics.WriteCounterUint64(w, "inv_provisional_holds_settled_total", st.Resolved)
	metrics.WriteCounterUint64(w, "inv_carts_across_shards_total", st.Carts)
	metrics.WriteCounterUint64(w, "inv_outbox_delivered_total", st.Delivered)
	metrics.WriteCounterUint64(w, "inv_outbox_delivery_retries_total", st.DeliveryRetries)
	metrics.WriteCounterUint64(w, "inv_sweep_claims_total", st.SweptClaims)
	metrics.WriteCounterUint64(w, "inv_sweep_holds_total", st.SweptHolds)
	metrics.WriteCounterUint64(w, "inv_cancel_release_waits_late_total", st.CancelWaitsLate)
	metrics.WriteCounterUint64(w, "inv_idempotency_keys_registered_total", st.KeyRegistrations)
	metrics.WriteCounterUint64(w, "inv_waitlist_join_claims_total", st.JoinClaims)
}
