package server

import (
	"sync"
	"time"

	"github.com/invsys/inv/engine"
)

// bucket is a token bucket: it holds up to burst attempts and refills at
// rate per second.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends one attempt if there is one.
func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(float64(burst), b.tokens+dt*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// storeBuckets are the per-store pickup buckets, shared by every event loop.
type storeBuckets struct {
	mu sync.Mutex
	m  map[string]*bucket
}

func (sb *storeBuckets) take(store string, now time.Time, rate float64, burst int) bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	b := sb.m[store]
	if b == nil {
		if sb.m == nil || len(sb.m) >= maxPickupStores {
			sb.m = make(map[string]*bucket)
		}
		b = &bucket{}
		sb.m[store] = b
	}
	return b.take(now, rate, burst)
}

// pickupAllowed spends a pickup attempt of the connection and of the store,
// or answers rate_limited (event loop). Other ops pass.
func (s *Server) pickupAllowed(c *conn, reqID uint32, cmd *engine.Command) bool {
	if cmd.Op != engine.OpPickup {
		return true
	}
	now := time.Now()
	cfg := &s.cfg
	if !c.pickups.take(now, cfg.PickupRatePerConn, cfg.PickupBurstPerConn) {
		c.sendError(reqID, engine.CodeRateLimited, "too many pickup attempts on this connection")
		return false
	}
	if !s.pickupStores.take(string(cmd.Store), now, cfg.PickupRatePerStore, cfg.PickupBurstPerStore) {
		c.sendError(reqID, engine.CodeRateLimited, "too many pickup attempts at this store")
		return false
	}
	return true
}
