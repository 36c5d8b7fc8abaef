package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// A live availability stream (docs/adr/0108). WatchAvailability follows the
// change feeds of the shards that hold the watched items and, whenever an
// event names one of them, reads the item again and sends its available
// count if it changed. The events only say which item changed: the count is
// always a read, so it is exactly what GetItem answers, never a sum of
// events a client could get wrong. On start, and whenever a shard's feed must be joined
// again (a gap), every item of that shard is read afresh before any event:
// an update is never missed, only coalesced.

// MaxWatchItems bounds the items one watch follows: every event of a
// watched item costs a read, and a storefront page shows tens of items,
// not thousands (a catalogue-wide view reads StoreItems instead).
const MaxWatchItems = 1024

// ItemRef names an item: a SKU at a store.
type ItemRef struct {
	SKU, Store string
}

// AvailabilityUpdate is an item's available count after a change (or on
// the watch's first read of it).
type AvailabilityUpdate struct {
	SKU, Store string
	Available  int64
	Item       Item // the whole read the count comes from
}

// AvailabilityWatch is a running WatchAvailability.
type AvailabilityWatch struct {
	updates chan AvailabilityUpdate
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

// Updates returns the channel of updates; it is closed when the watch ends.
func (w *AvailabilityWatch) Updates() <-chan AvailabilityUpdate { return w.updates }

// Err returns why the watch ended (nil while it runs and after Close or
// the end of its context).
func (w *AvailabilityWatch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close ends the watch and waits until Updates is closed.
func (w *AvailabilityWatch) Close() error {
	w.cancel()
	<-w.done
	return nil
}

func (w *AvailabilityWatch) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.cancel()
}

// WatchAvailability follows the available counts of items (1 to
// MaxWatchItems, each named once). The first update of each item is a
// fresh read; later ones come as the item changes. It returns once every
// shard's feed is joined.
func (c *Client) WatchAvailability(ctx context.Context, items []ItemRef) (*AvailabilityWatch, error) {
	byShard, err := c.watchPlan(items)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	w := &AvailabilityWatch{updates: make(chan AvailabilityUpdate, len(items)), cancel: cancel, done: make(chan struct{})}
	watchers := make([]*shardWatch, 0, len(byShard))
	for shard, refs := range byShard {
		sw := &shardWatch{cl: c, w: w, shard: shard, items: refs, last: map[ItemRef]int64{}}
		if sw.sub, err = c.SubscribeNow(ctx, shard); err != nil {
			cancel()
			for _, o := range watchers {
				o.sub.Close()
			}
			return nil, err
		}
		watchers = append(watchers, sw)
	}
	// The first reads run here, so that an unknown item is the call's error.
	for _, sw := range watchers {
		sw.dirty = sw.refresh(wctx, sw.items)
		if err := w.Err(); err != nil {
			cancel()
			for _, o := range watchers {
				o.sub.Close()
			}
			return nil, err
		}
	}
	var wg sync.WaitGroup
	for _, sw := range watchers {
		wg.Add(1)
		if !c.background(func() { defer wg.Done(); sw.run(wctx) }) {
			wg.Done()
			sw.sub.Close()
			w.fail(ErrClientClosed)
		}
	}
	go func() {
		wg.Wait()
		close(w.updates)
		close(w.done)
	}()
	return w, nil
}

// watchPlan checks the items and groups them by shard.
func (c *Client) watchPlan(items []ItemRef) (map[int][]ItemRef, error) {
	if len(items) == 0 || len(items) > MaxWatchItems {
		return nil, &ServerError{Code: engine.CodeBadRequest,
			Message: fmt.Sprintf("watch %d items: want 1 to %d", len(items), MaxWatchItems)}
	}
	shards := c.Shards()
	seen := make(map[ItemRef]bool, len(items))
	out := map[int][]ItemRef{}
	for _, it := range items {
		if err := checkIDs(it.SKU, it.Store); err != nil {
			return nil, err
		}
		if it.SKU == "" || it.Store == "" || seen[it] {
			return nil, &ServerError{Code: engine.CodeBadRequest, Message: fmt.Sprintf("watch item %q at %q: empty or named twice", it.SKU, it.Store)}
		}
		seen[it] = true
		sh := protocol.ShardOfStore([]byte(it.Store), max(shards, 1))
		out[sh] = append(out[sh], it)
	}
	return out, nil
}

// SubscribeNow follows shard's feed from its present: the changes made
// after it returns, none of the past. A first SUBSCRIBE far past the feed's
// end learns the shard's applied index (the server's answer) and delivers
// nothing; the subscription proper starts after that index's entry, whose
// changes a read made from now on already shows (docs/adr/0108).
func (c *Client) SubscribeNow(ctx context.Context, shard int) (*Subscription, error) {
	probe, err := c.Subscribe(ctx, shard, Position{Index: probeIndex})
	if err != nil {
		return nil, err
	}
	head := max(probe.Head(), 1)
	probe.Close()
	return c.Subscribe(ctx, shard, Position{Index: head, Ordinal: math.MaxUint32})
}

// probeIndex is a feed position no shard reaches: a subscription from it
// waits forever, and its answer names the shard's applied index.
const probeIndex = 1 << 62

// shardWatch follows one shard's items.
type shardWatch struct {
	cl    *Client
	w     *AvailabilityWatch
	shard int
	items []ItemRef
	sub   *Subscription
	last  map[ItemRef]int64 // the count last sent
	dirty []ItemRef         // items whose first read failed and is to be retried
}

func (sw *shardWatch) run(ctx context.Context) {
	defer func() { sw.sub.Close() }()
	watched := make(map[ItemRef]bool, len(sw.items))
	for _, it := range sw.items {
		watched[it] = true
	}
	dirty := sw.dirty
	attempt := 0
	for ctx.Err() == nil {
		dirty = sw.refresh(ctx, dirty)
		if len(dirty) > 0 { // a read failed (the shard is electing, a node restarting): again after a back-off
			attempt++
			if !sleep(ctx, backoff(&sw.cl.opts.retry, min(attempt, 30))) {
				return
			}
			continue
		}
		attempt = 0
		var ev Event
		var ok bool
		select {
		case ev, ok = <-sw.sub.Events():
		case <-ctx.Done():
			return
		}
		if !ok {
			if !sw.rejoin(ctx) {
				return
			}
			dirty = append(dirty, sw.items...)
			continue
		}
		dirty = sw.touched(watched, ev, dirty)
	drain: // coalesce: what is already waiting costs one read per item
		for {
			select {
			case ev, ok := <-sw.sub.Events():
				if !ok {
					break drain
				}
				dirty = sw.touched(watched, ev, dirty)
			default:
				break drain
			}
		}
	}
}

// touched adds the event's item to dirty if it is watched and not there yet.
func (sw *shardWatch) touched(watched map[ItemRef]bool, ev Event, dirty []ItemRef) []ItemRef {
	ref := ItemRef{SKU: ev.SKU, Store: ev.Store}
	if !watched[ref] {
		return dirty
	}
	for _, d := range dirty {
		if d == ref {
			return dirty
		}
	}
	return append(dirty, ref)
}

// refresh reads the dirty items and sends the counts that changed; it
// returns the items it could not read.
func (sw *shardWatch) refresh(ctx context.Context, dirty []ItemRef) []ItemRef {
	var failed []ItemRef
	for _, ref := range dirty {
		it, err := sw.cl.GetItem(ctx, ref.SKU, ref.Store)
		if err != nil {
			if ctx.Err() == nil && !retryableFeedError(err) && !errors.Is(err, ErrUnavailable) {
				sw.w.fail(fmt.Errorf("watch %s at %s: %w", ref.SKU, ref.Store, err))
				return nil
			}
			failed = append(failed, ref)
			continue
		}
		if prev, seen := sw.last[ref]; seen && prev == it.Available {
			continue
		}
		sw.last[ref] = it.Available
		select {
		case sw.w.updates <- AvailabilityUpdate{SKU: ref.SKU, Store: ref.Store, Available: it.Available, Item: it}:
		case <-ctx.Done():
			return nil
		}
	}
	return failed
}

// rejoin follows the shard's feed again after its subscription ended: a
// gap (the feed no longer holds where it stood) or an error it does not
// retry. The caller then reads every item afresh.
func (sw *shardWatch) rejoin(ctx context.Context) bool {
	if err := sw.sub.Err(); err != nil && !errors.Is(err, ErrFeedGap) {
		sw.w.fail(err)
		return false
	}
	for attempt := 1; ctx.Err() == nil; attempt++ {
		sub, err := sw.cl.SubscribeNow(ctx, sw.shard)
		if err == nil {
			sw.sub.Close()
			sw.sub = sub
			return true
		}
		if !sleep(ctx, backoff(&sw.cl.opts.retry, min(attempt, 30))) {
			break
		}
	}
	return false
}
