// Package invtest runs a real invd for the tests of programs that use inv,
// as nats-server's test package or etcd's embed do for theirs:
//
//	func TestCheckout(t *testing.T) {
//		srv := invtest.Start(t)
//		err := srv.Client.PutItem(ctx, client.ItemSpec{SKU: "sku1", Store: "s1", Stock: 5})
//		...
//	}
//
// Start runs invd as a child process on free loopback ports with a fresh
// data folder (the test's temporary folder), waits until it serves, and
// returns its addresses and a client dialled to it. When the test ends the
// client is closed and invd is stopped gracefully; its log is shown if the
// test failed, and a data race invd reports fails the test.
//
// The invd binary is, in order: the one WithBinary names, the one the
// INV_INVD environment variable names, or one built from this module with
// go build, once per test process (with -race when the test runs under the
// race detector), kept in the user's cache folder (inv-invtest/, one
// binary per source folder of the module). The build needs the go command
// and the module's requirements; when the calling module's go.sum lacks
// the entries of invd's own dependencies, the build uses a temporary copy
// of go.mod and go.sum, so the caller's files are never changed.
//
// invd starts with raft timings for tests (elections in about 100 ms), at
// log level warn, with one shard unless WithShards says otherwise, and no
// tokens;
// WithConfig adds config lines (docs/OPERATIONS.md lists the keys) after
// those, so a key given there wins.
package invtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/invdtest"
)

// Bounds of a test server's life.
const (
	// dialTimeout bounds dialling the ready client: invd serves already.
	dialTimeout = 10 * time.Second
	// stopTimeout bounds the graceful stop at cleanup before invd is killed.
	stopTimeout = 30 * time.Second
)

// testConfig makes a one-node server ready in well under a second.
const testConfig = `heartbeat_timeout = 100ms
election_timeout = 100ms
leader_lease_timeout = 50ms
log_level = warn
`

// Server is a running invd.
type Server struct {
	// Addr is the protocol address (host:port), for client.Dial.
	Addr string
	// HTTP is the address of /metrics, /healthz and /readyz.
	HTTP string
	// Client is dialled to Addr with the options WithClientOptions gave,
	// and closed when the test ends.
	Client *client.Client

	t    testing.TB // Start's; nil for StartServer
	dir  string     // StartServer's folder, removed by Close
	proc *invdtest.Proc
}

type options struct {
	bin        string
	shards     int
	config     []string
	clientOpts []client.Option
}

// Option changes how Start runs invd.
type Option func(*options)

// WithBinary runs the invd at path instead of building one.
func WithBinary(path string) Option { return func(o *options) { o.bin = path } }

// WithShards sets the number of shards (default 1). A program whose rules
// span shards (a customer's limit across stores, carts) wants several.
func WithShards(n int) Option { return func(o *options) { o.shards = n } }

// WithConfig adds config file lines ("key = value"; several lines in one
// string are fine), after invtest's own, so that they win.
func WithConfig(lines string) Option {
	return func(o *options) { o.config = append(o.config, lines) }
}

// WithClientOptions are options of the ready client (a token, timeouts).
func WithClientOptions(opts ...client.Option) Option {
	return func(o *options) { o.clientOpts = append(o.clientOpts, opts...) }
}

// Start starts invd for the test and returns it once it serves; a failure
// to build or start it fails the test at once. Cleanup is registered on t.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := start(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("invtest: %v", err)
	}
	s.t = t
	t.Cleanup(s.cleanup)
	return s
}

// StartServer starts invd outside a test: for a TestMain that shares one
// server among its tests, or a runnable example. Its data lives in a
// folder of its own that Close removes; the caller must call Close.
func StartServer(opts ...Option) (*Server, error) {
	dir, err := os.MkdirTemp("", "invtest-")
	if err != nil {
		return nil, fmt.Errorf("invtest: %w", err)
	}
	s, err := start(dir, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("invtest: %w", err)
	}
	s.dir = dir
	return s, nil
}

// Close closes the client, stops invd gracefully and, for a StartServer
// server, removes its data. It reports a data race invd found.
func (s *Server) Close() error {
	if s.Client != nil {
		s.Client.Close()
	}
	err := s.Stop()
	if err == nil && s.proc.DataRace() {
		err = fmt.Errorf("invtest: invd reported a data race:\n%s", s.proc.Logs())
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
	return err
}

// start runs invd with its data under dir and dials the ready client.
func start(dir string, opts []Option) (*Server, error) {
	o := options{shards: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.shards < 1 {
		return nil, fmt.Errorf("WithShards(%d): want 1 or more", o.shards)
	}
	bin := o.bin
	if bin == "" {
		bin = os.Getenv("INV_INVD")
	}
	if bin == "" {
		var err error
		if bin, err = invdBinary(); err != nil {
			return nil, err
		}
	}
	config := testConfig
	for _, c := range o.config {
		config += strings.TrimRight(c, "\n") + "\n"
	}
	proc, err := invdtest.Start(invdtest.Options{Bin: bin, Data: filepath.Join(dir, "data"),
		Shards: o.shards, Config: config})
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: proc.Addr(), HTTP: proc.Opts.HTTP, proc: proc}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	if s.Client, err = client.Dial(ctx, []string{s.Addr}, o.clientOpts...); err != nil {
		s.Kill()
		return nil, fmt.Errorf("dial %s: %w", s.Addr, err)
	}
	return s, nil
}

// Logs returns what invd wrote so far (its last 16 KiB).
func (s *Server) Logs() string { return s.proc.Logs() }

// Stop stops invd gracefully (SIGTERM) and waits for it to exit; cleanup
// then has nothing left to do. A test of its program's behaviour when the
// engine goes away calls it (or Kill).
func (s *Server) Stop() error {
	if !s.proc.Alive() {
		return nil
	}
	if err := s.proc.Stop(stopTimeout); err != nil {
		return fmt.Errorf("invtest: stop: %w", err)
	}
	return nil
}

// Kill ends invd at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	if s.proc.Alive() {
		s.proc.Kill()
	}
}

func (s *Server) cleanup() {
	if s.Client != nil {
		s.Client.Close()
	}
	if err := s.Stop(); err != nil {
		s.t.Errorf("%v", err)
	}
	if s.proc.DataRace() {
		s.t.Errorf("invtest: invd reported a data race:\n%s", s.proc.Logs())
	} else if s.t.Failed() {
		s.t.Logf("invd log:\n%s", s.proc.Logs())
	}
}
