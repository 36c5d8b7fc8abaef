package pages

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultBookIdle is how long the book keeps following the change feeds
// after the last request of the pages' API, unless configured otherwise.
const DefaultBookIdle = 10 * time.Minute

// wakeWait bounds how long a request that woke the book waits for it to
// catch up before answering with what it has (the pages say which shards
// are still catching up, and the counter's check says "not listed" rather
// than "bad code" until they are).
const wakeWait = 2 * time.Second

// Keeper runs Follow for a book while the pages are in use (docs/adr/0124).
// Following costs every shard a reader of its feed and the book's upkeep
// on every event: about a tenth of a busy node's CPU, paid for nothing when
// no console or counter is open. With an idle time, the book starts
// following at the first request of the API (Use) and stops, dropping what
// it holds, once no request came for that long; the next request starts it
// again from the feeds' oldest events, as a restart of invd would. With
// idle 0 it follows from Run's start to its end. Safe for concurrent use.
type Keeper struct {
	shards []Shard
	book   *Book
	log    *slog.Logger
	idle   time.Duration

	mu      sync.Mutex
	last    time.Time     // the latest Use
	running bool          // followers run, or are asked to start
	wake    chan struct{} // one pending start
}

// NewKeeper returns a keeper of book over the node's shards; idle is how
// long it follows after the last Use (0 or less: always).
func NewKeeper(shards []Shard, book *Book, idle time.Duration, log *slog.Logger) *Keeper {
	if log == nil {
		log = slog.Default()
	}
	return &Keeper{shards: shards, book: book, log: log, idle: max(idle, 0), wake: make(chan struct{}, 1)}
}

// following reports whether the followers run (or are about to start).
func (k *Keeper) following() bool {
	if k.idle == 0 {
		return true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.running
}

// Use records a request of the pages, and starts the followers when they
// are stopped. It reports whether this call started them.
func (k *Keeper) Use() (started bool) {
	if k.idle == 0 {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.last = time.Now()
	if k.running {
		return false
	}
	k.running = true
	select {
	case k.wake <- struct{}{}:
	default:
	}
	return true
}

// await waits, at most wakeWait or until ctx ends, for every shard this
// node replicates to be followed live.
func (k *Keeper) await(ctx context.Context) {
	deadline := time.Now().Add(wakeWait)
	for !k.book.liveFor(k.shards) && time.Now().Before(deadline) {
		if sleepCtx(ctx, 5*time.Millisecond) != nil {
			return
		}
	}
}

// Run keeps the book until ctx ends, and returns when its followers have.
func (k *Keeper) Run(ctx context.Context) {
	if k.idle == 0 {
		Follow(ctx, k.shards, k.book, k.log)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.wake:
		}
		k.log.Info("pages: the book follows the change feeds", "idle_stop", k.idle)
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			Follow(fctx, k.shards, k.book, k.log)
		}()
		stopped := k.watch(ctx)
		cancel()
		<-done
		k.book.forget()
		if !stopped {
			return // ctx ended
		}
		k.mu.Lock()
		if time.Now().Sub(k.last) < k.idle {
			// Used while the followers stopped: start again at once.
			select {
			case k.wake <- struct{}{}:
			default:
			}
		} else {
			k.running = false
		}
		k.mu.Unlock()
		k.log.Info("pages: the book stopped following: no request of the pages", "for", k.idle)
	}
}

// watch waits until no Use came for idle (true) or ctx ends (false).
func (k *Keeper) watch(ctx context.Context) bool {
	for {
		k.mu.Lock()
		left := k.idle - time.Now().Sub(k.last)
		k.mu.Unlock()
		if left <= 0 {
			return true
		}
		if sleepCtx(ctx, left) != nil {
			return false
		}
	}
}
