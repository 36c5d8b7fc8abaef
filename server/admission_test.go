// Admission's bookkeeping (admission.go), driven directly with connection
// structs: the per-address bound at and past its edge and its release on
// close, the pre-HELLO budget closing its oldest member when full, HELLO
// counted against max connections only, the hello-timeout sweep taking the
// oldest first, and every count back at zero once everything is closed.
// The e2e tests (cmd/invd/e2e_admission_test.go) prove the same against a
// real invd over sockets.
package server

import (
	"net"
	"testing"
	"time"
)

// newTestConn is a connection from ip, keyed as OnOpen keys it (addrKey).
func newTestConn(ip string) *conn {
	return &conn{addr: addrKey(&net.TCPAddr{IP: net.ParseIP(ip), Port: 40000})}
}

// checkCounts fails unless the admission holds npre pre-HELLO and nhello
// authenticated connections, and its list agrees with its count.
func checkCounts(t *testing.T, a *admission, npre, nhello int) {
	t.Helper()
	listed := 0
	for c := a.head; c != nil; c = c.preNext {
		listed++
	}
	if a.npre != npre || a.nhello != nhello || listed != npre {
		t.Fatalf("pre-HELLO %d (listed %d), authenticated %d; want %d and %d", a.npre, listed, a.nhello, npre, nhello)
	}
}

func TestAdmissionPerAddress(t *testing.T) {
	var a admission
	const limit = 3
	var held []*conn
	for range limit {
		c := newTestConn("10.0.0.1")
		if _, ok := a.open(c, limit, 100); !ok {
			t.Fatalf("connection %d of an address with a bound of %d refused", len(held)+1, limit)
		}
		held = append(held, c)
	}
	if _, ok := a.open(newTestConn("10.0.0.1"), limit, 100); ok {
		t.Fatal("a connection past the per-address bound admitted")
	}
	if _, ok := a.open(newTestConn("::ffff:10.0.0.1"), limit, 100); ok {
		t.Fatal("the IPv4-mapped form of a full address admitted")
	}
	other := newTestConn("10.0.0.2")
	if _, ok := a.open(other, limit, 100); !ok {
		t.Fatal("another address refused")
	}
	a.close(held[0])
	again := newTestConn("10.0.0.1")
	if _, ok := a.open(again, limit, 100); !ok {
		t.Fatal("a closed connection's place was not given back to its address")
	}
	if _, ok := a.open(newTestConn("10.0.0.3"), -1, 100); !ok {
		t.Fatal("a negative bound (off) refused")
	}
	for _, c := range append(held[1:], other, again) {
		a.close(c)
	}
	if len(a.perAddr) != 1 { // 10.0.0.3, still open
		t.Fatalf("per-address counts left: %v", a.perAddr)
	}
}

func TestAdmissionPreHelloBudget(t *testing.T) {
	var a admission
	const budget = 3
	var cs []*conn
	for i := range budget {
		c := newTestConn("10.0.0.1")
		if victim, ok := a.open(c, 0, budget); !ok || victim != nil {
			t.Fatalf("connection %d within the budget: ok %v, evicted %v", i, ok, victim)
		}
		cs = append(cs, c)
	}
	checkCounts(t, &a, budget, 0)
	late := newTestConn("10.0.0.2")
	victim, ok := a.open(late, 0, budget)
	if !ok || victim != cs[0] {
		t.Fatalf("past the budget: ok %v, evicted %p; want the oldest %p", ok, victim, cs[0])
	}
	checkCounts(t, &a, budget, 0)
	if cut, _ := a.hello(victim, 10); !cut {
		t.Fatal("an evicted connection completed HELLO")
	}
	for _, c := range append(cs[1:], late) {
		if cut, full := a.hello(c, 10); cut || full {
			t.Fatalf("HELLO within max connections: cut %v full %v", cut, full)
		}
	}
	checkCounts(t, &a, 0, budget)
	a.close(victim) // its OnClose comes later; it must not count twice
	checkCounts(t, &a, 0, budget)
	for _, c := range append(cs[1:], late) {
		a.close(c)
	}
	checkCounts(t, &a, 0, 0)
	if len(a.perAddr) != 0 {
		t.Fatalf("per-address counts left: %v", a.perAddr)
	}
}

func TestAdmissionMaxConnectionsCountsHelloOnly(t *testing.T) {
	var a admission
	const maxConns = 2
	var cs []*conn
	for range maxConns + 5 { // more open than max_connections: they have not said HELLO
		c := newTestConn("10.0.0.1")
		if _, ok := a.open(c, 0, 100); !ok {
			t.Fatal("a pre-HELLO connection refused with room in the budget")
		}
		cs = append(cs, c)
	}
	for i, c := range cs {
		cut, full := a.hello(c, maxConns)
		if cut || full != (i >= maxConns) {
			t.Fatalf("HELLO %d with max %d: cut %v full %v", i+1, maxConns, cut, full)
		}
	}
	checkCounts(t, &a, 5, maxConns)
	a.close(cs[0])
	if cut, full := a.hello(cs[maxConns], maxConns); cut || full {
		t.Fatalf("HELLO after an authenticated connection closed: cut %v full %v", cut, full)
	}
	checkCounts(t, &a, 4, maxConns)
}

func TestAdmissionHelloTimeoutSweep(t *testing.T) {
	var a admission
	old := []*conn{newTestConn("10.0.0.1"), newTestConn("10.0.0.1")}
	for _, c := range old {
		a.open(c, 0, 100)
	}
	time.Sleep(2 * time.Millisecond) // openAt is the clock at open: the cutoff must fall between
	cutoff := time.Now()
	young := newTestConn("10.0.0.1")
	a.open(young, 0, 100)
	hello := newTestConn("10.0.0.1")
	a.open(hello, 0, 100)
	a.hello(hello, 10)

	got := a.expired(nil, cutoff)
	if len(got) != 2 || got[0] != old[0] || got[1] != old[1] {
		t.Fatalf("expired %v, want the two opened before the cutoff, oldest first", got)
	}
	for _, c := range got {
		if c.stage != stageCut {
			t.Fatalf("an expired connection in stage %d", c.stage)
		}
	}
	checkCounts(t, &a, 1, 1)
	if got := a.expired(nil, cutoff); len(got) != 0 {
		t.Fatalf("a second sweep cut %d again", len(got))
	}
}
