// Package invdtest runs real invd processes for end-to-end tests: it builds
// the binaries once, starts a server on free loopback ports with a data
// folder and a config file of the test's choosing, waits until it serves,
// and stops it gently (SIGTERM) or not at all (SIGKILL). Built with the
// failpoints tag (BuildTags), a server can also be made to crash, sleep or
// fail at a named site (internal/failpoint), armed at start or later.
package invdtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles the commands (import paths such as
// "github.com/invsys/inv/cmd/invd") into dir and returns the binaries' paths
// by command name. When the test binary itself runs under the race detector
// (RaceEnabled), so do the processes it starts: the server is where the
// concurrency is.
func Build(dir string, pkgs ...string) (map[string]string, error) {
	return BuildTags(dir, "", pkgs...)
}

// BuildTags is Build with build tags (comma-separated, as go build -tags
// takes them): "failpoints" builds an invd whose failpoints can be armed
// (internal/failpoint; Options.Failpoints and FailpointHTTP).
//
// When PrebuiltEnv names a folder that holds every command already built
// the same way (race detector and tags, read from each binary's build
// information), those binaries are used and nothing is built: make test
// builds them once for every package's tests instead of once per package.
func BuildTags(dir, tags string, pkgs ...string) (map[string]string, error) {
	if out, ok := prebuilt(os.Getenv(PrebuiltEnv), tags, pkgs); ok {
		return out, nil
	}
	out := make(map[string]string, len(pkgs))
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	if RaceEnabled {
		args = append(args, "-race")
	}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, pkgs...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, b)
	}
	for _, p := range pkgs {
		name := p[strings.LastIndex(p, "/")+1:]
		out[name] = filepath.Join(dir, name)
	}
	return out, nil
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago. The port comes from below the kernel's ephemeral range (Linux's
// default starts at 32768), where the outgoing connections of tests and
// servers cannot take it between this call and the server's bind, which a
// port the kernel handed out (":0") is exposed to. A port handed out before
// by this process is not handed out again.
func FreeAddr() string {
	portMu.Lock()
	defer portMu.Unlock()
	for range 1000 {
		port := portLow + rand.IntN(portHigh-portLow)
		if portsGiven[port] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		_ = ln.Close()
		portsGiven[port] = true
		return addr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The ports FreeAddr chooses from: [portLow, portHigh).
const (
	portLow  = 20000
	portHigh = 32000
)

var (
	portMu     sync.Mutex
	portsGiven = map[int]bool{}
)

// Options of one server process.
type Options struct {
	Bin    string // path of invd
	Data   string // data folder (kept across restarts by passing it again)
	Shards int    // 0: invd's default
	// Config is the config file's text (key = value lines); empty: none.
	Config string
	// Addr and HTTP, when empty, are chosen free.
	Addr, HTTP string
	// Args are extra command-line flags (such as --accept-data-loss).
	Args []string
	// Failpoints is the failpoint spec armed at start (INV_FAILPOINTS), and
	// FailpointHTTP the address of the failpoint endpoint
	// (INV_FAILPOINTS_HTTP) where Proc.Failpoint arms points later; both
	// need a binary built with the failpoints tag (BuildTags).
	Failpoints, FailpointHTTP string
	// NoFileSoft and NoFileHard, when set, are the file descriptor limits
	// (RLIMIT_NOFILE) invd starts under, set by /bin/sh's ulimit before it
	// execs invd. Both must be at most the test's own hard limit.
	NoFileSoft, NoFileHard uint64
}

// Proc is a running invd.
type Proc struct {
	Opts Options
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{}
	err  error
}

// startTimeout bounds the wait for a server to serve: opening Pebble,
// replaying logs, and an election per shard take a second or two.
const startTimeout = 60 * time.Second

// Start starts invd and waits until its protocol port accepts connections
// (invd opens it only once every shard has a leader).
func Start(o Options) (*Proc, error) {
	p, err := Launch(o)
	if err != nil {
		return nil, err
	}
	if err := p.WaitServing(startTimeout); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// Launch starts invd without waiting for it to serve: for a node that
// cannot serve until something else happens (its shards' leaders are on
// nodes still down). WaitServing waits for it.
func Launch(o Options) (*Proc, error) {
	if o.Addr == "" {
		o.Addr = FreeAddr()
	}
	if o.HTTP == "" {
		o.HTTP = FreeAddr()
	}
	args := []string{"--data", o.Data, "--listen", o.Addr, "--http", o.HTTP}
	if o.Shards > 0 {
		args = append(args, "--shards", fmt.Sprint(o.Shards))
	}
	if o.Config != "" {
		path := filepath.Join(o.Data + ".conf")
		if err := os.WriteFile(path, []byte(o.Config), 0o644); err != nil {
			return nil, err
		}
		args = append(args, "--config", path)
	}
	args = append(args, o.Args...)
	p := &Proc{Opts: o, logs: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(o.Bin, args...)
	if o.NoFileSoft > 0 || o.NoFileHard > 0 {
		p.cmd = withNoFile(o, args)
	}
	p.cmd.Env = Env()
	if o.Failpoints != "" {
		p.cmd.Env = append(p.cmd.Env, "INV_FAILPOINTS="+o.Failpoints)
	}
	if o.FailpointHTTP != "" {
		p.cmd.Env = append(p.cmd.Env, "INV_FAILPOINTS_HTTP="+o.FailpointHTTP)
	}
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// WaitServing waits up to timeout until the process serves: both its
// protocol and HTTP ports answer (the HTTP port opens after the protocol
// port, and tests read /metrics or /debug right away).
func (p *Proc) WaitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("invd exited at start: %v\n%s", p.err, p.Logs())
		default:
		}
		if listening(p.Opts.Addr) && listening(p.Opts.HTTP) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("invd did not serve within %s\n%s", timeout, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// withNoFile runs invd under the shell's ulimit, soft limit first (it
// must not exceed the hard one), then exec: the process, and its pid, is
// invd's own.
func withNoFile(o Options, args []string) *exec.Cmd {
	soft, hard := o.NoFileSoft, o.NoFileHard
	if hard == 0 {
		hard = soft
	}
	if soft == 0 {
		soft = hard
	}
	script := `ulimit -S -n "$1" && ulimit -H -n "$2" && shift 2 && exec "$@"`
	return exec.Command("/bin/sh", append([]string{"-c", script, "invd-ulimit",
		strconv.FormatUint(soft, 10), strconv.FormatUint(hard, 10), o.Bin}, args...)...)
}

// Restart starts a new process with the same options (same data, same ports).
func (p *Proc) Restart() (*Proc, error) { return Start(p.Opts) }

// Addr is the protocol address.
func (p *Proc) Addr() string { return p.Opts.Addr }

// Kill sends SIGKILL and waits for the process to be gone: a crash.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits for a graceful exit; it returns the exit error.
func (p *Proc) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return errors.New("invd did not stop in time; killed")
	}
}

// Wait waits up to timeout for the process to end by itself (a failpoint's
// crash) and returns its exit code; an error if it still runs.
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("invd still runs after %s", timeout)
	}
}

// Failpoint arms points of the failpoint spec (internal/failpoint's syntax;
// "" only reads) through the failpoint endpoint, and returns the armed
// points with their hits.
func (p *Proc) Failpoint(spec string) (string, error) {
	if p.Opts.FailpointHTTP == "" {
		return "", errors.New("invd was started without a failpoint endpoint")
	}
	cl := http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get("http://" + p.Opts.FailpointHTTP + "/?set=" + url.QueryEscape(spec))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("failpoint %q: %d %s", spec, resp.StatusCode, b)
	}
	return string(b), err
}

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Logs returns what the process wrote so far (its last 16 KiB).
func (p *Proc) Logs() string {
	s := p.logs.String()
	if len(s) > 16<<10 {
		s = "…" + s[len(s)-16<<10:]
	}
	return s
}

// LogLines counts the lines of the process's whole output that contain
// every one of subs.
func (p *Proc) LogLines(subs ...string) int {
	return countLines(p.logs.String(), subs...)
}

// countLines counts the lines of text that contain every one of subs.
func countLines(text string, subs ...string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		all := line != ""
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}

// DataRace reports whether the race detector flagged a race in the process.
func (p *Proc) DataRace() bool { return strings.Contains(p.logs.String(), "WARNING: DATA RACE") }

// HTTPGet fetches a path of the HTTP server.
func (p *Proc) HTTPGet(path string) (int, string, error) {
	cl := http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get("http://" + p.Opts.HTTP + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
