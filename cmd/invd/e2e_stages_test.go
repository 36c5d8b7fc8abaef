// This test proves that /metrics shows where a request's time goes: after
// reserves on a fresh invd of several shards (plain ones; one of a limited
// item whose customer's counters live in another shard, so it takes a
// claim; and a linked BATCH whose claim is taken and then released because
// its second line is sold out), every stage histogram of
// inv_stage_duration_seconds has observations, and the figures agree with
// each other and with the end-to-end inv_request_duration_seconds:
//
//   - queued, inflight_wait and commit are observed once per entry the
//     proposers made (inv_raft_entries_total), and their sums do not pass
//     the requests' own durations (each entry's stages lie inside the
//     request of its first command; the requests were sent one at a time;
//     set_limit's entries, one per shard, run side by side);
//   - every entry was appended through a timed log write
//     (inv_log_write_entries_sum), and Pebble fsynced its WAL;
//   - a coordination's time holds its steps', and lies inside requests;
//   - replies are written at most once each (reply_write counts writes).
package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestStageMetrics(t *testing.T) {
	const shards = 4
	p := startInvd(t, shards, "")
	c := dial(t, p)

	// Plain writes.
	want(t, c, engine.OK, putItem("PLAIN", "S1", 100))
	for _, cust := range []string{"p1", "p2", "p3", "p4", "p5"} {
		want(t, c, engine.OK, reserve("PLAIN", "S1", cust, 1))
	}
	// A limited item outside the customer's shard: the reserve claims.
	const cust = "M0042"
	home := protocol.ShardOfCustomer([]byte(cust), shards)
	other := (home + 1) % shards
	limited := storeInShard("LIM", other, shards)
	want(t, c, engine.OK, putItem("LIM", limited, 10))
	want(t, c, engine.OK, engine.Command{Op: engine.OpSetLimit, SKU: []byte("LIM"), Limit: 2}) // the SKU's, on every shard
	want(t, c, engine.OK, keyed(reserve("LIM", limited, cust, 1), "k1"))
	// A cart on that shard: the limited line's claim is taken, then the
	// sold-out line refuses the chain, and the claim is released.
	gone := storeInShard("GONE", other, shards)
	want(t, c, engine.OK, putItem("GONE", gone, 0))
	cart := []engine.Command{keyed(reserve("LIM", limited, cust, 1), "k2"), keyed(reserve("GONE", gone, cust, 1), "k3")}
	cart[0].Linked = true
	rs, err := c.Batch(cart)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[1].Result.Code != engine.CodeSoldOut {
		t.Fatalf("cart: %+v, want its second line sold_out", rs)
	}

	// A coordination may leave an entry no request waits for (a hold's
	// resolve, a claim's release through the outbox): scrape once every
	// proposed entry is timed and two scrapes agree, or after a few
	// seconds (the checks below then say what is missing).
	var m map[string]float64
	stage := func(name, part string) float64 {
		return m[`inv_stage_duration_seconds_`+part+`{stage="`+name+`"}`]
	}
	for deadline, last := time.Now().Add(5*time.Second), -1.0; ; time.Sleep(50 * time.Millisecond) {
		m = scrape(t, p)
		entries := m["inv_raft_entries_total"]
		settled := entries == last && stage("commit", "count") == entries &&
			stage("log_write", "count") == m["inv_log_write_entries_count"]
		if settled || time.Now().After(deadline) {
			break
		}
		last = entries
	}
	t.Logf("entries %v, outbox delivered %v, coordinations %v", m["inv_raft_entries_total"], m["inv_outbox_delivered_total"], m["inv_coordinations_total"])
	for _, name := range []string{"queued", "inflight_wait", "commit", "log_write", "apply", "reply_write",
		"coordinator_peek", "coordinator_claim", "coordinator_hold", "coordinator"} {
		if stage(name, "count") <= 0 {
			t.Errorf("stage %s has no observations", name)
		}
		t.Logf("%-20s %3.0f observations, %8.3f ms in all", name, stage(name, "count"), stage(name, "sum")*1000)
	}
	// No entry is in flight now: each was timed in every proposer stage.
	entries := m["inv_raft_entries_total"]
	for _, name := range []string{"queued", "inflight_wait", "commit"} {
		if n := stage(name, "count"); n != entries {
			t.Errorf("stage %s observed %v entries; the proposers made %v", name, n, entries)
		}
	}
	var requests, requestSeconds float64
	for series, v := range m {
		if strings.HasPrefix(series, "inv_request_duration_seconds_sum{") {
			requestSeconds += v
		}
		if strings.HasPrefix(series, "inv_requests_total{") {
			requests += v
		}
	}
	// set_limit goes to every shard at once: its entries' stages overlap,
	// so they may add up to shards x its own duration. A coordination's
	// claim and hold run at once (their entries overlap once more, within
	// the coordination); a coordination's resolve after its answer and the
	// outbox's deliveries are entries no request waits for: each is
	// allowed the mean time of an entry.
	proposer := stage("queued", "sum") + stage("inflight_wait", "sum") + stage("commit", "sum")
	background := m["inv_outbox_delivered_total"] + stage("coordinator", "count")
	bound := requestSeconds + (shards-1)*m[`inv_request_duration_seconds_sum{op="set_limit"}`] +
		stage("coordinator", "sum") + background*proposer/entries
	if proposer > bound {
		t.Errorf("queued+inflight_wait+commit = %vs, more than the requests' %vs (fan-outs counted once per shard, %v in the background)", proposer, bound, background)
	}
	if written := m["inv_log_write_entries_sum"]; written < entries || m["inv_log_write_entries_count"] != stage("log_write", "count") {
		t.Errorf("%v entries in %v log writes (%v timed), for %v proposed", written,
			m["inv_log_write_entries_count"], stage("log_write", "count"), entries)
	}
	if m["inv_wal_syncs_total"] <= 0 || m["inv_wal_sync_seconds_total"] <= 0 {
		t.Errorf("WAL syncs %v in %vs", m["inv_wal_syncs_total"], m["inv_wal_sync_seconds_total"])
	}
	// The claim and the hold run at once, so each (not their sum) lies
	// inside the whole coordination; the peek comes before both.
	whole := stage("coordinator", "sum")
	if whole > requestSeconds {
		t.Errorf("coordinations took %vs, the requests %vs", whole, requestSeconds)
	}
	for _, step := range []string{"coordinator_peek", "coordinator_claim", "coordinator_hold", "coordinator_resolve"} {
		if s := stage(step, "sum"); s > whole {
			t.Errorf("step %s took %vs, more than the coordinations' %vs", step, s, whole)
		}
	}
	if n := stage("coordinator", "count"); n != 2 {
		t.Errorf("%v coordinations, want 2 (the reserve and the cart)", n)
	}
	// One write per flush that had replies: never more than the replies
	// (every request answered, and the HELLO).
	if n := stage("reply_write", "count"); n > requests+1 {
		t.Errorf("%v reply writes for %v replies", n, requests+1)
	}
}
