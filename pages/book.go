package pages

import (
	"sort"
	"sync"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/raftstore"
)

// Bounds of the book: it lives beside the engine in invd's memory, so each
// of its tables has a ceiling, and past it the pages say their figures are
// partial instead of growing without end.
const (
	// maxBookItems bounds the items (SKU × store) whose counts the book
	// keeps, about 150 bytes each: 40 MB at the bound, above the catalogue
	// of the largest chains' sale items per node.
	maxBookItems = 1 << 18
	// maxBookStores bounds the stores whose windows the book keeps (the
	// largest chain has over 6,000 stores).
	maxBookStores = 1 << 14
	// maxBookOrders bounds the orders the book follows for the counter
	// (confirmed ones, and finished ones for finishedKeep), about 120 bytes
	// each with their code index: 125 MB at the bound, a week of pickups
	// at a thousand stores.
	maxBookOrders = 1 << 20
	// finishedKeep is how long a collected, cancelled or expired order
	// stays in the book after it finished (in the engine's time): a second
	// scan of the same code that day says when it was collected.
	finishedKeep int64 = 36 * 3600 * 1e9
	// seriesSeconds is the span of the console's live chart.
	seriesSeconds = 120
)

// Book is what the pages show, kept from the change feed of this node's
// shards by Follow: each item's counts and each store's windows as last
// read (absolute, so that a repeated event cannot make them drift), the
// confirmed orders with their codes and windows (for the counter's check
// and its day), and the units reserved, confirmed and collected per second.
// Safe for concurrent use.
type Book struct {
	mu       sync.Mutex
	items    map[itemKey]*itemRow
	skus     map[string]*skuRow
	stores   map[string]*storeRow
	orders   map[uint64]*order
	codes    map[codeKey]uint64 // (store, code) → the order's id
	counts   map[countKey]*WindowCounts
	finished []finishedOrder // oldest first
	shards   map[uint16]*shardRow
	series   series
	left     leftOut
}

type itemKey struct{ sku, store string }

type itemRow struct {
	shard                            uint16
	stock, held, confirmed, pickedUp int64
	available                        int64
	storeName, skuName               string // the canonical copies (the maps' keys)
}

type skuRow struct {
	name                                        string
	stores                                      int
	stock, held, confirmed, pickedUp, available int64
}

type storeRow struct {
	name    string
	shard   uint16
	zone    string
	windows []engine.WindowInfo // the store's own windows: capacity across its SKUs, and use
}

// order is one confirmed order the counter may be asked about.
type order struct {
	shard  uint16
	store  string // canonical copies: the stores' and SKUs' map keys
	sku    string
	window int64
	qty    int64
	code   uint64
	state  engine.State
	at     int64 // when it reached its state (engine time)
}

type codeKey struct {
	store string
	code  uint64
}

// countKey names the counts of one store's window (0: orders without a
// window) as one shard sees them: a store's items lie in one shard
// (docs/adr/0071), but a data folder of the older placement spreads them,
// and a shard's counts are dropped whole when its follower starts over.
type countKey struct {
	store  string
	window int64
	shard  uint16
}

// WindowCounts are the counter's figures of one pickup window: orders
// (and their units) waiting to be collected, collected, and not collected
// by their deadline.
type WindowCounts struct {
	Due            int64 `json:"due"`
	DueUnits       int64 `json:"due_units"`
	Collected      int64 `json:"collected"`
	CollectedUnits int64 `json:"collected_units"`
	NoShow         int64 `json:"no_show"`
}

type finishedOrder struct {
	id uint64
	at int64
}

type shardRow struct {
	complete bool               // the feed held every event of the shard when the follower started
	live     bool               // replayed up to the feed's end and seeded from a read
	pos      raftstore.Position // the next position to read
}

// leftOut counts what the bounds kept out of the book.
type leftOut struct{ items, stores, orders int64 }

// NewBook returns an empty book.
func NewBook() *Book {
	return &Book{
		items: make(map[itemKey]*itemRow), skus: make(map[string]*skuRow),
		stores: make(map[string]*storeRow), orders: make(map[uint64]*order),
		codes: make(map[codeKey]uint64), counts: make(map[countKey]*WindowCounts),
		shards: make(map[uint16]*shardRow),
	}
}

// store returns the store's row, made on first sight; nil past the bound.
func (b *Book) store(shard uint16, name string) *storeRow {
	if st := b.stores[name]; st != nil {
		return st
	}
	if len(b.stores) >= maxBookStores {
		b.left.stores++
		return nil
	}
	st := &storeRow{name: name, shard: shard}
	b.stores[name] = st
	return st
}

// skuName returns the canonical copy of a SKU's name, and its row.
func (b *Book) sku(name string) *skuRow {
	if r := b.skus[name]; r != nil {
		return r
	}
	r := &skuRow{name: name}
	b.skus[name] = r
	return r
}

// SetItem records an item's counts as read from its shard.
func (b *Book) SetItem(shard uint16, info *engine.ItemInfo) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := itemKey{info.SKU, info.Store}
	row := b.items[k]
	if row == nil {
		if len(b.items) >= maxBookItems {
			b.left.items++
			return
		}
		st := b.store(shard, info.Store)
		if st == nil {
			return
		}
		s := b.sku(info.SKU)
		s.stores++
		row = &itemRow{shard: shard, storeName: st.name, skuName: s.name}
		b.items[itemKey{s.name, st.name}] = row
	}
	s := b.skus[row.skuName]
	s.stock += info.Stock - row.stock
	s.held += info.Held - row.held
	s.confirmed += info.Confirmed - row.confirmed
	s.pickedUp += info.PickedUp - row.pickedUp
	s.available += info.Available - row.available
	row.stock, row.held, row.confirmed, row.pickedUp, row.available =
		info.Stock, info.Held, info.Confirmed, info.PickedUp, info.Available
}

// SetStore records a store's zone and windows as read from its shard.
func (b *Book) SetStore(shard uint16, info *engine.StoreInfo) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.store(shard, info.Store)
	if st == nil {
		return
	}
	st.zone = info.Zone
	st.windows = append(st.windows[:0], info.Windows...)
}

// Apply records a run of one shard's feed events, in feed order, and adds
// to t (when not nil) the items and stores whose counts they changed.
func (b *Book) Apply(shard uint16, evs []raftstore.FeedEvent, t *Touched) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var newest int64
	for i := range evs {
		ev := &evs[i].Event
		newest = max(newest, ev.At)
		b.series.add(ev)
		b.applyOrder(shard, ev)
		if t != nil {
			t.add(ev)
		}
	}
	if row := b.shards[shard]; row != nil && len(evs) > 0 {
		row.pos = evs[len(evs)-1].Position.Next()
	}
	b.pruneFinished(newest - finishedKeep)
}

// applyOrder follows the counter's orders through one event.
func (b *Book) applyOrder(shard uint16, ev *engine.Event) {
	o := b.orders[ev.ID]
	switch ev.Kind {
	case engine.EvConfirmed:
		b.confirmed(shard, ev)
	case engine.EvPickedUp:
		b.finish(shard, ev, o, engine.StatePickedUp)
	case engine.EvNoShow:
		b.finish(shard, ev, o, engine.StateNoShow)
	case engine.EvCancelled:
		if o != nil && o.state == engine.StateConfirmed {
			b.finish(shard, ev, o, engine.StateCancelled)
		}
	case engine.EvRescheduled:
		if o != nil && o.state == engine.StateConfirmed && ev.Window != o.window {
			from := b.count(o.shard, o.store, o.window)
			from.Due--
			from.DueUnits -= o.qty
			o.window = ev.Window
			to := b.count(o.shard, o.store, o.window)
			to.Due++
			to.DueUnits += o.qty
		}
	case engine.EvReturned:
		if o != nil {
			o.state, o.at = engine.StateReturned, ev.At
		}
	}
}

// confirmed starts following an order: it is due in its window, and its
// code names it at its store.
func (b *Book) confirmed(shard uint16, ev *engine.Event) {
	if b.orders[ev.ID] != nil {
		return // a feed replayed after its follower restarted: counted once
	}
	if len(b.orders) >= maxBookOrders {
		b.left.orders++
		return
	}
	st := b.store(shard, ev.Store)
	if st == nil {
		return
	}
	o := &order{shard: shard, store: st.name, sku: b.sku(ev.SKU).name, window: ev.Window, qty: ev.Qty,
		code: ev.PickupCode, state: engine.StateConfirmed, at: ev.At}
	b.orders[ev.ID] = o
	b.codes[codeKey{o.store, o.code}] = ev.ID
	c := b.count(shard, o.store, o.window)
	c.Due++
	c.DueUnits += o.qty
}

// finish ends an order's wait. Collections and no-shows count even for
// orders the book did not follow (confirmed before the feed it replayed):
// the event names their store and window.
func (b *Book) finish(shard uint16, ev *engine.Event, o *order, st engine.State) {
	store, window, qty := ev.Store, ev.Window, ev.Qty
	if o != nil {
		if o.state != engine.StateConfirmed {
			return
		}
		store, window, qty = o.store, o.window, o.qty
		c := b.count(o.shard, store, window)
		c.Due--
		c.DueUnits -= qty
		o.state, o.at = st, ev.At
		b.finished = append(b.finished, finishedOrder{id: ev.ID, at: ev.At})
	}
	switch st {
	case engine.StatePickedUp:
		c := b.count(shard, store, window)
		c.Collected++
		c.CollectedUnits += qty
	case engine.StateNoShow:
		b.count(shard, store, window).NoShow++
	}
}

func (b *Book) count(shard uint16, store string, window int64) *WindowCounts {
	k := countKey{store, window, shard}
	c := b.counts[k]
	if c == nil {
		c = &WindowCounts{}
		b.counts[k] = c
	}
	return c
}

// pruneFinished drops the orders that finished before cutoff.
func (b *Book) pruneFinished(cutoff int64) {
	n := 0
	for n < len(b.finished) && b.finished[n].at < cutoff {
		f := b.finished[n]
		if o := b.orders[f.id]; o != nil && o.at == f.at {
			delete(b.orders, f.id)
			if k := (codeKey{o.store, o.code}); b.codes[k] == f.id {
				delete(b.codes, k)
			}
		}
		n++
	}
	if n > 0 {
		b.finished = append(b.finished[:0], b.finished[n:]...)
	}
}

// startShard marks a shard's follower as starting over from the feed's
// oldest position: what the book kept of the shard's orders goes (it is
// replayed), items and windows stay (they are absolute, and read again).
func (b *Book) startShard(shard uint16, complete bool, from raftstore.Position) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, o := range b.orders {
		if o.shard == shard {
			delete(b.orders, id)
			if k := (codeKey{o.store, o.code}); b.codes[k] == id {
				delete(b.codes, k)
			}
		}
	}
	for k := range b.counts {
		if k.shard == shard {
			delete(b.counts, k)
		}
	}
	b.shards[shard] = &shardRow{complete: complete, pos: from}
}

// forget drops everything the book holds, as a new book would be: the
// keeper's followers stopped, and the next ones replay the feeds again.
func (b *Book) forget() {
	n := NewBook()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items, b.skus, b.stores, b.orders, b.codes, b.counts, b.shards =
		n.items, n.skus, n.stores, n.orders, n.codes, n.counts, n.shards
	b.finished, b.series, b.left = nil, series{}, leftOut{}
}

// liveFor reports whether every shard of shards this node replicates is
// followed live.
func (b *Book) liveFor(shards []Shard) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, sh := range shards {
		if !sh.IsMember() {
			continue
		}
		if row := b.shards[uint16(i)]; row == nil || !row.live {
			return false
		}
	}
	return true
}

// shardLive marks a shard's follower as caught up with its feed.
func (b *Book) shardLive(shard uint16) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if row := b.shards[shard]; row != nil {
		row.live = true
	}
}

// Lookup finds the order a code names at a store, as the engine's pickup
// by code does (an order of another store is not found). complete says
// whether an order not found is known not to exist: every shard's follower
// is live, replayed its feed from the shard's first event, and the bounds
// left nothing out.
func (b *Book) Lookup(store string, code uint64) (id uint64, complete bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id = b.codes[codeKey{store, code}]; id != 0 {
		return id, true
	}
	complete = len(b.shards) > 0 && b.left == (leftOut{})
	for _, row := range b.shards {
		complete = complete && row.complete && row.live
	}
	return 0, complete
}

// StoreView is a store's zone and windows with the counter's figures.
type StoreView struct {
	Store   string       `json:"store"`
	Zone    string       `json:"zone"`
	Windows []WindowView `json:"windows"`
}

// WindowView is one pickup window of a store: its capacity across the
// store's SKUs, the units held, confirmed or collected in it, and the
// counter's figures. Start and End are Unix nanoseconds; a window of Start
// 0 gathers the orders without a window.
type WindowView struct {
	Start    int64 `json:"start"`
	End      int64 `json:"end"`
	Capacity int64 `json:"capacity"`
	Used     int64 `json:"used"`
	WindowCounts
}

// Store returns a store's view: its windows that end after from and start
// before to (every window when both are 0), and the orders without a window.
func (b *Book) Store(store string, from, to int64) (StoreView, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.stores[store]
	if st == nil {
		return StoreView{Store: store}, false
	}
	return b.storeView(st, from, to), true
}

func (b *Book) storeView(st *storeRow, from, to int64) StoreView {
	v := StoreView{Store: st.name, Zone: st.zone, Windows: []WindowView{}}
	for _, w := range st.windows {
		if (from != 0 || to != 0) && (w.End <= from || w.Start >= to) {
			continue
		}
		v.Windows = append(v.Windows, WindowView{Start: w.Start, End: w.End, Capacity: w.Quota, Used: w.Used,
			WindowCounts: b.countsOf(st.name, w.Start)})
	}
	if c := b.countsOf(st.name, 0); c != (WindowCounts{}) {
		v.Windows = append(v.Windows, WindowView{WindowCounts: c})
	}
	return v
}

// countsOf sums a window's counts over the shards.
func (b *Book) countsOf(store string, window int64) WindowCounts {
	var sum WindowCounts
	for shard := range b.shards {
		if c := b.counts[countKey{store, window, shard}]; c != nil {
			sum.Due += c.Due
			sum.DueUnits += c.DueUnits
			sum.Collected += c.Collected
			sum.CollectedUnits += c.CollectedUnits
			sum.NoShow += c.NoShow
		}
	}
	return sum
}

// SKUView is a SKU's counts summed over the stores that have it.
type SKUView struct {
	SKU         string  `json:"sku"`
	Stores      int     `json:"stores"`
	Stock       int64   `json:"stock"`
	Held        int64   `json:"held"`
	Confirmed   int64   `json:"confirmed"`
	PickedUp    int64   `json:"picked_up"`
	Available   int64   `json:"available"`
	SellThrough float64 `json:"sell_through"` // (confirmed + picked up) / stock
}

// BookStats says how much the book holds and what its bounds left out.
type BookStats struct {
	Items         int   `json:"items"`
	Stores        int   `json:"stores"`
	Orders        int   `json:"orders"`
	ItemsLeftOut  int64 `json:"items_left_out"`
	StoresLeftOut int64 `json:"stores_left_out"`
	OrdersLeftOut int64 `json:"orders_left_out"`
	ShardsLive    int   `json:"shards_live"`
	Shards        int   `json:"shards"`
}

// Overview is the book's part of the console.
type Overview struct {
	SKUs   []SKUView   `json:"skus"`
	Stores []StoreView `json:"stores"`
	Series Series      `json:"series"`
	Book   BookStats   `json:"book"`
}

// Overview returns the rows of the console: the rows most sold first, at
// most maxRows SKUs and maxRows stores (the stores whose windows are the
// fullest first), windows ending after from, and the live series up to
// the second now (Unix seconds).
func (b *Book) Overview(maxRows int, from int64, now int64) Overview {
	b.mu.Lock()
	defer b.mu.Unlock()
	ov := Overview{SKUs: []SKUView{}, Stores: []StoreView{}}
	for _, s := range b.skus {
		if s.stores == 0 {
			continue // known from an order only
		}
		v := SKUView{SKU: s.name, Stores: s.stores, Stock: s.stock, Held: s.held, Confirmed: s.confirmed,
			PickedUp: s.pickedUp, Available: s.available}
		if s.stock > 0 {
			v.SellThrough = float64(s.confirmed+s.pickedUp) / float64(s.stock)
		}
		ov.SKUs = append(ov.SKUs, v)
	}
	sort.Slice(ov.SKUs, func(i, j int) bool {
		a, c := ov.SKUs[i], ov.SKUs[j]
		if sa, sc := a.Confirmed+a.PickedUp+a.Held, c.Confirmed+c.PickedUp+c.Held; sa != sc {
			return sa > sc
		}
		return a.SKU < c.SKU
	})
	ov.SKUs = ov.SKUs[:min(len(ov.SKUs), maxRows)]
	type ranked struct {
		v    StoreView
		fill float64
	}
	var stores []ranked
	for _, st := range b.stores {
		if len(st.windows) == 0 {
			continue
		}
		v := b.storeView(st, from, 1<<62)
		fill := 0.0
		for _, w := range v.Windows {
			if w.Capacity > 0 {
				fill = max(fill, float64(w.Used)/float64(w.Capacity))
			}
		}
		if len(v.Windows) > 0 {
			stores = append(stores, ranked{v, fill})
		}
	}
	sort.Slice(stores, func(i, j int) bool {
		if stores[i].fill != stores[j].fill {
			return stores[i].fill > stores[j].fill
		}
		return stores[i].v.Store < stores[j].v.Store
	})
	for i := 0; i < len(stores) && i < maxRows; i++ {
		ov.Stores = append(ov.Stores, stores[i].v)
	}
	ov.Series = b.series.view(now)
	ov.Book = BookStats{Items: len(b.items), Stores: len(b.stores), Orders: len(b.orders),
		ItemsLeftOut: b.left.items, StoresLeftOut: b.left.stores, OrdersLeftOut: b.left.orders, Shards: len(b.shards)}
	for _, row := range b.shards {
		if row.live {
			ov.Book.ShardsLive++
		}
	}
	return ov
}

// Touched gathers the items and stores whose counts a run of events
// changed, for Follow to read again.
type Touched struct {
	Items  map[itemKey]struct{}
	Stores map[string]struct{}
}

func (t *Touched) add(ev *engine.Event) {
	if t.Items == nil {
		t.Items, t.Stores = make(map[itemKey]struct{}), make(map[string]struct{})
	}
	switch ev.Kind {
	case engine.EvReserved, engine.EvConfirmed, engine.EvCancelled, engine.EvExpired, engine.EvPickedUp,
		engine.EvNoShow, engine.EvRescheduled, engine.EvReturned:
		t.Items[itemKey{ev.SKU, ev.Store}] = struct{}{}
		if ev.Window != 0 || ev.Kind == engine.EvRescheduled {
			t.Stores[ev.Store] = struct{}{}
		}
	case engine.EvItemPut, engine.EvWindowPut, engine.EvStockChanged:
		t.Items[itemKey{ev.SKU, ev.Store}] = struct{}{}
	case engine.EvStorePut, engine.EvStoreWindow:
		t.Stores[ev.Store] = struct{}{}
	}
}

// Len is the number of items and stores gathered.
func (t *Touched) Len() int { return len(t.Items) + len(t.Stores) }

// touchedKeep is the most entries a run may leave in a map that reset
// clears for reuse; a larger one is dropped instead. Clearing keeps a map's
// storage, and ranging over a map costs its storage, not its entries: after
// one burst (a bulk load touches thousands of items a read) every later
// reread ranged over that storage, empty, at every quiet read of the feed,
// a quarter of a loading node's CPU.
const touchedKeep = 1024

// reset empties t for the next run.
func (t *Touched) reset() {
	if len(t.Items) > touchedKeep {
		t.Items = make(map[itemKey]struct{})
	} else {
		clear(t.Items)
	}
	if len(t.Stores) > touchedKeep {
		t.Stores = make(map[string]struct{})
	} else {
		clear(t.Stores)
	}
}

// follows returns how far the book follows each shard's feed.
func (b *Book) follows() []shardFollow {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]shardFollow, 0, len(b.shards))
	for shard, row := range b.shards {
		out = append(out, shardFollow{Shard: int(shard), Live: row.live, Complete: row.complete, Position: row.pos.String()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Shard < out[j].Shard })
	return out
}
