// Connections that never say HELLO, against a real invd with small
// budgets: silent sockets past max_unauthenticated_connections push out
// the oldest of their own kind and never lock out a client with a token
// (max_connections counts only connections that completed HELLO, and is
// tested at and past its edge with the silent sockets still open); the
// per-address bound at and past its edge, for one loopback address while
// another is still served, and its place given back when a connection
// closes; silent sockets closed once hello_timeout has passed, not before.
// Every step is checked in /metrics too. Sockets are polled with read
// deadlines: a closed one reads EOF, an open one times out.
package main_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

// isClosed reports whether the server has closed nc (EOF or reset within
// wait), reading and dropping anything it sent first.
func isClosed(nc net.Conn, wait time.Duration) bool {
	_ = nc.SetReadDeadline(time.Now().Add(wait))
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// silentSockets opens n connections that never send a byte.
func silentSockets(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	for range n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		conns = append(conns, nc)
	}
	return conns
}

// waitMetrics polls /metrics until ok accepts them, or fails after 10 s.
func waitMetrics(t *testing.T, p *invdtest.Proc, what string, ok func(m map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := scrape(t, p)
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s; metrics: pre_hello %v authenticated %v evicted %v timeout %v per_address %v max_connections %v",
				what, m["inv_connections_pre_hello"], m["inv_connections_authenticated"],
				m[`inv_pre_hello_closed_total{reason="evicted"}`], m[`inv_pre_hello_closed_total{reason="timeout"}`],
				m[`inv_connections_refused_total{reason="per_address"}`], m[`inv_connections_refused_total{reason="max_connections"}`])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settled waits until no connection without HELLO is left: the probes of
// the port that invdtest.Start makes are gone.
func settled(t *testing.T, p *invdtest.Proc) {
	t.Helper()
	waitMetrics(t, p, "no connection without HELLO at the start", func(m map[string]float64) bool {
		return m["inv_connections_pre_hello"] == 0
	})
}

func TestSilentSocketsDoNotLockOut(t *testing.T) {
	const maxConns, maxPre, extra = 12, 16, 40
	p := startInvd(t, 2, tokenConfig(storefrontToken)+fmt.Sprintf(`
max_connections = %d
max_unauthenticated_connections = %d
max_connections_per_address = 0
hello_timeout = 1m
`, maxConns, maxPre))
	admin := dialToken(t, p, operatorToken)
	want(t, admin, engine.OK, putItem("SILENT", "S1", 1000))
	settled(t, p)
	silent := silentSockets(t, p.Addr(), maxPre+extra)
	waitMetrics(t, p, "silent sockets past the pre-HELLO budget", func(m map[string]float64) bool {
		return m["inv_connections_pre_hello"] == maxPre && m[`inv_pre_hello_closed_total{reason="evicted"}`] == extra
	})
	closed := 0
	for _, nc := range silent {
		if isClosed(nc, 50*time.Millisecond) {
			closed++
		}
	}
	if closed != extra {
		t.Fatalf("%d of %d silent sockets closed; want the %d past the budget of %d", closed, len(silent), extra, maxPre)
	}

	// Clients with a token fill max_connections while the silent sockets
	// hold the whole pre-HELLO budget: each HELLO evicts one of them.
	clients := []*wire.Conn{admin}
	for len(clients) < maxConns {
		c := dialToken(t, p, storefrontToken)
		want(t, c, engine.OK, reserve("SILENT", "S1", fmt.Sprintf("real-%d", len(clients)), 1))
		clients = append(clients, c)
	}
	if _, err := wire.DialToken(p.Addr(), storefrontToken, 10*time.Second); wire.CodeOf(err) != engine.CodeBusy {
		t.Fatalf("HELLO past max_connections %d: %v, want busy", maxConns, err)
	}
	m := waitMetrics(t, p, "the counts after the clients", func(m map[string]float64) bool {
		return m["inv_connections_authenticated"] == maxConns &&
			m[`inv_connections_refused_total{reason="max_connections"}`] == 1
	})
	// The first client's connection found the budget full and pushed out
	// one more; its HELLO then left a place that each next one took.
	if got := m[`inv_pre_hello_closed_total{reason="evicted"}`]; got != extra+1 {
		t.Fatalf("%v evicted, want %d", got, extra+1)
	}
	// A place freed by a client that leaves goes to the next.
	clients[len(clients)-1].Close()
	waitMetrics(t, p, "a client's close", func(m map[string]float64) bool {
		return m["inv_connections_authenticated"] == maxConns-1
	})
	c := dialToken(t, p, storefrontToken)
	want(t, c, engine.OK, reserve("SILENT", "S1", "after-close", 1))
}

func TestPerAddressLimit(t *testing.T) {
	const perAddr = 5
	p := startInvd(t, 2, fmt.Sprintf("max_connections_per_address = %d\nhello_timeout = 1m\n", perAddr))
	settled(t, p)
	var held []*wire.Conn
	for len(held) < perAddr-1 {
		held = append(held, dial(t, p))
	}
	silent := silentSockets(t, p.Addr(), 1)[0] // counted too: the address is now at its bound
	waitMetrics(t, p, "the address at its bound", func(m map[string]float64) bool {
		return m["inv_connections_pre_hello"] == 1 && m["inv_connections_authenticated"] == perAddr-1
	})
	for i := range 3 {
		nc := rawConn(t, p)
		if code := readUntilError(t, protocol.NewReader(nc, 0), 0); code != engine.CodeBusy {
			t.Fatalf("connection %d past the per-address bound: %s, want busy", perAddr+1+i, code)
		}
		if !isClosed(nc, 5*time.Second) {
			t.Fatal("a connection past the per-address bound left open")
		}
	}
	waitMetrics(t, p, "the refusals", func(m map[string]float64) bool {
		return m[`inv_connections_refused_total{reason="per_address"}`] == 3
	})

	// Another address is served meanwhile.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 10 * time.Second}
	if nc, err := d.Dial("tcp", p.Addr()); err != nil {
		t.Logf("no second loopback address here (%v): that part is skipped", err)
	} else {
		t.Cleanup(func() { nc.Close() })
		r := protocol.NewReader(nc, 0)
		if _, err := nc.Write(protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "other"})); err != nil {
			t.Fatal(err)
		}
		_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if f, err := r.Next(); err != nil || f.Op != protocol.OpHello {
			t.Fatalf("a connection from 127.0.0.2 while 127.0.0.1 is at its bound: %v %v", f.Op, err)
		}
	}

	// A closed connection gives its place back.
	silent.Close()
	waitMetrics(t, p, "the silent socket's close", func(m map[string]float64) bool {
		return m["inv_connections_pre_hello"] == 0
	})
	c := dial(t, p)
	if err := c.Ping(3); err != nil {
		t.Fatalf("a connection after one of the address's closed: %v", err)
	}
}

func TestSilentSocketsClosedAfterHelloTimeout(t *testing.T) {
	const timeout = 400 * time.Millisecond
	p := startInvd(t, 2, fmt.Sprintf("hello_timeout = %s\n", timeout))
	witness := dial(t, p)
	var socks []net.Conn
	var opened []time.Time
	for range 10 {
		opened = append(opened, time.Now())
		socks = append(socks, silentSockets(t, p.Addr(), 1)[0])
	}
	opened = append(opened, time.Now())
	half := rawConn(t, p) // half a HELLO is no HELLO
	hello := protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "half"})
	if _, err := half.Write(hello[:len(hello)/2]); err != nil {
		t.Fatal(err)
	}
	socks = append(socks, half)
	for i, nc := range socks {
		if !isClosed(nc, 5*time.Second) {
			t.Fatalf("silent socket %d still open 5 s after hello_timeout %s", i, timeout)
		}
		if lived := time.Since(opened[i]); lived < timeout {
			t.Fatalf("silent socket %d closed after %s, before hello_timeout %s", i, lived, timeout)
		}
	}
	waitMetrics(t, p, "the timeouts counted", func(m map[string]float64) bool {
		return m[`inv_pre_hello_closed_total{reason="timeout"}`] == 11 && m["inv_connections_pre_hello"] == 0
	})
	if err := witness.Ping(1); err != nil {
		t.Fatalf("a connection that said HELLO was cut: %v", err)
	}
}

// TestTLSSilentSocketsAdmitted: sockets on the TLS port that never start a
// handshake are admitted like silent ones on the plain port: counted in the
// pre-HELLO budget, the oldest pushed out past it, the rest closed by
// hello_timeout; a TLS client with a token is served meanwhile.
func TestTLSSilentSocketsAdmitted(t *testing.T) {
	const maxPre, extra = 4, 3
	certPath, keyPath, pool := selfSigned(t)
	tlsAddr := invdtest.FreeAddr()
	p := startInvd(t, 2, tokenConfig(storefrontToken)+fmt.Sprintf(`
max_unauthenticated_connections = %d
hello_timeout = 2s
tls_listen = %s
tls_cert = %s
tls_key = %s
`, maxPre, tlsAddr, certPath, keyPath))
	settled(t, p)
	silent := silentSockets(t, tlsAddr, maxPre+extra)
	waitMetrics(t, p, "silent TLS sockets past the pre-HELLO budget", func(m map[string]float64) bool {
		return m["inv_connections_pre_hello"] == maxPre && m[`inv_pre_hello_closed_total{reason="evicted"}`] == extra
	})
	if _, _, code := tlsHello(t, tlsAddr, pool, storefrontToken); code != engine.CodeInternal { // CodeOf(nil): no ERROR
		t.Fatalf("HELLO over TLS beside silent sockets: %s", code)
	}
	for i, nc := range silent {
		if !isClosed(nc, 10*time.Second) {
			t.Fatalf("silent TLS socket %d still open after hello_timeout", i)
		}
	}
	waitMetrics(t, p, "the silent TLS sockets timed out", func(m map[string]float64) bool {
		// The client's connection, pre-HELLO for a moment, pushed out one
		// more; the rest waited out hello_timeout.
		return m["inv_connections_pre_hello"] == 0 && m["inv_connections_authenticated"] == 1 &&
			m[`inv_pre_hello_closed_total{reason="evicted"}`] == extra+1 &&
			m[`inv_pre_hello_closed_total{reason="timeout"}`] == maxPre-1
	})
}
