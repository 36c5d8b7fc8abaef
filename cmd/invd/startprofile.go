package main

import (
	"log/slog"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/invsys/inv/raftstore"
)

// startProfile is --start-profile FILE: a CPU profile of the start, from the
// first flag parsed to ready (every shard has a leader and has applied what
// it knows to be committed, what /readyz asks). /debug/pprof cannot show a
// start: the HTTP address opens only once the snapshots are restored and the
// logs replayed, which is where a restart spends its time.
type startProfile struct {
	once sync.Once
	f    *os.File
	log  *slog.Logger
}

// beginStartProfile starts the CPU profile into path; nil for no path.
func beginStartProfile(path string) (*startProfile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return &startProfile{f: f}, nil
}

// end stops the profile and closes its file; later calls do nothing.
func (p *startProfile) end() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		pprof.StopCPUProfile()
		err := p.f.Close()
		if p.log != nil {
			p.log.Info("start profile written", "file", p.f.Name(), "error", err)
		}
	})
}

// endWhenCaughtUp ends the profile once every shard this node replicates
// has a leader and has applied every entry it knows to be committed, or
// after timeout.
func (p *startProfile) endWhenCaughtUp(node *raftstore.Node, timeout time.Duration) {
	if p == nil {
		return
	}
	go func() {
		deadline := time.Now().Add(timeout)
		for i := 0; i < node.NumShards() && time.Now().Before(deadline); {
			sh := node.Shard(uint16(i))
			if addr, _ := sh.Leader(); !sh.IsMember() || (addr != "" && sh.AppliedIndex() >= sh.CommitIndex()) {
				i++
				continue
			}
			time.Sleep(5 * time.Millisecond)
		}
		p.end()
	}()
}
