package server

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/raftstore"
)

// The operator's metrics beyond requests (metrics.go): bytes on the wire,
// raft's per-shard positions and sizes, and the business figures the
// engine counts. Everything here is read when scraped, from counters the
// engine and raft keep anyway, so the hot path pays nothing for it except
// the two byte counters (one atomic add per read and per flush).
// docs/OPERATIONS.md lists every series with its meaning.

// wireMetrics count the protocol's bytes.
type wireMetrics struct {
	bytesIn  *metrics.Counter // inv_received_bytes_total
	bytesOut *metrics.Counter // inv_sent_bytes_total
}

func newWireMetrics(set *metrics.Set) wireMetrics {
	return wireMetrics{
		bytesIn:  set.NewCounter("inv_received_bytes_total"),
		bytesOut: set.NewCounter("inv_sent_bytes_total"),
	}
}

// observeSnapshots gives every shard's FSM an observer that feeds the
// shard's snapshot and restore duration histograms. The counts
// (inv_raft_snapshots_total ...) are the FSM's own, written when scraped
// (writeRaftShardMetrics): they hold from the node's open, before this
// server existed.
func (s *Server) observeSnapshots(set *metrics.Set) {
	for i, sh := range s.shards {
		label := `{shard="` + strconv.Itoa(i) + `"}`
		snapshot := set.NewPrometheusHistogramExt("inv_raft_snapshot_duration_seconds"+label, snapshotBuckets)
		restore := set.NewPrometheusHistogramExt("inv_raft_restore_duration_seconds"+label, snapshotBuckets)
		sh.SetSnapshotObserver(func(_ uint16, kind raftstore.SnapshotKind, took time.Duration, err error) {
			switch {
			case err != nil:
				// Counted as a failure; its duration says nothing.
			case kind == raftstore.SnapshotPersisted:
				snapshot.Update(took.Seconds())
			case kind == raftstore.SnapshotRestored:
				restore.Update(took.Seconds())
			}
		})
	}
}

// observeApplies gives every shard's FSM an observer that feeds the
// shard's apply histograms: the apply latency of each round of committed
// entries, the entries per round, and the commands per entry (the group
// commit's batch size). They are per shard, on leaders and followers alike.
// Every round is also the apply stage of the write path (stagemetrics.go).
func (s *Server) observeApplies(set *metrics.Set, stage *metrics.PrometheusHistogram) {
	for i, sh := range s.shards {
		label := `{shard="` + strconv.Itoa(i) + `"}`
		took := set.NewPrometheusHistogramExt("inv_shard_apply_duration_seconds"+label, stageBuckets)
		entries := set.NewPrometheusHistogramExt("inv_shard_apply_batch_entries"+label, sizeBuckets)
		commands := set.NewPrometheusHistogramExt("inv_shard_entry_commands"+label, sizeBuckets)
		sh.SetApplyObserver(func(_ uint16, d time.Duration, perEntry []int) {
			took.Update(d.Seconds())
			stage.Update(d.Seconds())
			entries.Update(float64(len(perEntry)))
			for _, n := range perEntry {
				commands.Update(float64(n))
			}
		})
	}
}

// outcomeLabels names the reservation states whose arrivals
// inv_reservations_total counts (engine.Stats.Outcomes is indexed by State).
var outcomeLabels = [...]struct {
	state engine.State
	name  string
}{
	{engine.StateHeld, "held"},
	{engine.StateConfirmed, "confirmed"},
	{engine.StatePickedUp, "picked_up"},
	{engine.StateCancelled, "cancelled"},
	{engine.StateExpired, "expired"},
	{engine.StateNoShow, "no_show"},
	{engine.StateReturned, "returned"},
}

// refusalReasons are the codes inv_refusals_total has a series for: the
// engine's refusals, each named. Stats.Refusals is indexed by code and has
// room for codes that do not exist; those would be series with no name.
func refusalReasons() []engine.Code {
	var out []engine.Code
	for _, c := range engine.Codes() {
		if c != engine.OK && c.Refusal() && c.String() != "" && int(c) < len(engine.Stats{}.Refusals) {
			out = append(out, c)
		}
	}
	return out
}

// writeBusinessMetrics writes the engine's counts summed over this node's
// shards. Every replica applies the same log, so every node of a cluster
// reports the same figures for the shards it holds: aggregate with max, not
// sum, across nodes.
func (s *Server) writeBusinessMetrics(w io.Writer) {
	var st engine.Stats
	for _, sh := range s.shards {
		x := sh.Stats()
		st.Items += x.Items
		st.Customers += x.Customers
		st.Reservations += x.Reservations
		st.IdempotencyKeys += x.IdempotencyKeys
		for i := range st.Outcomes {
			st.Outcomes[i] += x.Outcomes[i]
		}
		for i := range st.Refusals {
			st.Refusals[i] += x.Refusals[i]
		}
	}
	metrics.WriteGaugeUint64(w, "inv_items", uint64(st.Items))
	metrics.WriteGaugeUint64(w, "inv_customers", uint64(st.Customers))
	metrics.WriteGaugeUint64(w, "inv_reservations_kept", uint64(st.Reservations))
	metrics.WriteGaugeUint64(w, "inv_idempotency_keys", uint64(st.IdempotencyKeys))
	for _, o := range outcomeLabels {
		metrics.WriteCounterUint64(w, `inv_reservations_total{outcome="`+o.name+`"}`, uint64(st.Outcomes[o.state]))
	}
	for _, code := range refusalReasons() {
		metrics.WriteCounterUint64(w, `inv_refusals_total{reason="`+code.String()+`"}`, uint64(st.Refusals[code]))
	}
	// A pickup refused because the reservation is locked, the attempt that
	// locked it included: the counter an operator's unlock queue follows.
	metrics.WriteCounterUint64(w, "inv_pickups_locked_total", uint64(st.Refusals[engine.CodeLocked]))
}

// writeRaftShardMetrics writes each shard's raft state and positions.
func (s *Server) writeRaftShardMetrics(w io.Writer) {
	for i, sh := range s.shards {
		label := `{shard="` + strconv.Itoa(i) + `"}`
		stats := sh.RaftStats()
		for _, state := range [...]string{"Leader", "Follower", "Candidate"} {
			v := 0.0
			if stats["state"] == state {
				v = 1
			}
			metrics.WriteGaugeFloat64(w, fmt.Sprintf(`inv_shard_raft_state{shard="%d",state=%q}`, i, state), v)
		}
		metrics.WriteGaugeUint64(w, "inv_shard_commit_index"+label, statUint(stats, "commit_index"))
		metrics.WriteGaugeUint64(w, "inv_shard_last_log_index"+label, statUint(stats, "last_log_index"))
		metrics.WriteGaugeUint64(w, "inv_shard_last_snapshot_index"+label, statUint(stats, "last_snapshot_index"))
		snaps := sh.SnapshotStats()
		metrics.WriteCounterUint64(w, "inv_raft_snapshots_total"+label, snaps.Persisted)
		metrics.WriteCounterUint64(w, "inv_raft_snapshot_failures_total"+label, snaps.PersistFailed)
		metrics.WriteCounterUint64(w, "inv_raft_restores_total"+label, snaps.Restored)
		metrics.WriteCounterUint64(w, "inv_raft_restore_failures_total"+label, snaps.RestoreFailed)
		metrics.WriteGaugeFloat64(w, "inv_raft_snapshot_capture_max_seconds"+label, snaps.CaptureMax.Seconds())
		metrics.WriteCounterUint64(w, "inv_raft_snapshots_copied_total"+label, snaps.Copied)
		first, _ := sh.Logs().FirstIndex()
		last, _ := sh.Logs().LastIndex()
		entries := uint64(0)
		if first > 0 && last >= first {
			entries = last - first + 1
		}
		metrics.WriteGaugeUint64(w, "inv_shard_log_entries"+label, entries)
		metrics.WriteGaugeUint64(w, "inv_shard_snapshot_threshold"+label, sh.SnapshotThreshold())
		metrics.WriteGaugeUint64(w, "inv_shard_feed_events"+label, uint64(max(sh.Feed().Count(), 0)))
		metrics.WriteGaugeUint64(w, "inv_shard_feed_oldest_index"+label, sh.OldestEvent().Index)
	}
}

func statUint(stats map[string]string, key string) uint64 {
	n, _ := strconv.ParseUint(stats[key], 10, 64)
	return n
}

// shardCaughtUp reports whether shard i has a leader and has applied every
// entry it knows to be committed: what /readyz asks of every shard.
func (s *Server) shardCaughtUp(i int) bool {
	sh := s.shards[i]
	if addr, _ := sh.Leader(); addr == "" {
		return false
	}
	return sh.AppliedIndex() >= sh.CommitIndex()
}

// serveReady answers /readyz: 200 when every local shard has a leader and
// has caught up, 503 naming the first shard that has not.
func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if p := s.acceptProblem(); p != "" { // listener.go
		http.Error(w, p, http.StatusServiceUnavailable)
		return
	}
	for i := range s.shards {
		if !s.shardCaughtUp(i) {
			http.Error(w, "shard "+strconv.Itoa(i)+" has no leader or has not caught up", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}
