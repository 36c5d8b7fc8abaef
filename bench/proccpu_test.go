// Proves ProcCPU sums the CPU of a server's process tree: the processes
// named and every one below them (a PostgreSQL postmaster and its
// backends), each with its own user and system time and its exited
// children's, and no other process; that a server that is gone is an
// error; and, on this machine's /proc, that the test's own CPU shows.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func writeStat(t *testing.T, root string, pid, ppid int, comm string, utime, stime, cutime, cstime int) {
	t.Helper()
	dir := filepath.Join(root, fmt.Sprint(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%d (%s) S %d 1 1 0 -1 4194560 100 0 0 0 %d %d %d %d 20 0 1 0 100 1000 10 18446744073709551615\n",
		pid, comm, ppid, utime, stime, cutime, cstime)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestProcCPUSumsTheServerTree(t *testing.T) {
	root := t.TempDir()
	writeStat(t, root, 1, 0, "init", 5000, 5000, 0, 0)
	writeStat(t, root, 100, 1, "postgres", 100, 50, 30, 20)                     // postmaster, with exited backends' 50
	writeStat(t, root, 101, 100, "postgres: postgres postgres", 200, 100, 0, 0) // a backend
	writeStat(t, root, 102, 100, "postgres: walwriter", 10, 10, 0, 0)
	writeStat(t, root, 103, 101, "odd ) name (", 1, 2, 3, 4) // below a backend
	writeStat(t, root, 200, 1, "etcd", 700, 300, 0, 0)       // another server
	m := &ProcCPU{PIDs: []int{100}, Proc: root}
	got, err := m.ServerCPUSeconds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(100+50+30+20+200+100+10+10+1+2+3+4) / 100; got != want {
		t.Errorf("postgres tree: %v s, want %v", got, want)
	}
	m.PIDs = []int{100, 200}
	if got, _ := m.ServerCPUSeconds(context.Background()); got != 1530.0/100 {
		t.Errorf("two servers: %v s, want 15.3", got)
	}
	m.PIDs = []int{300}
	if _, err := m.ServerCPUSeconds(context.Background()); err == nil {
		t.Error("a server that is not running: no error")
	}
}

func TestProcCPUOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	m := &ProcCPU{PIDs: []int{os.Getpid()}}
	before, err := m.ServerCPUSeconds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		x++
	}
	after, err := m.ServerCPUSeconds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 0.05 || d > 5 {
		t.Errorf("300 ms of spinning read as %v CPU seconds (%d loops)", d, x)
	}
}
