// This file starts the real invd the end-to-end tests of this package run
// against: TestMain builds cmd/invd into a temporary folder (with the race
// detector when the tests run with it, so the server's side of every test
// is checked too) and starts one shared server (4 shards, fresh data, free
// loopback ports); tests that kill or reconfigure a server start their
// own. With -short no server is built and the end-to-end tests skip.
package client_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/invdtest"
)

var (
	invdBin string         // the built invd, for tests that start their own
	tmpRoot string         // folder of the binary and every server's data
	shared  *invdtest.Proc // the server most tests share
	seq     atomic.Int64   // unique names across tests
)

// quietConfig keeps invd's log to warnings: the tests read it only when
// something fails.
const quietConfig = "log_level = warn\n"

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(runWithInvd(m))
}

func runWithInvd(m *testing.M) int {
	var err error
	if tmpRoot, err = os.MkdirTemp("", "inv-client-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmpRoot)
	bins, err := invdtest.Build(tmpRoot, "github.com/invsys/inv/cmd/invd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	invdBin = bins["invd"]
	if os.Getenv("INV_INVD") == "" {
		// The examples start their servers with invtest: this binary, not
		// a second build of it.
		os.Setenv("INV_INVD", invdBin)
	}
	shared, err = invdtest.Start(invdtest.Options{Bin: invdBin, Data: filepath.Join(tmpRoot, "shared"),
		Shards: 4, Config: quietConfig})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := shared.Stop(30 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "shared invd:", err)
	}
	if shared.DataRace() {
		fmt.Fprintf(os.Stderr, "the shared invd reported a data race:\n%s\n", shared.Logs())
		code = 1
	}
	return code
}

// needInvd skips under -short and returns a client of the shared server.
func needInvd(t testing.TB, opts ...client.Option) *client.Client {
	t.Helper()
	if shared == nil {
		t.Skip("end-to-end: needs invd (not built with -short)")
	}
	return dialServer(t, shared, opts...)
}

func dialServer(t testing.TB, s *invdtest.Proc, opts ...client.Option) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, []string{s.Addr()}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startOwn starts a server of the test's own (for kills and special
// configs); config is "key = value" lines. The test must stop it (stopOwn).
func startOwn(t testing.TB, shards int, config ...string) *invdtest.Proc {
	t.Helper()
	if invdBin == "" {
		t.Skip("end-to-end: needs invd (not built with -short)")
	}
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: filepath.Join(tmpRoot, fmt.Sprintf("own-%d", seq.Add(1))),
		Shards: shards, Config: quietConfig + strings.Join(config, "\n") + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// stopOwn stops a test's own server, and fails the test if the server's
// race detector found a race.
func stopOwn(t testing.TB, p *invdtest.Proc) {
	t.Helper()
	if p.Alive() {
		_ = p.Stop(30 * time.Second)
	}
	if p.DataRace() {
		t.Errorf("invd reported a data race:\n%s", p.Logs())
	} else if t.Failed() {
		t.Logf("invd log:\n%s", p.Logs())
	}
}

// uniq returns a name no other test uses (items, customers).
func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// ctxT returns a context bounded well inside the test timeout.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// putItem creates an item and fails the test if it cannot.
func putItem(t testing.TB, c *client.Client, spec client.ItemSpec) {
	t.Helper()
	if err := c.PutItem(ctxT(t), spec); err != nil {
		t.Fatalf("put item %s/%s: %v", spec.SKU, spec.Store, err)
	}
}

// countingHandler counts the client's log records by message, so a test
// can tell that what it provoked (a lost connection) really happened.
type countingHandler struct {
	mu     sync.Mutex
	counts map[string]int
}

func newCountingLogger() (*slog.Logger, *countingHandler) {
	h := &countingHandler{counts: map[string]int{}}
	return slog.New(h), h
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.counts[r.Message]++
	h.mu.Unlock()
	return nil
}

func (h *countingHandler) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[msg]
}
