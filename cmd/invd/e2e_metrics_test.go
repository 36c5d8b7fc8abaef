// This test proves that /metrics counts exactly what happened: a fresh
// invd (its own data) receives a known script of operations over one
// connection (items put, holds taken, confirmed and cancelled, refusals of
// every business kind: sold out, limit, window full, blocked, and a
// pickup locked after too many wrong codes), then the test scrapes /metrics
// and compares every request counter, reservation outcome, refusal and
// gauge with the script's own tally, value for value, and the commands the
// shards applied (the per-shard commands-per-entry histograms' sums) with
// the writes sent. It also checks
// /healthz and /readyz, the per-shard raft series, the wire byte counters,
// the reply budget's series (zero for a client that reads its replies),
// and that /debug/pprof is served only with --pprof. Last, every inv_
// metric that docs/OPERATIONS.md lists or docs/grafana-dashboard.json
// queries is one the server really writes (before and after a restart,
// which restores every shard from a snapshot).
//
// TestMetricsFreshNode proves the page is what Prometheus and its tools
// expect, on a node that has served nothing yet: Prometheus's own text
// parser reads it (one HELP and TYPE per family, each family's series
// together), every family has a help text and a type, every counter ends in
// _total and every _total is a counter, every histogram has le buckets (no
// VictoriaMetrics vmrange), and every metric docs/OPERATIONS.md lists or
// docs/grafana-dashboard.json queries is there from the start, as every
// inv_ family on the page is in OPERATIONS.md.
//
// TestMetricsSnapshotsPerShard counts snapshots and restores per shard
// exactly: one SNAPSHOT op is one snapshot of each shard, in its counter
// and its duration histogram; one with nothing new adds none; a restart
// restores each shard once, and the restore at open is counted although
// it happens before the server's metrics exist.
package main_test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

func TestMetricsExactCounts(t *testing.T) {
	// Snapshots every few entries, so that the snapshot histogram has
	// observations by the time the documents are checked.
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: 2,
		Config: fastRaft + "snapshot_threshold = 8\ntrailing_logs = 4\nsnapshot_interval = 50ms\n"})
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	c := dial(t, p)
	now := time.Now().UnixNano()

	// Script; the comments tally what /metrics must show.
	want(t, c, engine.OK, putItem("MA", "S1", 2))                                             // put_item ok 1
	h1 := want(t, c, engine.OK, reserve("MA", "S1", "c1", 1))                                 // reserve ok 1, held 1
	h2 := want(t, c, engine.OK, reserve("MA", "S1", "c2", 1))                                 // reserve ok 2, held 2
	want(t, c, engine.CodeSoldOut, reserve("MA", "S1", "c3", 1))                              // reserve sold_out 1
	conf := want(t, c, engine.OK, onID(engine.OpConfirm, h1.ID))                              // confirm ok 1, confirmed 1
	want(t, c, engine.OK, onID(engine.OpCancel, h2.ID))                                       // cancel ok 1, cancelled 1
	want(t, c, engine.OK, engine.Command{Op: engine.OpSetLimit, SKU: []byte("MB"), Limit: 1}) // set_limit ok 1 (every shard)
	want(t, c, engine.OK, putItem("MB", "S1", 10))                                            // put_item ok 2
	limCust := "c4"                                                                           // a customer of S1's shard: the limit is counted there, no claim elsewhere
	for i := 0; protocol.ShardOfCustomer([]byte(limCust), 2) != protocol.ShardOfStore([]byte("S1"), 2); i++ {
		limCust = fmt.Sprintf("c4-%d", i)
	}
	want(t, c, engine.CodeLimitExceeded, reserve("MB", "S1", limCust, 2))             // reserve limit_exceeded 1
	want(t, c, engine.OK, engine.Command{Op: engine.OpBlock, Customer: []byte("c9")}) // block ok 1
	want(t, c, engine.CodeBlocked, reserve("MB", "S1", "c9", 1))                      // reserve blocked 1
	want(t, c, engine.OK, putItem("MC", "S1", 10))                                    // put_item ok 3
	win := now + int64(time.Hour)
	want(t, c, engine.OK, engine.Command{Op: engine.OpPutWindow, SKU: []byte("MC"), Store: []byte("S1"),
		Window: win, WindowEnd: win + int64(time.Hour), Quota: 1}) // put_window ok 1
	inWin := reserve("MC", "S1", "c5", 1)
	inWin.Window = win
	want(t, c, engine.OK, inWin) // reserve ok 3, held 3
	inWin.Customer = []byte("c6")
	want(t, c, engine.CodeWindowFull, inWin) // reserve window_full 1
	wrong := engine.Command{Op: engine.OpPickup, ID: h1.ID, Store: []byte("S1"), PickupCode: conf.PickupCode ^ 1}
	for range 4 {
		want(t, c, engine.CodeBadCode, wrong) // pickup bad_code 4
	}
	want(t, c, engine.CodeLocked, wrong) // pickup locked 1: the fifth wrong code locks
	want(t, c, engine.CodeLocked, wrong) // pickup locked 2: still locked
	// By code alone: one shard (the store's) checks the code, so the
	// refusal counts once, not once per shard.
	byCode := engine.Command{Op: engine.OpPickup, Store: []byte("S1"), PickupCode: conf.PickupCode ^ 1}
	want(t, c, engine.CodeBadCode, byCode) // pickup bad_code 5, one refusal

	// The block's copy reached the other shard before the block was
	// answered; the home's outbox trim (one delivered command) follows it:
	// scrape once it is in.
	m := scrape(t, p)
	for deadline := time.Now().Add(5 * time.Second); m["inv_outbox_delivered_total"] < 1 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		m = scrape(t, p)
	}
	exact := map[string]float64{
		`inv_requests_total{op="put_item",result="ok"}`:            3,
		`inv_requests_total{op="reserve",result="ok"}`:             3,
		`inv_requests_total{op="reserve",result="sold_out"}`:       1,
		`inv_requests_total{op="reserve",result="limit_exceeded"}`: 1,
		`inv_requests_total{op="reserve",result="blocked"}`:        1,
		`inv_requests_total{op="reserve",result="window_full"}`:    1,
		`inv_requests_total{op="confirm",result="ok"}`:             1,
		`inv_requests_total{op="cancel",result="ok"}`:              1,
		`inv_requests_total{op="block",result="ok"}`:               1,
		`inv_requests_total{op="put_window",result="ok"}`:          1,
		`inv_requests_total{op="pickup",result="bad_code"}`:        5,
		`inv_requests_total{op="pickup",result="locked"}`:          2,
		`inv_request_duration_seconds_count{op="reserve"}`:         7,
		`inv_reservations_total{outcome="held"}`:                   3,
		`inv_reservations_total{outcome="confirmed"}`:              1,
		`inv_reservations_total{outcome="cancelled"}`:              1,
		`inv_reservations_total{outcome="picked_up"}`:              0,
		`inv_reservations_total{outcome="expired"}`:                0,
		`inv_reservations_total{outcome="no_show"}`:                0,
		`inv_reservations_total{outcome="returned"}`:               0,
		`inv_refusals_total{reason="sold_out"}`:                    1,
		`inv_refusals_total{reason="limit_exceeded"}`:              1,
		`inv_refusals_total{reason="window_full"}`:                 1,
		`inv_refusals_total{reason="blocked"}`:                     1,
		`inv_refusals_total{reason="bad_code"}`:                    5,
		`inv_pickups_locked_total`:                                 2,
		`inv_active_holds`:                                         1, // c5's hold in the window
		`inv_awaiting_pickup`:                                      1, // h1, confirmed (and locked)
		`inv_items`:                                                3,
		`inv_connections_open`:                                     1,
		`inv_requests_in_flight`:                                   0,
		`inv_shard_raft_state{shard="0",state="Leader"}`:           1,
		`inv_shard_raft_state{shard="1",state="Leader"}`:           1,
		`inv_shard_raft_state{shard="0",state="Follower"}`:         0,
	}
	for name, v := range exact {
		got, ok := m[name]
		if !ok {
			t.Errorf("/metrics lacks %s", name)
		} else if got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	// A client that reads its replies leaves nothing held, paused or cut
	// for the reply budget (server/replybudget.go).
	for _, name := range []string{"inv_reply_buffer_bytes", "inv_connections_paused",
		`inv_slow_consumers_cut_total{reason="write_timeout"}`, `inv_slow_consumers_cut_total{reason="max_outbound_bytes"}`,
		`inv_slow_consumers_cut_total{reason="unread_while_paused"}`} {
		if got, ok := m[name]; !ok || got != 0 {
			t.Errorf("%s = %v (written %v), want 0", name, got, ok)
		}
	}
	// Every write went through the log: 25 commands (set_limit is kept per
	// shard, so it is one command on each of the 2 shards; block is one at
	// the customer's home, its copy on the other shard and the home's
	// outbox trim, docs/adr/0072),
	// whatever the group commit made of them.
	if n := m[`inv_shard_entry_commands_sum{shard="0"}`] + m[`inv_shard_entry_commands_sum{shard="1"}`]; n != 25 {
		t.Errorf("commands applied (inv_shard_entry_commands_sum) = %v, want 25", n)
	}
	positive := []string{`inv_shard_apply_duration_seconds_count{shard="0"}`, `inv_shard_apply_batch_entries_count{shard="1"}`, "inv_received_bytes_total", "inv_sent_bytes_total",
		`inv_shard_commit_index{shard="0"}`, `inv_shard_applied_index{shard="0"}`, `inv_shard_log_entries{shard="0"}`, `inv_shard_snapshot_threshold{shard="0"}`,
		`inv_shard_feed_events{shard="0"}`, "go_goroutines", "process_resident_memory_bytes"}
	for _, name := range positive {
		if m[name] <= 0 {
			t.Errorf("%s = %v, want > 0", name, m[name])
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body, err := p.HTTPGet(path); err != nil || code != 200 {
			t.Errorf("%s: %d %q %v", path, code, body, err)
		}
	}
	if code, _, err := p.HTTPGet("/debug/pprof/"); err != nil || code != 404 {
		t.Errorf("/debug/pprof/ without --pprof: %d %v, want 404", code, err)
	}

	// A BATCH frame and a few ticks, so that every histogram has been
	// written at least once.
	if _, err := c.Batch([]engine.Command{reserve("MB", "S1", "b1", 1), reserve("MB", "S1", "b2", 1)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	written := map[string]bool{}
	addWritten := func() {
		for series := range scrape(t, p) {
			name, _, _ := strings.Cut(series, "{")
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				name = strings.TrimSuffix(name, suffix)
			}
			written[name] = true
		}
	}
	addWritten()
	// Restored series appear once a shard restores: restart on snapshots.
	if _, err := c.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	p = restart(t, p)
	addWritten()
	for _, doc := range []string{"../../docs/OPERATIONS.md", "../../docs/grafana-dashboard.json"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range metricName.FindAllString(string(text), -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				base = strings.TrimSuffix(base, suffix)
			}
			if !written[base] && !written[name] {
				t.Errorf("%s names %s, which the server does not write", doc, name)
			}
		}
	}
}

func TestMetricsFreshNode(t *testing.T) {
	p := startInvd(t, 2, "")
	code, body, err := p.HTTPGet("/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus's text parser refuses the page: %v", err)
	}
	for name, f := range fams {
		typ := f.GetType().String()
		switch {
		case f.GetHelp() == "":
			t.Errorf("%s has no help text", name)
		case typ == "UNTYPED":
			t.Errorf("%s has no type", name)
		case (typ == "COUNTER") != strings.HasSuffix(name, "_total"):
			t.Errorf("%s is a %s: counters, and only they, end in _total", name, typ)
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "vmrange" {
					t.Errorf("%s has vmrange buckets", name)
				}
			}
			if typ == "HISTOGRAM" && len(m.GetHistogram().GetBucket()) < 10 {
				t.Errorf("%s%v has %d buckets", name, m.GetLabel(), len(m.GetHistogram().GetBucket()))
			}
		}
	}
	var documented []string
	for _, doc := range []string{"../../docs/OPERATIONS.md", "../../docs/grafana-dashboard.json"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(doc, ".md") {
			documented = metricName.FindAllString(string(text), -1)
		}
		for _, name := range anyMetricName.FindAllString(string(text), -1) {
			if prefix, ok := strings.CutSuffix(name, "_*"); ok {
				found := false
				for f := range fams {
					found = found || strings.HasPrefix(f, prefix+"_")
				}
				if !found {
					t.Errorf("%s names %s, and no family of a fresh node's page starts so", doc, name)
				}
				continue
			}
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && fams[b] != nil {
					base = b
				}
			}
			if fams[base] == nil {
				t.Errorf("%s names %s, which a fresh node's page lacks", doc, name)
			}
		}
	}
	for name := range fams {
		if strings.HasPrefix(name, "inv_") && !slices.Contains(documented, name) {
			t.Errorf("%s is on the page but not in docs/OPERATIONS.md", name)
		}
	}
}

// anyMetricName finds the server's and the runtime's metric names in a
// document; "go_memstats_*" stands for a prefix.
var anyMetricName = regexp.MustCompile(`\b(?:inv|go|process)_[a-z_]*[a-z](?:_\*)?`)

func TestMetricsSnapshotsPerShard(t *testing.T) {
	const shards = 3
	// Automatic snapshots out of reach: only the SNAPSHOT ops take any.
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: shards,
		Config: fastRaft + "snapshot_threshold = 100000\nsnapshot_interval = 1h\n"})
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	c := dial(t, p)
	for i := range shards {
		want(t, c, engine.OK, putItem("SP", storeInShard("SP", i, shards), 5))
	}
	// counts checks every shard's snapshot series against the wanted
	// numbers; the histograms are there from the start, at zero.
	counts := func(when string, snapshots, restores float64) {
		t.Helper()
		m := scrape(t, p)
		for i := range shards {
			l := `{shard="` + strconv.Itoa(i) + `"}`
			for name, v := range map[string]float64{
				"inv_raft_snapshots_total" + l: snapshots, "inv_raft_snapshot_failures_total" + l: 0,
				"inv_raft_restores_total" + l: restores, "inv_raft_restore_failures_total" + l: 0,
				"inv_raft_snapshot_duration_seconds_count" + l: snapshots,
				"inv_raft_restore_duration_seconds_count" + l:  restores,
			} {
				got, ok := m[name]
				if !ok || got != v {
					t.Errorf("%s: %s = %v (written %v), want %v", when, name, got, ok, v)
				}
			}
		}
		if _, ok := m["inv_raft_snapshot_duration_seconds_count"]; ok {
			t.Errorf("%s: a snapshot histogram without a shard label", when)
		}
	}
	counts("at start", 0, 0)

	r, err := c.Snapshot()
	if err != nil || len(r.Shards) != shards {
		t.Fatalf("snapshot: %+v %v", r, err)
	}
	for _, s := range r.Shards {
		if s.Status != protocol.SnapshotTaken {
			t.Fatalf("snapshot: shard %d %s", s.Shard, s.Status)
		}
	}
	counts("after one snapshot", 1, 0)
	if r, err = c.Snapshot(); err != nil || r.Shards[0].Status != protocol.SnapshotUnchanged {
		t.Fatalf("second snapshot: %+v %v", r, err)
	}
	counts("after a snapshot with nothing new", 1, 0)

	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	p = restart(t, p)
	counts("after a restart", 0, 1)
}

// metricName finds the server's metric names in a document.
var metricName = regexp.MustCompile(`\binv_[a-z_]*[a-z]`)

// TestPprofFlag: "pprof = true" in the config serves the profiles.
func TestPprofFlag(t *testing.T) {
	p := startInvd(t, 1, "pprof = true\n")
	if code, _, err := p.HTTPGet("/debug/pprof/"); err != nil || code != 200 {
		t.Errorf("/debug/pprof/ with pprof on: %d %v, want 200", code, err)
	}
}

// scrape reads /metrics into series name (with labels) → value.
func scrape(t *testing.T, p *invdtest.Proc) map[string]float64 {
	t.Helper()
	code, body, err := p.HTTPGet("/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	return parseMetrics(body)
}

// parseMetrics reads Prometheus text into series name (with labels) → value.
func parseMetrics(body string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out
}

// TestStartProfile: --start-profile writes a CPU profile of the start,
// closed by the time the node is ready: a whole gzip stream (what
// runtime/pprof writes), which an unclosed profile is not.
func TestStartProfile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "start.prof")
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data",
		Shards: 2, Config: fastRaft, Args: []string{"--start-profile", file}})
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Logs(), "start profile written") {
		if time.Now().After(deadline) {
			t.Fatal("no \"start profile written\" line within 10s of the start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the start profile is not gzip: %v", err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || len(body) == 0 {
		t.Fatalf("the start profile is cut short or empty: %d bytes, %v", len(body), err)
	}
}
