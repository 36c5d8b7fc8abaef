package main

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/invsys/inv/client"
)

// Screening marks and the waitlist, as a shop uses them.
//
// An order may carry the shopper's device (the page sends an id it keeps
// in the browser); the shop sends inv a hash of it, never the id itself,
// and shows the order's marks. An item whose mark rule holds marked orders
// back answers the reserve with the order under review: the shopper pays,
// and the confirm answers 409 under_review until staff release it (invctl
// marks release ID); a rule that refuses answers 403 marked
// (docs/adr/0104, 0107).
//
// A sold-out item has a line: POST /waitlist joins it; when units free up
// inv makes the head's hold by itself, and the shop learns of it from the
// change feed (waitlist_promoted), so GET /waitlist/... can hand the
// shopper the order to pay for (docs/adr/0105).

// devicePrint is the fingerprint inv sees of a device id: a 64-bit hash,
// never 0 (0 means "not sent").
func devicePrint(device string) uint64 {
	if device == "" {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(device))
	return max(h.Sum64(), 1)
}

// promotions remembers the holds inv made for the heads of lines, by
// customer and item, as the feed announced them. At most promotionsMax are
// kept (the oldest go): a real shop would notify the shopper and store it
// with the order.
type promotions struct {
	mu    sync.Mutex
	byKey map[string]uint64
	order []string
}

const promotionsMax = 100_000

func promotionKey(customer, sku, store string) string {
	return customer + "\x00" + sku + "\x00" + store
}

func (p *promotions) put(key string, id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byKey == nil {
		p.byKey = map[string]uint64{}
	}
	if _, ok := p.byKey[key]; !ok {
		p.order = append(p.order, key)
	}
	p.byKey[key] = id
	if len(p.order) > promotionsMax {
		delete(p.byKey, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *promotions) get(key string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byKey[key]
}

// followPromotions follows every shard's feed from now on for the rest of
// the client's life, noting each waitlist_promoted. A shard whose feed
// cannot be joined (the engine is down) is tried again after a pause.
func (s *shop) followPromotions(ctx context.Context) {
	for shard := range max(s.inv.Shards(), 1) {
		go s.followShard(ctx, shard)
	}
}

func (s *shop) followShard(ctx context.Context, shard int) {
	for ctx.Err() == nil {
		sub, err := s.inv.SubscribeNow(ctx, shard)
		if errors.Is(err, client.ErrClientClosed) {
			return
		}
		if err == nil {
			for ev := range sub.Events() {
				if ev.Kind == client.EvWaitPromoted {
					s.promoted.put(promotionKey(ev.Customer, ev.SKU, ev.Store), ev.ID)
				}
			}
			if err = sub.Err(); err == nil {
				return // closed with the client
			}
		}
		s.log.Warn("waitlist feed", "shard", shard, "err", err)
		select { // a pause before joining again, not a wait for an event
		case <-ctx.Done():
		case <-time.After(followRetry):
		}
	}
}

// followRetry is the pause before a feed that could not be followed is
// joined again: the engine is restarting or electing, which takes seconds.
const followRetry = time.Second

type waitlistRequest struct {
	SKU      string `json:"sku"`
	Store    string `json:"store"`
	Customer string `json:"customer"`
	Qty      int64  `json:"qty"`
}

type waitlistJSON struct {
	Length   int64  `json:"length"`
	Position int64  `json:"position"`        // from 1, the head; 0 = not in line
	Order    string `json:"order,omitempty"` // the hold inv made when this shopper's turn came: pay for it
}

// POST /waitlist : join a sold-out item's line. 409 wrong_state when the
// item has units again: reserve instead.
func (s *shop) joinWaitlist(w http.ResponseWriter, r *http.Request) {
	var req waitlistRequest
	if !readJSON(w, r, &req) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	wl, err := s.inv.JoinWaitlist(ctx, client.JoinWaitlistRequest{SKU: req.SKU, Store: req.Store, Customer: req.Customer,
		Qty: req.Qty, Key: r.Header.Get("Idempotency-Key")})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, waitlistJSON{Length: wl.Length, Position: wl.Position})
}

// GET /waitlist/{sku}/{store}/{customer} : the shopper's place, or the
// order inv made when their turn came.
func (s *shop) waitlistPlace(w http.ResponseWriter, r *http.Request) {
	sku, store, customer := r.PathValue("sku"), r.PathValue("store"), r.PathValue("customer")
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	wl, err := s.inv.GetWaitlist(ctx, sku, store, customer)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := waitlistJSON{Length: wl.Length, Position: wl.Position}
	if id := s.promoted.get(promotionKey(customer, sku, store)); id != 0 && wl.Position == 0 {
		out.Order = strconv.FormatUint(id, 10)
	}
	writeJSON(w, http.StatusOK, out)
}
