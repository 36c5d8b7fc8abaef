// A torn raft log on a single node: reservations are acknowledged by a real
// invd, which is then killed with SIGKILL; its newest Pebble write-ahead log
// (DATA/raft/*.log) is cut, as a crash on a disk that lost written data
// would leave it: to half its length, to nothing, to a few bytes, and by a
// few bytes off its end. Pebble recovers such a log without a word. On
// restart invd must either hold every acknowledged reservation or refuse to
// start naming the shard and the entries lost; with --accept-data-loss it
// then starts, says so once, records it in DATA/data-loss.log, serves the
// reservations that remain, and the next start needs no flag.
package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
)

func TestTornLogIsNeverSilent(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(size int64) int64
		// mustRefuse: the cut takes the last record, so the last
		// acknowledged entry with it.
		mustRefuse bool
	}{
		{"half", func(n int64) int64 { return n / 2 }, true},
		{"empty", func(int64) int64 { return 0 }, true},
		{"a few bytes left", func(int64) int64 { return 7 }, true},
		{"a few bytes off", func(n int64) int64 { return n - 3 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) { tornLogCase(t, tc.cut, tc.mustRefuse) })
	}
}

func tornLogCase(t *testing.T, cut func(int64) int64, mustRefuse bool) {
	const shards = 2
	p := startInvd(t, shards, "")
	c := dial(t, p)
	stores := []string{storeInShard("T", 0, shards), storeInShard("T", 1, shards)}
	for _, s := range stores {
		want(t, c, engine.OK, putItem("T", s, 100_000))
	}
	var acked []uint64
	for i := range 300 {
		r := want(t, c, engine.OK, reserve("T", stores[i%2], fmt.Sprint("c", i), 1))
		acked = append(acked, r.ID)
	}
	p.Kill()
	wal := cutNewestWAL(t, p.Opts.Data, cut)

	np, err := p.Restart()
	if err == nil {
		// Nothing acknowledged was lost: everything must be there.
		p = np
		if mustRefuse {
			t.Fatalf("started after %s lost its tail, without a word", wal)
		}
		checkAcked(t, dial(t, p), acked, len(acked))
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, "lost entries this node acknowledged") || !strings.Contains(msg, "entries lost") ||
		!strings.Contains(msg, "--accept-data-loss") {
		t.Fatalf("refusal does not name the loss:\n%s", msg)
	}
	if n := strings.Count(msg, "\n"); n > 12 {
		t.Fatalf("refusal of %d lines:\n%s", n, msg)
	}

	// Accepted: it starts, says so once, records it, serves what remains.
	o := p.Opts
	o.Args = []string{"--accept-data-loss"}
	p, err = invdtest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	if n := p.LogLines("ACCEPTING DATA LOSS"); n != 1 {
		t.Fatalf("%d acceptance lines:\n%s", n, p.Logs())
	}
	rec, err := os.ReadFile(filepath.Join(o.Data, "data-loss.log"))
	if err != nil || !strings.Contains(string(rec), `"entries_lost"`) {
		t.Fatalf("data-loss.log: %q %v", rec, err)
	}
	c = dial(t, p)
	kept := checkAcked(t, c, acked, 0)
	t.Logf("%s cut: %d of %d acknowledged reservations kept after the accepted loss", filepath.Base(wal), kept, len(acked))
	want(t, c, engine.OK, putItem("T", "AFTER", 1)) // writable

	// The loss was recorded: the next start needs no flag.
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	o.Args = nil
	p = restartOpts(t, o)
}

// cutNewestWAL cuts the newest write-ahead log of a data folder and returns
// its path.
func cutNewestWAL(t *testing.T, data string, cut func(int64) int64) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(data, "raft", "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no write-ahead log under %s: %v", data, err)
	}
	sort.Strings(logs) // zero-padded numbers: the newest sorts last
	wal := logs[len(logs)-1]
	st, err := os.Stat(wal)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(wal, cut(st.Size())); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes cut to %d", wal, st.Size(), cut(st.Size()))
	return wal
}

// checkAcked reads every acknowledged reservation; it fails the test when
// fewer than atLeast are held, and returns how many are.
func checkAcked(t *testing.T, c *wire.Conn, ids []uint64, atLeast int) int {
	t.Helper()
	kept := 0
	for _, id := range ids {
		r := do(t, c, onID(engine.OpGetReservation, id))
		switch {
		case r.Code == engine.OK && r.Reservation.State == engine.StateHeld:
			kept++
		case r.Code != engine.CodeNotFound:
			t.Fatalf("reservation %d: %v %+v", id, r.Code, r.Reservation)
		}
	}
	if kept < atLeast {
		t.Fatalf("%d of %d acknowledged reservations after the restart", kept, len(ids))
	}
	return kept
}

// restartOpts starts invd with o, killed at the end of the test.
func restartOpts(t *testing.T, o invdtest.Options) *invdtest.Proc {
	t.Helper()
	p, err := invdtest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	return p
}
