package server

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
)

// subscription streams one shard's durable change feed (raftstore's Feed,
// kept in Pebble under the node's retention) to one connection, on its own
// goroutine: subscriptions are few (downstream consumers), and a goroutine
// that waits on the feed is the simplest way to follow it without touching
// the event loops or the apply path. Because the feed is on disk, a
// consumer resumes from its last position across restarts of the node for
// as long as the retention keeps that position (docs/adr/0035).
type subscription struct {
	c     *conn
	reqID uint32
	shard uint16
	next  raftstore.Position // the next position to read
	stop  chan struct{}
}

// codeFeedGone is the code of a SUBSCRIBE whose position the feed no longer
// holds, and of the ERROR that ends a subscription that fell behind the
// retention: the consumer must resynchronise from a read (list_items) and
// subscribe again from the current position.
const codeFeedGone = engine.CodeNotFound

// subscribeBackoff is how long a subscription waits while its connection's
// outbound bytes are over half the limit, or the connection holds over its
// share of the node's reply budget: the consumer reads slower than the
// shard changes, and the durable feed, not the socket, should absorb it.
const subscribeBackoff = 10 * time.Millisecond

// serveSubscribe starts a subscription (event loop).
func (s *Server) serveSubscribe(c *conn, f protocol.Frame) {
	var req protocol.Subscribe
	if err := protocol.DecodeSubscribe(f.Payload, &req); err != nil {
		c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
		return
	}
	if int(req.Shard) >= len(s.shards) {
		c.sendError(f.ReqID, engine.CodeBadRequest, "no shard "+strconv.Itoa(int(req.Shard)))
		return
	}
	if len(c.subs) >= MaxSubscriptionsPerConn {
		c.sendError(f.ReqID, engine.CodeBusy, "too many subscriptions on this connection")
		return
	}
	sh := s.shards[req.Shard]
	oldest := sh.OldestEvent()
	start := raftstore.Position{Index: req.From}
	if req.From == 0 {
		start = oldest
	}
	if start.Less(oldest) {
		c.sendError(f.ReqID, codeFeedGone, prunedMessage(req.From, oldest))
		return
	}
	// subsWG.Add must not race Shutdown's Wait: both sides take subsMu, and
	// Shutdown sets draining before it waits.
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	if s.draining.Load() {
		c.sendError(f.ReqID, engine.CodeUnavailable, "server shutting down")
		return
	}
	sub := &subscription{c: c, reqID: f.ReqID, shard: req.Shard, next: start, stop: make(chan struct{})}
	c.subs = append(c.subs, sub)
	last := sh.AppliedIndex()
	c.lock()
	c.out = protocol.AppendSubscribed(c.out, f.ReqID, &protocol.Subscribed{Shard: req.Shard, First: start.Index, Last: last})
	c.unlock(true)
	s.subsWG.Add(1)
	go s.runSubscription(sub, sh)
}

// prunedMessage is the text of the not_found refusal of a position older
// than the feed keeps; it names the oldest position that can be served.
func prunedMessage(from uint64, oldest raftstore.Position) string {
	return "position " + strconv.FormatUint(from, 10) + " is older than this node keeps (oldest " +
		strconv.FormatUint(oldest.Index, 10) + "): resynchronise from a read"
}

func (s *Server) runSubscription(sub *subscription, sh *raftstore.Shard) {
	defer s.subsWG.Done()
	// ctx ends when the connection closes or the server stops, to free a
	// subscription waiting on the feed.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-sub.stop:
		case <-s.stopping:
		case <-ctx.Done():
		}
		cancel()
	}()
	buf := make([]raftstore.FeedEvent, 0, feedReadMax)
	for {
		evs, next, err := sh.ReadEvents(sub.next, feedReadMax, buf[:0])
		if err == nil && len(evs) == 0 {
			err = sh.WaitEvents(ctx, sub.next)
			if err == nil {
				continue
			}
		}
		if err != nil {
			s.endSubscription(sub, err)
			return
		}
		sub.next = next
		if !s.sendEvents(sub, evs) {
			return
		}
		for sub.c.outbound.Load() > int64(s.cfg.MaxOutboundBytes/2) || s.overShare(sub.c) {
			select {
			case <-time.After(subscribeBackoff):
			case <-ctx.Done():
				s.endSubscription(sub, ctx.Err())
				return
			}
		}
	}
}

// sendEvents encodes events into the connection's outbound buffer; false
// when the connection has closed.
func (s *Server) sendEvents(sub *subscription, evs []raftstore.FeedEvent) bool {
	c := sub.c
	c.lock()
	if c.closed {
		c.unlock(false)
		return false
	}
	for i := range evs {
		e := &evs[i]
		c.out = protocol.AppendEvent(c.out, sub.reqID, &protocol.Event{
			Shard: sub.shard, Position: e.Index, Ordinal: e.Ordinal, Event: e.Event})
	}
	c.unlock(false)
	return true
}

// endSubscription ends a stream with the ERROR that says why: the node
// stops (unavailable: resume elsewhere or later), the consumer fell behind
// the retention (not_found: resynchronise), or the feed failed (unavailable:
// a restart repairs it). A closed connection gets nothing.
func (s *Server) endSubscription(sub *subscription, err error) {
	code, msg := engine.CodeUnavailable, "the node is shutting down"
	var pruned *raftstore.EventsPrunedError
	switch {
	case errors.As(err, &pruned):
		code = codeFeedGone
		msg = "the subscription fell behind the events this node keeps: " + prunedMessage(pruned.From.Index, pruned.Oldest)
	case errors.Is(err, context.Canceled), errors.Is(err, raftstore.ErrClosed):
	default:
		msg = "change feed unavailable: " + err.Error()
	}
	c := sub.c
	c.lock()
	if !c.closed {
		c.appendError(sub.reqID, code, msg)
	}
	c.unlock(false)
}
