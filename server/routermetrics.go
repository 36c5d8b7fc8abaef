package server

import (
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/invsys/inv/router"
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
}

// coordSteps records the router's coordination steps (router.Observer) as
// inv_coordination_step_seconds{step}: the read of the item, the claim,
// the hold, a resolve the answer waited for, and the whole coordination.
type coordSteps [router.StepCount]*metrics.Histogram

func newCoordSteps(set *metrics.Set) *coordSteps {
	var h coordSteps
	for st := range router.StepCount {
		h[st] = set.NewHistogram(`inv_coordination_step_seconds{step="` + st.String() + `"}`)
	}
	return &h
}

// ObserveStep records one step's latency (any goroutine, no allocation).
func (h *coordSteps) ObserveStep(step router.Step, d time.Duration) {
	if step < router.StepCount {
		h[step].Update(d.Seconds())
	}
}
