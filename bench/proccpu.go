package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ProcCPU is a CPUMeter over processes of this machine (Linux): the CPU
// seconds, user and system, of each of PIDs and of every process below it
// (PostgreSQL serves each connection from a child of its postmaster),
// read from /proc/PID/stat. A process counts with the time of its children
// that have exited (cutime, cstime), so a backend that ends during the run
// still counts, in its parent. The servers of etcd and PostgreSQL are
// measured so (bench/peers.sh passes their PIDs to invbench --server-pid).
type ProcCPU struct {
	PIDs []int
	// Proc is the proc file system's root; "" is /proc.
	Proc string
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go builds for.
const clockTicks = 100

// ServerCPUSeconds implements CPUMeter.
func (m *ProcCPU) ServerCPUSeconds(ctx context.Context) (float64, error) {
	if len(m.PIDs) == 0 {
		return 0, errors.New("no server process ids")
	}
	root := m.Proc
	if root == "" {
		root = "/proc"
	}
	stats, err := readProcStats(root)
	if err != nil {
		return 0, err
	}
	var ticks uint64
	for _, pid := range m.PIDs {
		if _, ok := stats[pid]; !ok {
			return 0, fmt.Errorf("process %d is not running", pid)
		}
	}
	for pid, st := range stats {
		if slices.Contains(m.PIDs, pid) || st.under(stats, m.PIDs) {
			ticks += st.ticks
		}
	}
	return float64(ticks) / clockTicks, ctx.Err()
}

// procStat is what ProcCPU reads of one process.
type procStat struct {
	ppid  int
	ticks uint64 // utime + stime + cutime + cstime
}

// under reports whether the process is one of roots or below one of them.
func (s procStat) under(stats map[int]procStat, roots []int) bool {
	cur := s
	for range 64 { // bound a parent chain gone wrong
		for _, r := range roots {
			if cur.ppid == r {
				return true
			}
		}
		next, ok := stats[cur.ppid]
		if !ok || cur.ppid <= 1 {
			return false
		}
		cur = next
	}
	return false
}

// readProcStats reads every /proc/PID/stat under root, by pid.
func readProcStats(root string) (map[int]procStat, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "[0-9]*", "stat"))
	if err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no processes under %s", root)
	}
	stats := make(map[int]procStat, len(dirs))
	for _, path := range dirs {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue // it ended meanwhile
		}
		st, err := parseProcStat(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		stats[pid] = st
	}
	return stats, nil
}

// parseProcStat reads ppid, utime, stime, cutime and cstime of a
// /proc/PID/stat line: "pid (comm) state ppid … utime stime cutime cstime …"
// (fields 4 and 14 to 17; comm may hold spaces and parentheses).
func parseProcStat(line string) (procStat, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, errors.New("no command name")
	}
	f := strings.Fields(line[i+1:]) // f[0] is field 3, the state
	if len(f) < 15 {
		return procStat{}, errors.New("too few fields")
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, err
	}
	var ticks uint64
	for _, s := range f[11:15] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return procStat{}, err
		}
		ticks += uint64(max(v, 0))
	}
	return procStat{ppid: ppid, ticks: ticks}, nil
}
