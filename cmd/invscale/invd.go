package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// readyWait bounds a start or restart of invd up to /readyz: a restart
// restores every shard's snapshot and replays its log, seconds per million
// items on a slow machine.
const readyWait = 5 * time.Minute

// stopWait bounds a graceful stop (invd's own shutdown bound is 30 s).
const stopWait = 60 * time.Second

// node is one invd process on loopback with its data folder.
type node struct {
	bin, data, config string
	listen, http      string
	shards            int
	cmd               *exec.Cmd
	exited            chan error
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs invd and waits for /readyz; it returns how long that took.
func (n *node) start(ctx context.Context) (time.Duration, error) {
	args := []string{"--data", n.data, "--listen", n.listen, "--http", n.http, "--pprof"}
	if n.shards > 0 {
		args = append(args, "--shards", strconv.Itoa(n.shards))
	}
	if n.config != "" {
		args = append(args, "--config", n.config)
	}
	n.cmd = exec.Command(n.bin, args...)
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(n.data), "invd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	begin := time.Now()
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		return 0, err
	}
	n.exited = make(chan error, 1)
	go func() { n.exited <- n.cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(readyWait)
	for time.Now().Before(deadline) {
		select {
		case err := <-n.exited:
			return 0, fmt.Errorf("invd exited before ready: %v (log: %s)", err, filepath.Join(filepath.Dir(n.data), "invd.log"))
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if r, err := http.Get("http://" + n.http + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return time.Since(begin), nil
			}
		}
	}
	return 0, fmt.Errorf("invd not ready within %s", readyWait)
}

// stop ends invd gracefully (SIGTERM) and waits for it.
func (n *node) stop() error {
	if n.cmd == nil || n.cmd.Process == nil {
		return nil
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.exited:
		n.cmd = nil
		return err
	case <-time.After(stopWait):
		_ = n.cmd.Process.Kill()
		<-n.exited
		n.cmd = nil
		return fmt.Errorf("invd did not stop within %s: killed", stopWait)
	}
}

// metrics scrapes /metrics into series name (with labels) -> value.
func (n *node) metrics() (map[string]float64, error) {
	r, err := http.Get("http://" + n.http + "/metrics")
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// perShard returns the values of a per-shard series, by shard label.
func perShard(m map[string]float64, name string) map[string]float64 {
	out := map[string]float64{}
	prefix := name + `{shard="`
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[strings.TrimSuffix(strings.TrimPrefix(k, prefix), `"}`)] = v
		}
	}
	return out
}

// rss reads the process's resident set from /proc (bytes).
func (n *node) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", n.cmd.Process.Pid)
}

// dirBytes is the size of every file under dir.
func dirBytes(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// heapProfile saves invd's heap profile to path (nothing when path is empty).
func (n *node) heapProfile(path string) error {
	if path == "" {
		return nil
	}
	r, err := http.Get("http://" + n.http + "/debug/pprof/heap")
	if err != nil {
		return err
	}
	defer r.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
