package main

import (
	"context"
	"strings"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/cli"
)

// Screening marks (docs/adr/0104): an item's mark rule (refusing, or
// holding back for review: docs/adr/0107), the held and confirmed orders
// that carry marks, and the release of a held-back order.

// markNamesHelp lists the marks for flag help.
const markNamesHelp = "loyal, first_order, shared_payment, shared_device, shared_address, velocity, no_shows"

// parseMarksFlag reads a comma-separated list of mark names.
func parseMarksFlag(flagName, s string) (engine.Marks, error) {
	m, ok := engine.ParseMarks(strings.ReplaceAll(s, " ", ""))
	if !ok {
		return 0, usagef("--%s %q: want comma-separated marks of %s", flagName, s, markNamesHelp)
	}
	return m, nil
}

type markRuleJSON struct {
	SKU    string `json:"sku"`
	Store  string `json:"store"`
	Refuse string `json:"refuse"` // the marks the rule acts on
	Action string `json:"action"` // refuse or hold
}

func marksRule(e *env, args []string) error {
	fs := newFlags(e, "marks rule")
	sku, store := skuStoreFlags(fs)
	refuse := fs.String("refuse", "", "marks the rule acts on (\"\" lifts the rule): "+markNamesHelp)
	actionText := fs.String("action", "refuse", "what the rule does to a reserve its marks hit: refuse, or hold (held back for review)")
	key := fs.String("key", "", "idempotency key")
	cli.Require(fs, "sku", "store", "refuse")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store})
	m, err := parseMarksFlag("refuse", *refuse)
	if err != nil {
		return err
	}
	action, ok := client.ParseMarkAction(*actionText)
	if !ok {
		return usagef("--action %q: want refuse or hold", *actionText)
	}
	e.sub.key = *key
	return operate(e, "marks rule", func(c context.Context, cl *client.Client) error {
		return cl.SetMarkRule(c, client.MarkRule{SKU: *sku, Store: *store, Refuse: m, Action: action, Key: *key})
	})
}

func marksGetRule(e *env, args []string) error {
	fs := newFlags(e, "marks get-rule")
	sku, store := skuStoreFlags(fs)
	cli.Require(fs, "sku", "store")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	e.about(subject{sku: *sku, store: *store})
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	rule, err := cl.ReadMarkRule(c, *sku, *store, e.readOpts()...)
	if err != nil {
		return err
	}
	out := markRuleJSON{SKU: *sku, Store: *store, Refuse: rule.Refuse.String(), Action: rule.Action.String()}
	return show(e, out, []string{"SKU", "STORE", "REFUSE", "ACTION"}, func() [][]string {
		return [][]string{{out.SKU, out.Store, out.Refuse, out.Action}}
	})
}

type markedJSON struct {
	reservationJSON
	Marks       string `json:"marks"`
	UnderReview bool   `json:"under_review"`
}

func marksList(e *env, args []string) error {
	fs := newFlags(e, "marks list")
	marks := fs.String("marks", "", "list orders with any of these marks (default: any mark): "+markNamesHelp)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	m, err := parseMarksFlag("marks", *marks)
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	rs, err := cl.ListByMark(c, m, e.readOpts()...)
	if err != nil {
		return err
	}
	out := make([]markedJSON, len(rs))
	for i := range rs {
		out[i] = markedJSON{reservationJSON: reservationJSONOf(rs[i].Reservation), Marks: rs[i].Marks.String(),
			UnderReview: rs[i].UnderReview}
	}
	return show(e, out, append(append([]string(nil), reservationHeader...), "MARKS", "REVIEW"), func() [][]string {
		rows := make([][]string, len(out))
		for i := range out {
			review := "-"
			if out[i].UnderReview {
				review = "under_review"
			}
			rows[i] = append(reservationRow(out[i].reservationJSON), out[i].Marks, review)
		}
		return rows
	})
}

// marksRelease lets a held-back order be confirmed (docs/adr/0107).
func marksRelease(e *env, args []string) error {
	fs := newFlags(e, "marks release")
	key := fs.String("key", "", "idempotency key")
	id, err := idArgs(e, fs, args)
	if err != nil {
		return err
	}
	return storefront(e, func(c *client.Client) (client.Result, error) {
		return c.ReleaseReview(ctxOnce(), client.ReleaseReviewRequest{ID: id, Key: *key})
	}, func(r client.Result) string { return "released " + num(r.ID) + " " + r.State.String() })
}
