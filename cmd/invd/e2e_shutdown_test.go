// Graceful shutdown: with requests in flight on a pipelined connection and a
// subscription open, SIGTERM must let invd answer every request it accepted
// (ok, or unavailable for those that came after the drain began), end the
// subscription with ERROR unavailable, exit with status 0, and keep every
// acknowledged hold for the next start.
package main_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestGracefulStop(t *testing.T) {
	p := startInvd(t, 2, "")
	c := dial(t, p)
	store := storeInShard("GS", 0, 2)
	want(t, c, engine.OK, putItem("GS", store, 1_000_000))
	sc := dial(t, p)
	_, subID, err := sc.Subscribe(0, 0)
	if err != nil {
		t.Fatal(err)
	}

	const n = 20000 // more than one read takes: some wait in the socket when the stop begins
	pc := dial(t, p)
	var frames []byte
	for i := range n {
		cmd := reserve("GS", store, fmt.Sprintf("gs-%d", i), 1)
		frames = protocol.AppendRequest(frames, pc.NextID(), &cmd)
	}
	if err := pc.Send(frames); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop(30 * time.Second) }()

	var held []uint64
	for answered := 0; answered < n; answered++ {
		f, err := pc.Next()
		if err != nil {
			t.Fatalf("after %d replies: %v", answered, err)
		}
		if err := wire.ReplyError(f); err != nil {
			if wire.CodeOf(err) != engine.CodeUnavailable {
				t.Fatalf("request %d: %v", f.ReqID, err)
			}
			continue
		}
		var r engine.Result
		if err := protocol.DecodeResult(f.Payload, &r); err != nil || r.Code != engine.OK {
			t.Fatalf("request %d: %v %s", f.ReqID, err, r.Code)
		}
		held = append(held, r.ID)
	}
	for {
		f, err := sc.Next()
		if err != nil {
			t.Fatalf("subscription ended without an ERROR: %v", err)
		}
		if f.ReqID == subID && f.Op == protocol.OpError {
			if code := wire.CodeOf(wire.ReplyError(f)); code != engine.CodeUnavailable {
				t.Fatalf("subscription ended with %s", code)
			}
			break
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("invd exit: %v\n%s", err, p.Logs())
	}
	t.Logf("%d of %d pipelined reserves acknowledged before the stop", len(held), n)

	p = restart(t, p)
	cleanupProc(t, &p)
	c = dial(t, p)
	got := getReservations(t, c, held)
	for i, r := range got {
		if r.Code != engine.OK || r.State != engine.StateHeld {
			t.Fatalf("acknowledged hold %d after restart: %s %s", held[i], r.Code, r.State)
		}
	}
	if it := getItem(t, c, "GS", store); it.Held != int64(len(held)) {
		t.Fatalf("held %d after restart, %d acknowledged", it.Held, len(held))
	}
}
