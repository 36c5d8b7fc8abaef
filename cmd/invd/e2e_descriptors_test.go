// File descriptors against a real invd started under a small limit
// (RLIMIT_NOFILE, set by the shell's ulimit before invd runs). At start:
// a hard limit one below what the configuration needs
// (server.DescriptorsNeeded) refuses the start with both numbers and the
// settings to change, the exact need starts, a low soft limit under a
// high enough hard one starts, and a default max_connections under a hard
// limit of 4096 is lowered to fit (with one warning) rather than refused. Running out: the test takes every
// descriptor the process has left with HTTP keep-alive connections (the
// HTTP port has no bound of its own), then connects to the protocol port,
// which must refuse at once (busy, or closed) and keep running, with
// /readyz (asked over a kept-alive connection) 503 naming the failing
// accepts; once the HTTP connections close, new clients are served again
// and /readyz is 200. The process's descriptors are counted in
// /proc/PID/fd, so the test runs where /proc does.
package main_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/server"
)

// fdConfig is the small configuration of these tests, and its need.
const fdConfig = `
event_loops = 2
max_connections = 16
max_unauthenticated_connections = 8
`

func fdNeed(t *testing.T) int {
	t.Helper()
	need, err := server.DescriptorsNeeded(server.Config{EventLoops: 2, MaxConnections: 16, MaxUnauthenticated: 8})
	if err != nil {
		t.Fatal(err)
	}
	return need.Total()
}

func startWithNoFile(t *testing.T, soft, hard uint64) (*invdtest.Proc, error) {
	t.Helper()
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: 2,
		Config: fastRaft + fdConfig, NoFileSoft: soft, NoFileHard: hard})
	if err == nil {
		cleanupProc(t, &p)
	}
	return p, err
}

func TestDescriptorLimitAtStart(t *testing.T) {
	need := uint64(fdNeed(t))
	_, err := startWithNoFile(t, need-1, need-1)
	if err == nil {
		t.Fatalf("invd started under a descriptor limit of %d, one below the %d it needs", need-1, need)
	}
	for _, s := range []string{fmt.Sprintf("is %d", need-1), fmt.Sprintf("the %d this configuration needs", need),
		"max_connections 16", "max_unauthenticated_connections 8", "ulimit -n"} {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("the refusal does not say %q:\n%v", s, err)
		}
	}
	p, err := startWithNoFile(t, need, need)
	if err != nil {
		t.Fatalf("invd refused a limit of exactly its need, %d: %v", need, err)
	}
	if err := dial(t, p).Ping(1); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	// A soft limit below the need under a hard one above it is raised.
	p, err = startWithNoFile(t, 64, need+100)
	if err != nil {
		t.Fatalf("invd refused a soft limit of 64 under a hard limit of %d: %v", need+100, err)
	}
	if err := dial(t, p).Ping(1); err != nil {
		t.Fatal(err)
	}
	// A DEFAULT max_connections under a common hard limit of 4096: the node
	// starts with max_connections lowered to fit, and says so once.
	p, err = invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: 2,
		Config:     "heartbeat_timeout = 100ms\nelection_timeout = 100ms\nleader_lease_timeout = 50ms\nevent_loops = 2\n",
		NoFileSoft: 1024, NoFileHard: 4096})
	if err != nil {
		t.Fatalf("invd with the default max_connections refused a hard limit of 4096: %v", err)
	}
	cleanupProc(t, &p)
	if err := dial(t, p).Ping(1); err != nil {
		t.Fatal(err)
	}
	if logs := p.Logs(); strings.Count(logs, "max_connections lowered to fit") != 1 {
		t.Errorf("want one line saying max_connections was lowered:\n%s", logs)
	}
}

// openFDs counts the descriptors the process has open.
func openFDs(t *testing.T, p *invdtest.Proc) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid()))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	return len(ents)
}

// httpKeeper is an HTTP/1.1 connection kept alive for more requests.
type httpKeeper struct {
	nc net.Conn
	r  *bufio.Reader
}

// get sends a GET and returns the status code and body, or an error when
// no answer comes within wait.
func (h *httpKeeper) get(path string, wait time.Duration) (int, string, error) {
	_ = h.nc.SetDeadline(time.Now().Add(wait))
	if _, err := fmt.Fprintf(h.nc, "GET %s HTTP/1.1\r\nHost: invd\r\n\r\n", path); err != nil {
		return 0, "", err
	}
	var code, length int
	chunked := false
	line, err := h.r.ReadString('\n')
	if err != nil {
		return 0, "", err
	}
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &code); err != nil {
		return 0, "", fmt.Errorf("status line %q: %v", line, err)
	}
	for {
		line, err := h.r.ReadString('\n')
		if err != nil {
			return 0, "", err
		}
		if line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length: "); ok {
			_, _ = fmt.Sscanf(v, "%d", &length)
		}
		chunked = chunked || strings.EqualFold(line, "transfer-encoding: chunked\r\n")
	}
	if chunked { // /metrics: larger than the server buffers
		body, err := io.ReadAll(httputil.NewChunkedReader(h.r))
		if err == nil {
			_, err = h.r.ReadString('\n') // the empty trailer
		}
		return code, string(body), err
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(h.r, body); err != nil {
		return 0, "", err
	}
	return code, string(body), nil
}

func TestOutOfDescriptors(t *testing.T) {
	need := fdNeed(t)
	p, err := startWithNoFile(t, uint64(need), uint64(need))
	if err != nil {
		t.Fatal(err)
	}
	before := dial(t, p)
	want(t, before, engine.OK, putItem("FD", "S1", 1000))

	// Take every descriptor left: HTTP connections until one is not
	// answered (the HTTP server cannot accept it).
	var keepers []*httpKeeper
	defer func() {
		for _, k := range keepers {
			k.nc.Close()
		}
	}()
	for len(keepers) <= need {
		nc, err := net.Dial("tcp", p.Opts.HTTP)
		if err != nil {
			t.Fatal(err)
		}
		k := &httpKeeper{nc: nc, r: bufio.NewReader(nc)}
		if _, _, err := k.get("/healthz", 2*time.Second); err != nil {
			t.Logf("HTTP connection %d not answered: %v", len(keepers)+1, err)
			nc.Close() // waiting in the backlog: the process is out of descriptors
			break
		}
		keepers = append(keepers, k)
	}
	if n := openFDs(t, p); n < need-1 {
		t.Fatalf("%d descriptors open of %d after %d HTTP connections: not exhausted", n, need, len(keepers))
	}
	t.Logf("out of descriptors after %d HTTP connections (%d open, limit %d)", len(keepers), openFDs(t, p), need)

	// The protocol port refuses at once, and keeps doing so.
	busy := 0
	for i := range 5 {
		nc, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
		if err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = nc.Write(protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "fd"}))
		f, err := protocol.NewReader(nc, 0).Next()
		if err == nil {
			if wire.CodeOf(wire.ReplyError(f)) != engine.CodeBusy {
				t.Fatalf("connect %d with no descriptor left: answered %s, want busy or closed", i, f.Op)
			}
			busy++
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connect %d with no descriptor left: no answer within 5 s", i)
		}
		nc.Close()
	}
	if !p.Alive() {
		t.Fatal("invd died out of descriptors")
	}
	code, body, err := keepers[0].get("/readyz", 5*time.Second)
	if err != nil || code != 503 || !strings.Contains(body, "accepting protocol connections fails") {
		t.Fatalf("/readyz out of descriptors: %d %q %v", code, body, err)
	}
	_, body, err = keepers[0].get("/metrics", 5*time.Second)
	m := parseMetrics(body)
	if err != nil || m[`inv_accept_errors_total{error="emfile"}`] < 5 ||
		m[`inv_connections_refused_total{reason="no_descriptors"}`] != float64(busy) || m["inv_protocol_accepting"] != 0 {
		t.Fatalf("/metrics out of descriptors (%v): accept errors %v, refused %v (%d answered busy), accepting %v", err,
			m[`inv_accept_errors_total{error="emfile"}`], m[`inv_connections_refused_total{reason="no_descriptors"}`],
			busy, m["inv_protocol_accepting"])
	}
	t.Logf("%d of 5 connects answered busy, the others closed", busy)
	if err := before.Ping(2); err != nil {
		t.Fatalf("a connection made before the shortage: %v", err)
	}

	// Descriptors back: new clients are served, and /readyz is 200 again.
	for _, k := range keepers {
		k.nc.Close()
	}
	keepers = nil
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := wireDial(p.Addr())
		if err == nil {
			want(t, c, engine.OK, reserve("FD", "S1", "after", 1))
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client served 15 s after the descriptors came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		code, body, err := p.HTTPGet("/readyz")
		if err == nil && code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the descriptors came back: %d %q %v", code, body, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(p.Logs(), "accepting a connection failed") {
		t.Fatal("no log line for the failed accepts")
	}
}
