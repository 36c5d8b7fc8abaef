package pages

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/raftstore"
)

// Shard is what Follow needs of one of the node's shard replicas
// (*raftstore.Shard has it): its durable change feed, reads of its applied
// state, its engine's counts, and whether this node replicates it at all
// (a node of a cluster may hold a subset of the shards).
type Shard interface {
	IsMember() bool
	ReadEvents(from raftstore.Position, max int, dst []raftstore.FeedEvent) ([]raftstore.FeedEvent, raftstore.Position, error)
	WaitEvents(ctx context.Context, from raftstore.Position) error
	OldestEvent() raftstore.Position
	Read(cmd *engine.Command) engine.Result
	Stats() engine.Stats
}

// Bounds and pace of the follower.
const (
	// followReadMax is how many events one read of the feed returns: a
	// Pebble iterator's worth, a few tens of KB.
	followReadMax = 1024
	// rereadEvery bounds how often a busy shard's touched items are read
	// again: a flash sale's hundreds of thousands of events a second cost
	// ten rounds of reads of its few hot items, not one per event. When
	// the feed goes quiet (for followGather) they are read at once.
	rereadEvery = 100 * time.Millisecond
	// followGather is the least time between two reads of a busy shard's
	// feed, and how long the feed must stay quiet before the touched items
	// are read again: well inside the 100 ms a clerk may wait for a code
	// confirmed a moment ago (docs/adr/0092).
	followGather = 20 * time.Millisecond
	// followRetry is the pause before a follower that failed starts over.
	followRetry = time.Second
)

// Follow keeps book from the change feeds of shards (shard i is the
// node's shard i) until ctx ends, one goroutine per shard, and returns when
// they all have. Each follower replays its feed from the oldest event kept
// (the counter's orders and codes), then reads the shard's items and
// stores once, then follows the feed live, reading again the items and
// stores whose events it sees. A follower whose feed was pruned under it,
// or that failed, starts over.
func Follow(ctx context.Context, shards []Shard, book *Book, log *slog.Logger) {
	var wg sync.WaitGroup
	for i, sh := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := follower{shard: uint16(i), sh: sh, book: book, log: log}
			f.run(ctx)
		}()
	}
	wg.Wait()
}

type follower struct {
	shard uint16
	sh    Shard
	book  *Book
	log   *slog.Logger
	buf   []raftstore.FeedEvent
	t     Touched
	// cmd, sku and store are the rereads' scratch: a busy shard reads
	// thousands of items a second, and Read keeps nothing of its command.
	cmd        engine.Command
	sku, store []byte
}

// read runs one read of an item (sku not empty) or of a store.
func (f *follower) read(op engine.Op, sku, store string) engine.Result {
	f.sku, f.store = append(f.sku[:0], sku...), append(f.store[:0], store...)
	f.cmd = engine.Command{Op: op, Store: f.store}
	if sku != "" {
		f.cmd.SKU = f.sku
	}
	return f.sh.Read(&f.cmd)
}

func (f *follower) run(ctx context.Context) {
	f.buf = make([]raftstore.FeedEvent, 0, followReadMax)
	for {
		err := f.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("pages: change feed follower starts over", "shard", f.shard, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(followRetry):
		}
	}
}

// follow replays, seeds and follows until an error (or ctx's end).
func (f *follower) follow(ctx context.Context) error {
	pos := f.sh.OldestEvent()
	f.book.startShard(f.shard, pos == raftstore.Position{}, pos)
	for { // replay: orders and codes only; the counts come from the read below
		evs, next, err := f.sh.ReadEvents(pos, followReadMax, f.buf[:0])
		if err != nil {
			return err
		}
		f.book.Apply(f.shard, evs, nil)
		pos = next
		if len(evs) < followReadMax {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	f.seed()
	f.book.shardLive(f.shard)
	f.log.Debug("pages: change feed follower live", "shard", f.shard, "position", pos.String())
	f.t.reset()
	var lastRead, lastReread time.Time
	for {
		// Pace the reads: under load every commit wakes the follower with a
		// handful of events, and a read per wake is a Pebble iterator (a
		// seek through every level) per commit per shard. Gathering for
		// followGather makes it one read per followGather per busy shard;
		// an event after a quiet spell is still read at once.
		if wait := followGather - time.Since(lastRead); wait > 0 {
			if err := sleepCtx(ctx, wait); err != nil {
				return err
			}
		}
		evs, next, err := f.sh.ReadEvents(pos, followReadMax, f.buf[:0])
		if err != nil {
			return err
		}
		lastRead = time.Now()
		f.book.Apply(f.shard, evs, &f.t)
		pos = next
		if f.t.Len() > 0 && lastRead.Sub(lastReread) >= rereadEvery {
			f.reread()
			lastReread = time.Now()
		}
		if len(evs) == followReadMax {
			continue // more stored already
		}
		if f.t.Len() > 0 {
			// Caught up with items still to read again: read them once the
			// feed stays quiet for followGather (or at the next read past
			// rereadEvery, whichever comes first).
			wctx, cancel := context.WithTimeout(ctx, followGather)
			err := f.sh.WaitEvents(wctx, pos)
			cancel()
			switch {
			case err == nil:
				continue
			case ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
				f.reread()
				lastReread = time.Now()
			default:
				return err
			}
		}
		if err := f.sh.WaitEvents(ctx, pos); err != nil {
			return err
		}
	}
}

// sleepCtx pauses for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// seed reads every item of the shard and the stores they name: the counts
// the events that came before the feed's oldest made.
func (f *follower) seed() {
	r := f.sh.Read(&engine.Command{Op: engine.OpListItems})
	stores := make(map[string]struct{})
	for i := range r.Items {
		f.book.SetItem(f.shard, &r.Items[i])
		stores[r.Items[i].Store] = struct{}{}
	}
	for store := range stores {
		f.readStore(store)
	}
}

// reread reads again what the events since the last time touched.
func (f *follower) reread() {
	for k := range f.t.Items {
		r := f.read(engine.OpGetItem, k.sku, k.store)
		if r.Code == engine.OK && r.Item != nil {
			f.book.SetItem(f.shard, r.Item)
		}
	}
	for store := range f.t.Stores {
		f.readStore(store)
	}
	f.t.reset()
}

func (f *follower) readStore(store string) {
	r := f.read(engine.OpGetStore, "", store)
	if r.Code == engine.OK && r.Store != nil {
		f.book.SetStore(f.shard, r.Store)
	}
}
