package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Position is a place in a shard's change feed: the Raft index of the log
// entry whose apply made a change, and the change's ordinal among that
// entry's events. Positions of one shard are totally ordered.
type Position struct {
	Index   uint64
	Ordinal uint32
}

// After reports whether p comes after q in the feed.
func (p Position) After(q Position) bool {
	return p.Index > q.Index || p.Index == q.Index && p.Ordinal > q.Ordinal
}

// Event is one change of a shard's feed.
type Event struct {
	Shard      int
	Position   Position
	Kind       EventKind
	At         time.Time // the entry's time, stamped by the shard's leader
	ID         uint64    // reservation id (reservation events)
	SKU, Store string
	Customer   string
	Qty        int64 // units concerned
	Window     time.Time
	State      State  // the reservation's state after the change
	PickupCode uint64 // EvConfirmed
	Stock      int64  // the item's stock after EvItemPut / EvStockChanged
	Tier       uint8  // EvCustomer
	Blocked    bool   // EvCustomer
	Actor      string // EvItemPut, EvStockChanged: who made the change (the token's name)
	Reason     string // EvItemPut, EvStockChanged: why, as the operator wrote it
}

// Subscription follows one shard's change feed. Events arrive on Events()
// in feed order, each once. When the connection drops or the node stops
// serving the shard, the subscription reconnects by itself (with back-off)
// and resumes after the last event it delivered. It ends when its context
// ends, on its Close or the Client's, or with ErrFeedGap when the server no longer holds the
// resume position; Events() is then closed and Err() says why.
type Subscription struct {
	cl     *Client
	shard  int
	events chan Event
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	last  Position // the last event delivered
	err   error
	first uint64 // the first position of the current stream (the server's answer)
	head  uint64 // the shard's last applied position when the first stream began (Head)
}

// subscriptionBuffer is how many events wait for a slow consumer before the
// subscription stops reading (and the server, past its own bound, drops
// the connection; the subscription then resumes).
const subscriptionBuffer = 1024

// Subscribe follows shard's change feed after position after: the last
// event already handled (Subscription.Position of an earlier run, or an
// Event's Position), or the zero Position for everything the server still
// keeps. It returns once the server has accepted the subscription.
func (c *Client) Subscribe(ctx context.Context, shard int, after Position) (*Subscription, error) {
	if !c.enter() {
		return nil, ErrClientClosed
	}
	defer c.leave()
	if n := c.Shards(); shard < 0 || n > 0 && shard >= n {
		return nil, &ServerError{Code: engine.CodeBadRequest, Message: fmt.Sprintf("no shard %d of %d", shard, n)}
	}
	sctx, cancel := context.WithCancel(c.life)
	s := &Subscription{cl: c, shard: shard, events: make(chan Event, subscriptionBuffer),
		cancel: cancel, done: make(chan struct{}), last: after}
	st, err := s.connect(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	// The caller's context bounds the subscription's life, not only its start.
	stop := context.AfterFunc(ctx, cancel)
	if !c.background(func() { defer stop(); s.run(sctx, st) }) {
		cancel()
		st.nc.Close()
		return nil, ErrClientClosed
	}
	return s, nil
}

// Events returns the channel of events; it is closed when the subscription ends.
func (s *Subscription) Events() <-chan Event { return s.events }

// Err returns why the subscription ended (nil while it runs, and after a
// Close or the end of its context).
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Position returns the position of the last event put on Events. A
// consumer that must resume exactly across its own restarts stores the
// Position of each event once it has handled it, and subscribes after that.
func (s *Subscription) Position() Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Close ends the subscription and waits until Events is closed.
func (s *Subscription) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// stream is one connection carrying the subscription.
type stream struct {
	nc net.Conn
	rd *protocol.Reader
}

// subReqID is the request id of the SUBSCRIBE on its own connection.
const subReqID = 1

// connect opens a connection to the shard's leader, subscribes from the
// last delivered position and reads the server's answer.
func (s *Subscription) connect(ctx context.Context) (*stream, error) {
	rt := s.cl.route.Load()
	n := rt.nodeFor(s.shard, s.cl.rr.Add(1))
	nc, rd, _, err := handshake(ctx, n.addr, &s.cl.opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	from := s.last.Index // resume inside the entry of the last event; its ordinals are skipped
	s.mu.Unlock()
	_ = nc.SetDeadline(time.Now().Add(s.cl.opts.dialTimeout + s.cl.opts.requestTimeout))
	msg := protocol.AppendSubscribe(nil, subReqID, &protocol.Subscribe{Shard: uint16(s.shard), From: from})
	if _, err := nc.Write(msg); err != nil {
		nc.Close()
		return nil, err
	}
	f, err := rd.Next()
	if err == nil {
		err = s.accept(f, from)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return &stream{nc: nc, rd: rd}, nil
}

// accept reads the server's answer to SUBSCRIBE.
func (s *Subscription) accept(f protocol.Frame, from uint64) error {
	switch f.Op {
	case protocol.OpSubscribe:
		var sub protocol.Subscribed
		if err := protocol.DecodeSubscribed(f.Payload, &sub); err != nil {
			return protocolError(err)
		}
		if from > 0 && sub.First > from {
			return fmt.Errorf("%w (resume at %d, the feed starts at %d)", ErrFeedGap, from, sub.First)
		}
		s.mu.Lock()
		s.first = sub.First
		if s.head == 0 {
			s.head = sub.Last
		}
		s.mu.Unlock()
		return nil
	case protocol.OpNotLeader:
		s.cl.requestRefresh()
		return ErrNotLeader
	}
	err := frameError(f)
	if errors.Is(err, ErrNotFound) {
		// The server answers a position older than it keeps with not_found.
		return fmt.Errorf("%w: %w", ErrFeedGap, err)
	}
	return err
}

// run delivers events until the end, reconnecting when the stream breaks.
func (s *Subscription) run(ctx context.Context, st *stream) {
	defer close(s.done)
	defer close(s.events)
	stopRead := context.AfterFunc(ctx, func() { st.nc.Close() })
	attempt := 0
	for {
		err := s.follow(ctx, st)
		stopRead()
		st.nc.Close()
		if ctx.Err() != nil {
			return
		}
		for {
			if errors.Is(err, ErrFeedGap) || !retryableFeedError(err) {
				s.end(err)
				return
			}
			attempt++
			if !sleep(ctx, backoff(&s.cl.opts.retry, min(attempt, 30))) {
				return
			}
			st, err = s.connect(ctx)
			if err == nil {
				break
			}
		}
		attempt = 0
		stopRead = context.AfterFunc(ctx, func() { st.nc.Close() })
	}
}

// follow reads one stream's events until it breaks.
func (s *Subscription) follow(ctx context.Context, st *stream) error {
	var pe protocol.Event
	for {
		f, err := st.rd.Next()
		if err != nil {
			return err
		}
		if f.ReqID != subReqID || f.Op != protocol.OpEvent {
			return frameError(f) // the stream ends with an ERROR (unavailable, fell behind ...)
		}
		if err := protocol.DecodeEvent(f.Payload, &pe); err != nil {
			return protocolError(err)
		}
		ev := eventOf(&pe)
		s.mu.Lock()
		seen := s.last.Index != 0 && !ev.Position.After(s.last)
		s.mu.Unlock()
		if seen {
			continue // a resumed stream starts inside the last entry delivered
		}
		// Recorded before the send, so that Position is exact the moment a
		// consumer receives the event; undone if the event is never sent.
		s.mu.Lock()
		prev := s.last
		s.last = ev.Position
		s.mu.Unlock()
		select {
		case s.events <- ev:
		case <-ctx.Done():
			s.mu.Lock()
			s.last = prev
			s.mu.Unlock()
			return ctx.Err()
		}
	}
}

// retryableFeedError reports whether a broken stream is worth resuming.
func retryableFeedError(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		v := verdictOf(se.Code)
		return v == verdictRetry || v == verdictLeader || v == verdictUnknown
	}
	return true // a lost or refused connection: the node may come back
}

func (s *Subscription) end(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func eventOf(pe *protocol.Event) Event {
	e := &pe.Event
	return Event{Shard: int(pe.Shard), Position: Position{Index: pe.Position, Ordinal: pe.Ordinal},
		Kind: e.Kind, At: fromNanos(e.At), ID: e.ID, SKU: e.SKU, Store: e.Store, Customer: e.Customer,
		Qty: e.Qty, Window: fromNanos(e.Window), State: e.State, PickupCode: e.PickupCode,
		Stock: e.Stock, Tier: e.Tier, Blocked: e.Blocked, Actor: e.Actor, Reason: e.Reason}
}
