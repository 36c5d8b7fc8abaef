package main

import (
	"context"
	"strings"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/cli"
)

// Screening marks (docs/adr/0104): an item's mark rule, and the held and
// confirmed orders that carry marks.

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
	Refuse string `json:"refuse"`
}

func marksRule(e *env, args []string) error {
	fs := newFlags(e, "marks rule")
	sku, store := skuStoreFlags(fs)
	refuse := fs.String("refuse", "", "marks that refuse the item's reserves (\"\" lifts the rule): "+markNamesHelp)
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
	e.sub.key = *key
	return operate(e, "marks rule", func(c context.Context, cl *client.Client) error {
		return cl.SetMarkRule(c, client.MarkRule{SKU: *sku, Store: *store, Refuse: m, Key: *key})
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
	m, err := cl.GetMarkRule(c, *sku, *store, e.readOpts()...)
	if err != nil {
		return err
	}
	out := markRuleJSON{SKU: *sku, Store: *store, Refuse: m.String()}
	return show(e, out, []string{"SKU", "STORE", "REFUSE"}, func() [][]string {
		return [][]string{{out.SKU, out.Store, out.Refuse}}
	})
}

type markedJSON struct {
	reservationJSON
	Marks string `json:"marks"`
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
		out[i] = markedJSON{reservationJSON: reservationJSONOf(rs[i].Reservation), Marks: rs[i].Marks.String()}
	}
	return show(e, out, append(append([]string(nil), reservationHeader...), "MARKS"), func() [][]string {
		rows := make([][]string, len(out))
		for i := range out {
			rows[i] = append(reservationRow(out[i].reservationJSON), out[i].Marks)
		}
		return rows
	})
}
