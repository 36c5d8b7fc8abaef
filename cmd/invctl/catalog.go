package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/catalog"
	"github.com/invsys/inv/protocol"
)

// importWorkers is how many rows load at once: the client pipelines them
// over its connections, and the server batches them into raft entries.
const importWorkers = 64

// importReason is the reason recorded with each row's stock change.
const importReason = "catalog import"

// progressEvery bounds how often the progress bar redraws.
const progressEvery = 100 * time.Millisecond

// badRowsError is an import refused because rows are bad: they were listed
// on stderr, and nothing was loaded.
type badRowsError struct{ bad int }

func (e badRowsError) Error() string {
	return fmt.Sprintf("import: %d bad row(s), nothing loaded", e.bad)
}

// importCatalog checks the whole file (every bad row is reported with its
// line, and then nothing is loaded), then sets each SKU's limit (one
// set_limit per SKU, when the file has a limit column: before the items,
// so that none is ever on sale without it), then loads every row's item
// in bulk puts (docs/adr/0121), then each row's windows in order, rows in
// parallel. A row refused by the engine (stock below what is promised ...)
// is reported, its windows are not put, and the import goes on.
func importCatalog(e *env, args []string) error {
	fs := newFlags(e, "import")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return usagef("import: %v", err)
	}
	rows, bad := catalog.Parse(f)
	f.Close()
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Fprintln(e.stderr, b.Error())
		}
		return badRowsError{bad: len(bad)}
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	if err := importLimits(cl, rows); err != nil {
		return err
	}
	refused, err := loadItems(cl, rows)
	if err != nil {
		return err
	}
	bar := newProgress(e.stderr, len(rows), *quiet)
	var (
		next   atomic.Int64
		mu     sync.Mutex
		failed error
		wg     sync.WaitGroup
	)
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range min(importWorkers, len(rows)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(rows) || c.Err() != nil {
					return
				}
				mu.Lock()
				_, skip := refused[i] // a refused row's item was not put: nor are its windows
				mu.Unlock()
				if skip {
					bar.add(1)
					continue
				}
				if err := loadWindows(c, cl, rows[i]); err != nil {
					mu.Lock()
					if code, ok := client.CodeOf(err); ok && code < engine.CodeUnauthorized {
						refused[i] = code
					} else if failed == nil {
						failed = fmt.Errorf("line %d: %w", rows[i].Line, err)
						cancel()
					}
					mu.Unlock()
				}
				bar.add(1)
			}
		}()
	}
	wg.Wait()
	bar.done()
	if failed != nil {
		return failed
	}
	for i := range rows {
		if code, ok := refused[i]; ok {
			fmt.Fprintf(e.stderr, "line %d: %s/%s: %s\n", rows[i].Line, rows[i].SKU, rows[i].Store, code)
		}
	}
	loaded := len(rows) - len(refused)
	if e.json {
		if err := show(e, map[string]int{"rows": len(rows), "loaded": loaded, "refused": len(refused)}, nil, nil); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "imported %d of %d rows\n", loaded, len(rows))
	}
	if len(refused) > 0 {
		return badRowsError{bad: len(refused)}
	}
	return nil
}

// importLimits sets the limit of every SKU of the file (none without a
// limit column). A refusal stops the import before any item is loaded.
func importLimits(cl *client.Client, rows []catalog.Row) error {
	for _, l := range catalog.SKULimits(rows) {
		c, cancel := context.WithTimeout(context.Background(), commandTimeout)
		err := cl.SetLimit(c, client.LimitSpec{SKU: l.SKU, Limit: l.Limit})
		cancel()
		if err != nil {
			return fmt.Errorf("line %d: limit of sku %s: %w", l.Line, l.SKU, err)
		}
	}
	return nil
}

// loadItems updates every row's item, its stock and the settings the file
// has columns for (the others stay as they are: docs/adr/0100), in bulk
// puts (docs/adr/0121). A bulk put is all or none: a row the engine
// refuses (stock below what is promised ...) is recorded, taken out, and
// the rest put again, so that every other row loads; a failure that is no
// refusal stops the import. It returns the refused rows by index.
func loadItems(cl *client.Client, rows []catalog.Row) (map[int]engine.Code, error) {
	refused := map[int]engine.Code{}
	left := make([]int, len(rows)) // the rows to put, by index
	for i := range left {
		left[i] = i
	}
	for len(left) > 0 {
		updates := make([]client.ItemUpdate, len(left))
		for k, i := range left {
			updates[k] = rowUpdate(rows[i])
		}
		c, cancel := context.WithTimeout(context.Background(), commandTimeout+time.Duration(len(left))*bulkItemTime)
		_, err := cl.PutItems(c, updates, importReason)
		cancel()
		var be *client.BulkError
		if err == nil {
			return refused, nil
		}
		code, isCode := client.CodeOf(err)
		if !errors.As(err, &be) || be.Index < 0 || !isCode || code >= engine.CodeUnauthorized {
			return nil, fmt.Errorf("loading the items: %w", err)
		}
		refused[left[be.Index]] = code
		left = append(left[:be.Index:be.Index], left[be.Index+1:]...)
	}
	return refused, nil
}

// bulkItemTime is the time an item of a bulk load is given beyond
// commandTimeout: a million items load in minutes on a loaded node.
const bulkItemTime = 100 * time.Microsecond

func rowUpdate(r catalog.Row) client.ItemUpdate {
	return client.ItemUpdate{SKU: r.SKU, Store: r.Store, SetStock: true, Stock: r.Stock,
		SetOpens: r.Absent&engine.SetOpensAt == 0, OpensAt: at(r.OpensAt),
		SetCloses: r.Absent&engine.SetClosesAt == 0, ClosesAt: at(r.ClosesAt),
		SetShare: r.Absent&engine.SetMemberShare == 0, MemberTier: r.MemberTier,
		MemberUnits: r.MemberUnits, MemberCutoff: at(r.MemberCutoff)}
}

// loadWindows puts a row's windows in order.
func loadWindows(c context.Context, cl *client.Client, r catalog.Row) error {
	rc, cancel := context.WithTimeout(c, commandTimeout)
	defer cancel()
	for _, w := range r.Windows {
		if err := cl.PutWindow(rc, client.WindowSpec{SKU: r.SKU, Store: r.Store,
			Start: at(w.Start), End: at(w.End), Quota: w.Quota}); err != nil {
			return err
		}
	}
	return nil
}

func at(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// exportCatalog writes every item (or one SKU's) in the catalog format.
func exportCatalog(e *env, args []string) error {
	fs := newFlags(e, "export")
	out := fs.String("out", "", "file to write (default: stdout)")
	sku := fs.String("sku", "", "only this SKU")
	times := fs.String("times", "utc", "zone of the times written: utc, or store (each store's own, with its offset)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *times != "utc" && *times != "store" {
		return usagef("--times %q: want utc or store", *times)
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	items, err := cl.ListItems(c, *sku, e.readOpts()...)
	if err != nil {
		return err
	}
	if len(items) >= protocol.MaxListItems {
		// One reply holds at most this many: the list may be cut short,
		// and a catalog with rows missing must not pass for a whole one.
		return fmt.Errorf("export: %d or more items, more than one reply holds: export SKU by SKU with --sku", len(items))
	}
	infos := make([]engine.ItemInfo, len(items))
	for i, it := range items {
		infos[i] = engine.ItemInfo{SKU: it.SKU, Store: it.Store, Stock: it.Stock, Limit: it.Limit,
			OpensAt: nanos(it.OpensAt), ClosesAt: nanos(it.ClosesAt), MemberTier: it.MemberTier,
			MemberUnits: it.MemberUnits, MemberCutoff: nanos(it.MemberCutoff)}
		for _, w := range it.Windows {
			infos[i].Windows = append(infos[i].Windows, engine.WindowInfo{Start: nanos(w.Start), End: nanos(w.End), Quota: w.Quota})
		}
	}
	w := e.stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	zoneOf := func(string) *time.Location { return time.UTC }
	if *times == "store" {
		zoneOf = storeZones(c, cl, infos, e.readOpts())
	}
	if err := catalog.WriteZoned(w, infos, zoneOf); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(e.stderr, "exported %d items to %s\n", len(infos), *out)
	}
	return nil
}

// storeZones reads the zone of every store of items once (UTC for a store
// without one).
func storeZones(c context.Context, cl *client.Client, items []engine.ItemInfo, opts []client.ReadOption) func(string) *time.Location {
	zones := map[string]*time.Location{}
	for _, it := range items {
		if _, done := zones[it.Store]; !done {
			zones[it.Store] = storeZone(c, cl, it.Store, opts)
		}
	}
	return func(store string) *time.Location { return zones[store] }
}

// progress draws a bar on stderr: "[#####.....] 120/500 rows".
type progress struct {
	w     io.Writer
	total int
	off   bool
	n     atomic.Int64
	mu    sync.Mutex
	last  time.Time
}

const progressWidth = 40

func newProgress(w io.Writer, total int, off bool) *progress {
	return &progress{w: w, total: total, off: off || total == 0}
}

func (p *progress) add(n int) {
	v := p.n.Add(int64(n))
	if p.off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < progressEvery && int(v) < p.total {
		return
	}
	p.last = time.Now()
	p.draw(int(v))
}

func (p *progress) draw(v int) {
	filled := v * progressWidth / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d rows", strings.Repeat("#", filled), strings.Repeat(".", progressWidth-filled), v, p.total)
}

func (p *progress) done() {
	if p.off {
		return
	}
	p.mu.Lock()
	p.draw(int(p.n.Load()))
	p.mu.Unlock()
	fmt.Fprintln(p.w)
}
