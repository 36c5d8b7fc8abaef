// A full disk, for real: invd runs on a small tmpfs (mounted by the test,
// which needs root; it skips elsewhere, and raftstore's diskguard tests
// cover the same logic with an injected probe on any machine). A filler
// file brings the filesystem's free space below disk_reserve_bytes: writes
// are then refused with disk_full while reads of what was acknowledged go
// on and the process stays up; the filler is deleted and writes resume by
// themselves. Each change of state is one log line. Then the server is
// restarted on a disk below its reserve (it starts, reads served, writes
// refused) and on a disk without room to open its store (it exits with one
// clear message instead of looping).
package main_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
)

const (
	// diskFS is the tmpfs's size: Pebble preallocates about 35 MiB per
	// write-ahead log with its default 32 MiB memtable, and a start needs
	// three memtables free.
	diskFS = 256 << 20
	// diskReserve is the reserve configured: above the 96 MiB a restart needs.
	diskReserve = 128 << 20
)

func TestDiskFullRefusesWritesAndRecovers(t *testing.T) {
	fs := filepath.Join(t.TempDir(), "fs")
	unmount, err := invdtest.MountTmpfs(fs, diskFS)
	if err != nil {
		t.Skip("needs a small filesystem: ", err)
	}
	t.Cleanup(func() {
		if err := unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	conf := fastRaft + fmt.Sprintf("disk_reserve_bytes = %d\ndisk_check_interval = 50ms\n", diskReserve)
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: filepath.Join(fs, "data"), Shards: 2, Config: conf})
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	c := dial(t, p)
	want(t, c, engine.OK, putItem("D", "S1", 1000))
	var ids []uint64
	for i := range 20 {
		ids = append(ids, want(t, c, engine.OK, reserve("D", "S1", fmt.Sprint("c", i), 1)).ID)
	}

	// Below the reserve: disk_full, reads go on, the process stays up.
	filler := filepath.Join(fs, "filler")
	fillTo(t, fs, filler, diskReserve-16<<20)
	refused, accepted := waitWriteCode(t, c, engine.CodeDiskFull)
	if !strings.Contains(refused.Message, "disk full") {
		t.Fatalf("disk_full message %q", refused.Message)
	}
	for _, id := range ids {
		if r := do(t, c, onID(engine.OpGetReservation, id)); r.Code != engine.OK || r.Reservation.State != engine.StateHeld {
			t.Fatalf("reservation %d on a full disk: %+v", id, r)
		}
	}
	if it := getItem(t, c, "D", "S1"); it.Held != int64(20+accepted) {
		t.Fatalf("item on a full disk: %+v", it)
	}
	m := scrape(t, p)
	if m["inv_disk_full"] != 1 || m["inv_disk_full_refused_total"] < 1 || m["inv_disk_reserve_bytes"] != diskReserve {
		t.Fatalf("metrics: full %v refused %v reserve %v", m["inv_disk_full"], m["inv_disk_full_refused_total"], m["inv_disk_reserve_bytes"])
	}
	linesFull := p.LogLines("level=")
	time.Sleep(time.Second) // a second of readings every 50 ms and refused writes
	for i := range 20 {
		if _, err := c.Do(ptr(reserve("D", "S1", fmt.Sprint("full", i), 1))); wire.CodeOf(err) != engine.CodeDiskFull {
			t.Fatalf("write %d on a full disk: %v", i, err)
		}
	}
	if grew := p.LogLines("level=") - linesFull; grew > 0 {
		t.Fatalf("%d log lines while full and refusing:\n%s", grew, p.Logs())
	}
	if !p.Alive() {
		t.Fatal("invd died on a full disk")
	}

	// Space back: writes resume by themselves.
	removeFile(t, filler)
	waitWriteCode(t, c, engine.OK)
	if full, back := p.LogLines(`msg="disk full`), p.LogLines(`msg="disk space back`); full != 1 || back != 1 {
		t.Fatalf("%d full and %d back lines:\n%s", full, back, p.Logs())
	}
	if m := scrape(t, p); m["inv_disk_full"] != 0 {
		t.Fatalf("inv_disk_full %v after space returned", m["inv_disk_full"])
	}

	// A restart below the reserve serves reads and refuses writes.
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	fillTo(t, fs, filler, diskReserve-16<<20)
	p = restart(t, p)
	c = dial(t, p)
	if r := do(t, c, onID(engine.OpGetReservation, ids[0])); r.Code != engine.OK {
		t.Fatalf("read after a restart on a full disk: %v", r.Code)
	}
	if _, err := c.Do(ptr(reserve("D", "S1", "after-restart", 1))); wire.CodeOf(err) != engine.CodeDiskFull {
		t.Fatalf("write after a restart on a full disk: %v", err)
	}

	// Without room to open the store: one clear message, no loop.
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	removeFile(t, filler)
	fillTo(t, fs, filler, 32<<20)
	_, err = p.Restart()
	if err == nil {
		t.Fatal("invd started with 32 MiB free")
	}
	msg := err.Error()
	if !strings.Contains(msg, "free space and start again") || strings.Count(msg, "level=ERROR") > 0 || strings.Count(msg, "\n") > 10 {
		t.Fatalf("start without room:\n%s", msg)
	}
}

// fillTo makes filler as large as it takes to leave free bytes free in fs.
func fillTo(t *testing.T, fs, filler string, free int64) {
	t.Helper()
	now, err := invdtest.FreeBytes(fs)
	if err != nil {
		t.Fatal(err)
	}
	if now <= free {
		t.Fatalf("only %d bytes free, want to leave %d", now, free)
	}
	if err := invdtest.Fill(filler, now-free); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// waitWriteCode reserves until the answer has code (OK: a result; else an
// ERROR reply), for at most 10 s, and returns that ERROR reply and how many
// reserves were taken on the way.
func waitWriteCode(t *testing.T, c *wire.Conn, code engine.Code) (last *wire.ErrorReply, accepted int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		r, err := c.Do(ptr(reserve("D", "S1", fmt.Sprint("probe", time.Now().UnixNano()), 1)))
		if err == nil && r.Code == engine.OK {
			accepted++
		}
		var er *wire.ErrorReply
		switch {
		case code == engine.OK && err == nil && r.Code == engine.OK:
			return nil, accepted
		case errors.As(err, &er) && er.Code == code:
			return er, accepted
		case err != nil && !errors.As(err, &er):
			t.Fatalf("write: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s: last %v %v", code, r.Code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }
