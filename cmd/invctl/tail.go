package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/invsys/inv/client"
)

// eventJSON is one change-feed event as tail prints it with --json (one
// object a line).
type eventJSON struct {
	Shard      int        `json:"shard"`
	Position   string     `json:"position"` // index.ordinal: resume with --from
	Kind       string     `json:"kind"`
	At         time.Time  `json:"at"`
	ID         jsonID     `json:"id,omitempty"`
	SKU        string     `json:"sku,omitempty"`
	Store      string     `json:"store,omitempty"`
	Customer   string     `json:"customer,omitempty"`
	Qty        int64      `json:"qty,omitempty"`
	Window     *time.Time `json:"window,omitempty"`
	State      string     `json:"state,omitempty"`
	PickupCode string     `json:"pickup_code,omitempty"`
	Stock      int64      `json:"stock,omitempty"`
	Tier       uint8      `json:"tier,omitempty"`
	Blocked    bool       `json:"blocked,omitempty"`
	Actor      string     `json:"actor,omitempty"`
	Reason     string     `json:"reason,omitempty"`
}

func eventJSONOf(ev client.Event) eventJSON {
	out := eventJSON{Shard: ev.Shard, Position: fmt.Sprintf("%d.%d", ev.Position.Index, ev.Position.Ordinal),
		Kind: ev.Kind.String(), At: ev.At, ID: jsonID(ev.ID), SKU: ev.SKU, Store: ev.Store, Customer: ev.Customer,
		Qty: ev.Qty, Window: optTime(ev.Window), Stock: ev.Stock, Tier: ev.Tier, Blocked: ev.Blocked,
		Actor: ev.Actor, Reason: ev.Reason}
	if ev.State != 0 {
		out.State = ev.State.String()
	}
	if ev.PickupCode != 0 {
		out.PickupCode = fmt.Sprintf("%012d", ev.PickupCode)
	}
	return out
}

// text is the event on one line: the position, the kind, then the fields
// that are set, as key=value.
func (ev eventJSON) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s shard=%d pos=%s %s", ev.At.UTC().Format(time.RFC3339Nano), ev.Shard, ev.Position, ev.Kind)
	add := func(k, v string) {
		if v != "" && v != "0" {
			b.WriteString(" " + k + "=" + v)
		}
	}
	add("id", num(ev.ID))
	add("sku", ev.SKU)
	add("store", ev.Store)
	add("customer", ev.Customer)
	add("qty", num(ev.Qty))
	if ev.Window != nil {
		add("window", timeText(*ev.Window))
	}
	add("state", ev.State)
	add("pickup_code", ev.PickupCode)
	add("stock", num(ev.Stock))
	add("tier", num(ev.Tier))
	if ev.Blocked {
		add("blocked", "true")
	}
	add("by", ev.Actor)
	if ev.Reason != "" {
		add("reason", strconv.Quote(ev.Reason))
	}
	return b.String()
}

// parsePosition reads INDEX or INDEX.ORDINAL: the last event handled.
func parsePosition(s string) (client.Position, error) {
	if s == "" {
		return client.Position{}, nil
	}
	idx, ord, _ := strings.Cut(s, ".")
	i, err := strconv.ParseUint(idx, 10, 64)
	if err != nil {
		return client.Position{}, usagef("--from %q: want INDEX or INDEX.ORDINAL", s)
	}
	o := uint64(0)
	if ord != "" {
		if o, err = strconv.ParseUint(ord, 10, 32); err != nil {
			return client.Position{}, usagef("--from %q: want INDEX or INDEX.ORDINAL", s)
		}
	}
	return client.Position{Index: i, Ordinal: uint32(o)}, nil
}

// tail follows the change feed of one shard, or of every shard (events of
// one shard in order; shards interleaved as they come), until interrupted
// or --count events have been printed.
func tail(e *env, args []string) error {
	fs := newFlags(e, "tail")
	shard := fs.Int("shard", -1, "shard to follow (-1: every shard)")
	from := fs.String("from", "", "follow after this position (INDEX[.ORDINAL], the last event handled; one shard only)")
	count := fs.Int("count", 0, "stop after this many events (0: follow until interrupted)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	after, err := parsePosition(*from)
	if err != nil {
		return err
	}
	if *shard < 0 && after != (client.Position{}) {
		return usagef("--from needs --shard: positions are per shard")
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shards := []int{*shard}
	if *shard < 0 {
		shards = shards[:0]
		for i := range cl.Shards() {
			shards = append(shards, i)
		}
	}
	merged := make(chan client.Event)
	subs := make([]*client.Subscription, 0, len(shards))
	defer func() {
		for _, s := range subs {
			s.Close()
		}
	}()
	ended := make(chan error, len(shards))
	for _, sh := range shards {
		sub, err := cl.Subscribe(c, sh, after)
		if err != nil {
			return err
		}
		subs = append(subs, sub)
		go func() {
			for ev := range sub.Events() {
				select {
				case merged <- ev:
				case <-c.Done():
					return
				}
			}
			ended <- sub.Err()
		}()
	}
	printed := 0
	for *count == 0 || printed < *count {
		select {
		case ev := <-merged:
			j := eventJSONOf(ev)
			if e.json {
				if err := show(e, j, nil, nil); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(e.stdout, j.text())
			}
			printed++
		case err := <-ended:
			if err != nil {
				return err
			}
		case <-c.Done():
			return nil
		}
	}
	return nil
}
