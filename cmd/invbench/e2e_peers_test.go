// Proves invbench's peer targets from the command line: flags that are
// inv's alone, an unknown target and an address beyond loopback are
// refused before anything is sent; and, where redis-server is installed
// (it skips otherwise), `invbench --target redis-always` runs a workload
// against a Redis started here with the peers' settings, prints the JSON
// line with target redis-always, the invariant ok and Redis's CPU per
// request, and `invbench table` puts it beside inv's.
package main_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invsys/inv/internal/invdtest"
)

func TestPeerTargetFlags(t *testing.T) {
	if bins == nil {
		t.Skip("end-to-end: needs invbench (not built with -short)")
	}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--target", "mongodb", "--workload", "flash-hot"}, 2, `unknown --target "mongodb"`},
		{[]string{"--target", "redis-always", "--token", "x", "--workload", "flash-hot"}, 2, "--token applies to --target inv only"},
		{[]string{"--target", "etcd", "--metrics", "127.0.0.1:1", "--workload", "flash-hot"}, 2, "--metrics applies to --target inv only"},
		{[]string{"--target", "postgres", "--server-pid", "x", "--workload", "flash-hot"}, 2, "is not a process id"},
		{[]string{"--target", "redis-always", "--addr", "192.0.2.1:6379", "--workload", "flash-hot"}, 3, "only loopback addresses"},
	} {
		out, errOut, code := invbench(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("invbench %v: exit %d, stderr %q (stdout %q); want %d and %q", c.args, code, errOut, out, c.code, c.says)
		}
	}
}

func TestRedisTargetRun(t *testing.T) {
	if bins == nil {
		t.Skip("end-to-end: needs invbench (not built with -short)")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (Debian: apt-get install redis-server): the redis target is not run")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	srv := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--dir", dir, "--appendonly", "yes",
		"--appendfsync", "always", "--save", "", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Logf("redis log:\n%s", b)
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not come up")
		}
	}
	out, errOut, code := invbench(t, "--target", "redis-always", "--addr", addr, "--workload", "flash-spread",
		"--scale", "1000", "--conns", "4", "--inflight", "4", "--duration", "30s", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "invariant ok" {
		t.Fatalf("last line %q\n%s", last, out)
	}
	js := lines[len(lines)-2]
	var l line
	if err := json.Unmarshal([]byte(js), &l); err != nil {
		t.Fatalf("JSON line %q: %v", js, err)
	}
	if l.Target != "redis-always" || l.Workload != "flash-spread" || l.Errors != 0 || !l.Complete || l.Reserved == 0 ||
		l.Requests != l.Successes+l.Refused || l.CPUus == nil || *l.CPUus <= 0 {
		t.Errorf("JSON line %s", js)
	}
	inv := `{"workload":"flash-spread","target":"inv","conns":4,"inflight":4,"scale":1000,"requests":3508,"errors":0,"ops_per_s":` +
		fmt.Sprint(2*l.OpsPerS) + `,"p50_us":100,"p99_us":200,"p999_us":300,"invariant":"ok","complete":true}`
	tab := exec.Command(bins["invbench"], "table")
	tab.Env = invdtest.Env()
	tab.Stdin = strings.NewReader(inv + "\n" + js + "\n")
	table, err := tab.Output()
	if err != nil || !strings.Contains(string(table), "| flash-spread | redis-always |") || !strings.Contains(string(table), "| 2.00x |") {
		t.Errorf("table (%v):\n%s", err, table)
	}
}
