// Proves each peer target against its real server, where the server is
// installed (Debian's redis-server, etcd-server, postgresql-15; each test
// skips, saying so, where its server is not): the test starts the server
// on loopback in a temporary folder with the peers' durability settings,
// then the target's per-request logic answers a known script (reserves up
// to sold out and a full window, confirm, cancel, a second confirm or
// cancel of the same hold) with the right outcomes and leaves the right
// counters; a small closed-loop run through bench.Run (flash-spread at
// scale 1000, 4 connections x 4 in flight) answers every request and
// passes the invariant check; and the server's CPU over the run is
// measured (Redis's INFO cpu, /proc for etcd and PostgreSQL). Redis
// started with appendfsync always refuses the redis-everysec target.
package peers

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invsys/inv/bench"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer starts cmd, stops it (SIGTERM, then SIGKILL after 10 s) when
// the test ends, and prints log on failure.
func startServer(t *testing.T, cmd *exec.Cmd, log string) {
	t.Helper()
	out, err := os.Create(log + ".out")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		out.Close()
		if t.Failed() {
			for _, f := range []string{log, log + ".out"} {
				if b, err := os.ReadFile(f); err == nil {
					t.Logf("%s:\n%s", f, b)
				}
			}
		}
	})
}

// waitUp retries up for at most 30 s.
func waitUp(t *testing.T, what string, up func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = up(); err == nil {
			return
		}
	}
	t.Fatalf("%s did not come up: %v", what, err)
}

func need(t *testing.T, bin string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s is not installed (Debian: see bench/peers.sh): the target is not run against its server", bin)
		}
		path = bin
	}
	return path
}

func TestRedisTarget(t *testing.T) {
	bin := need(t, "redis-server")
	dir := t.TempDir()
	port := freePort(t)
	startServer(t, exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--protected-mode", "yes",
		"--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
		"--logfile", filepath.Join(dir, "redis.log"), "--maxclients", "1000"), filepath.Join(dir, "redis.log"))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx := context.Background()

	everysec, err := New(ctx, RedisEverysec, addr, 4)
	if err != nil {
		t.Fatal(err)
	}
	waitUp(t, "redis", func() error { return everysec.(*RedisTarget).rdb.Ping(ctx).Err() })
	w, _ := bench.NewWorkload(bench.FlashHot, 50_000)
	if err := everysec.Load(ctx, w.Catalog()); err == nil || !strings.Contains(err.Error(), "appendfsync") {
		t.Errorf("redis-everysec against appendfsync always: %v, want a refusal", err)
	}
	everysec.Close()

	target, err := New(ctx, RedisAlways, addr, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	exercise(t, RedisAlways, target, target.(*RedisTarget))
}

func TestEtcdTarget(t *testing.T) {
	bin := need(t, "etcd")
	dir := t.TempDir()
	port, peer := freePort(t), freePort(t)
	client, peerURL := fmt.Sprintf("http://127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d", peer)
	cmd := exec.Command(bin, "--name", "peers", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "peers="+peerURL, "--quota-backend-bytes", "8589934592",
		"--logger", "zap", "--log-outputs", filepath.Join(dir, "etcd.log"))
	startServer(t, cmd, filepath.Join(dir, "etcd.log"))
	ctx := context.Background()
	target, err := New(ctx, Etcd, fmt.Sprintf("127.0.0.1:%d", port), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	waitUp(t, "etcd", func() error {
		c, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := target.(*EtcdTarget).cli.Get(c, "health")
		return err
	})
	exercise(t, Etcd, target, &bench.ProcCPU{PIDs: []int{cmd.Process.Pid}})
	t.Logf("etcd: %s", target.(*EtcdTarget).Note())
}

func TestPostgresTarget(t *testing.T) {
	pgbin := need(t, "/usr/lib/postgresql/15/bin/postgres")
	bindir := filepath.Dir(pgbin)
	// PostgreSQL refuses to run as root: as root, run it as user postgres.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root and there is no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "peers-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	as := func(cmd *exec.Cmd) *exec.Cmd {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := as(exec.Command(filepath.Join(bindir, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "-E", "UTF8")).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	cmd := as(exec.Command(pgbin, "-D", data, "-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "unix_socket_directories="+dir, "-c", "max_connections=200", "-c", "fsync=on",
		"-c", "synchronous_commit=on", "-c", "full_page_writes=on"))
	startServer(t, cmd, filepath.Join(dir, "pg.log"))
	ctx := context.Background()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitUp(t, "postgres", func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
	var target Target
	waitUp(t, "postgres connections", func() error {
		target, err = New(ctx, Postgres, addr, 4)
		if err == nil {
			err = target.(*PGTarget).pool.Ping(ctx)
			if err != nil {
				target.Close()
			}
		}
		return err
	})
	defer target.Close()
	exercise(t, Postgres, target, &bench.ProcCPU{PIDs: []int{cmd.Process.Pid}})
}

// exercise runs the known script and the small run on a target whose
// server is up.
func exercise(t *testing.T, name string, target Target, cpu bench.CPUMeter) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// flash-hot at scale 50,000: one item of 2 units.
	w, _ := bench.NewWorkload(bench.FlashHot, 50_000)
	cat := w.Catalog()
	if err := target.Load(ctx, cat); err != nil {
		t.Fatalf("load: %v", err)
	}
	conns, err := target.Connect(ctx, 1)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	c := conns[0]
	reserve := func(order int64, win int8, want bench.Outcome) {
		t.Helper()
		out, id, err := c.Reserve(ctx, request(cat, bench.KindReserve, order, 0, 0, win, 0))
		if out != want || (want == bench.OutcomeOK) != (id == uint64(order+1)) {
			t.Fatalf("reserve of order %d: %v, hold %d (%v); want %v", order, out, id, err, want)
		}
	}
	follow := func(k bench.Kind, order int64, want bench.Outcome) {
		t.Helper()
		r := request(cat, k, order, 0, 0, -1, uint64(order+1))
		var out bench.Outcome
		if k == bench.KindConfirm {
			out, err = c.Confirm(ctx, r)
		} else {
			out, err = c.Cancel(ctx, r)
		}
		if out != want {
			t.Fatalf("%s of order %d: %v (%v), want %v", k, order, out, err, want)
		}
	}
	reserve(0, -1, bench.OutcomeOK)
	reserve(1, -1, bench.OutcomeOK)
	reserve(2, -1, bench.OutcomeSoldOut)
	follow(bench.KindConfirm, 0, bench.OutcomeOK)
	follow(bench.KindConfirm, 0, bench.OutcomeNotFound)
	follow(bench.KindCancel, 0, bench.OutcomeNotFound) // confirmed, not held
	follow(bench.KindCancel, 1, bench.OutcomeOK)
	follow(bench.KindCancel, 1, bench.OutcomeNotFound)
	follow(bench.KindConfirm, 2, bench.OutcomeNotFound) // never held
	reserve(3, -1, bench.OutcomeOK)                     // the cancelled unit is back
	st, err := target.Dump(ctx, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Items) != 1 || st.Items[0].Held != 1 || st.Items[0].Confirmed != 1 || len(st.Holds) != 2 || !st.AllHolds ||
		st.Owned[bench.CustomerSKU{Customer: bench.CustomerID(1), SKU: bench.SKUID(0)}] != 0 {
		t.Fatalf("state after the script: %+v", st)
	}
	closeAll(conns)

	// pickup-window at scale 2,000: windows of 10.
	w, _ = bench.NewWorkload(bench.PickupWindow, 2000)
	cat = w.Catalog()
	if err := target.Load(ctx, cat); err != nil {
		t.Fatalf("load: %v", err)
	}
	if conns, err = target.Connect(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c = conns[0]
	for i := range int64(10) {
		reserve(i, 3, bench.OutcomeOK)
	}
	reserve(10, 3, bench.OutcomeWindowFull)
	reserve(11, 4, bench.OutcomeOK)
	if st, err = target.Dump(ctx, cat, nil); err != nil {
		t.Fatal(err)
	}
	if p := checkState(st, 3, 10, 4, 1); p != "" {
		t.Fatal(p)
	}
	closeAll(conns)

	// A small run through the harness, with the server's CPU.
	cfg := bench.DefaultConfig()
	cfg.Workload, cfg.Scale, cfg.Conns, cfg.Inflight = bench.FlashSpread, 1000, 4, 4
	cfg.Duration, cfg.Quiet, cfg.CPU, cfg.Target = time.Minute, true, cpu, name
	rep, err := bench.Run(ctx, cfg, target)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Invariant != bench.InvariantOK || rep.Errors != 0 || !rep.Complete || rep.Reserved == 0 ||
		rep.Counts[bench.KindConfirm][bench.OutcomeOK] == 0 || rep.Counts[bench.KindCancel][bench.OutcomeOK] == 0 {
		t.Fatalf("run: invariant %s %q, %d errors %q, complete %v, counts %v", rep.Invariant, rep.Problems,
			rep.Errors, rep.ErrorsSeen, rep.Complete, rep.Counts)
	}
	if us, ok := rep.CPUPerRequest(); !ok || us <= 0 {
		t.Errorf("server CPU not measured: %v %q", us, rep.ServerCPUErr)
	}
	t.Logf("%s", rep.JSON())
}

// checkState checks item 0/0's window counters after the window script.
func checkState(st *bench.State, full int8, n int64, other int8, m int64) string {
	for _, it := range st.Items {
		if it.SKU != bench.SKUID(0) || it.Store != bench.StoreID(0) {
			continue
		}
		if it.Held != n+m {
			return fmt.Sprintf("item 0/0 holds %d, want %d", it.Held, n+m)
		}
		for _, ws := range it.Windows {
			want := map[int64]int64{bench.WindowStart(int(full)): n, bench.WindowStart(int(other)): m}[ws.Start]
			if ws.Used != want || ws.Quota != 10 {
				return fmt.Sprintf("window %d: used %d of %d, want %d of 10", ws.Start, ws.Used, ws.Quota, want)
			}
		}
		return ""
	}
	return "item 0/0 missing"
}

func closeAll(conns []bench.Conn) {
	for _, c := range conns {
		if cl, ok := c.(interface{ Close() error }); ok {
			cl.Close()
		}
	}
}
