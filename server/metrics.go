package server

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/invsys/inv/engine"
)

// serverMetrics are the server's Prometheus metrics, in a Set of their own
// (so that a test process may run several servers). Per-request counters are
// created on first use and then reached through a fixed table: counting a
// reply is an array index and an atomic add, never a map lookup or a string
// built on the hot path.
type serverMetrics struct {
	set *metrics.Set
	// requests[op][code]: inv_requests_total{op,result}. op 0 stands for BATCH.
	requests [maxOpLabel][maxCodeLabel]atomic.Pointer[metrics.Counter]
	// duration[op]: inv_request_duration_seconds{op}.
	duration [maxOpLabel]atomic.Pointer[metrics.Histogram]
	batchOps *metrics.Histogram // ops per BATCH frame

	// Raft's own timings, fed by the go-metrics sink (raftmetrics.go).
	raftCommit   *metrics.Histogram
	raftDispatch *metrics.Histogram
	raftFSMApply *metrics.Histogram

	wire wireMetrics // opmetrics.go

	// commandsPerEntry is the mean batch size over the last tick, in
	// thousandths (a gauge reads it).
	commandsPerEntry atomic.Int64
	lastEntries      uint64
	lastCommands     uint64
}

const (
	maxOpLabel   = int(engine.OpLast) + 1
	maxCodeLabel = 128
	opBatch      = engine.Op(0) // the label slot of BATCH frames
)

func opLabel(op engine.Op) string {
	if op == opBatch {
		return "batch"
	}
	return op.String()
}

func newServerMetrics(s *Server) *serverMetrics {
	m := &serverMetrics{set: metrics.NewSet()}
	m.batchOps = m.set.NewHistogram("inv_batch_ops")
	m.raftCommit = m.set.NewHistogram("inv_raft_commit_duration_seconds")
	m.raftDispatch = m.set.NewHistogram("inv_raft_dispatch_duration_seconds")
	m.raftFSMApply = m.set.NewHistogram("inv_raft_fsm_apply_duration_seconds")
	m.set.NewGauge("inv_connections_open", func() float64 { return float64(s.nconns.Load()) })
	m.set.NewGauge("inv_requests_in_flight", func() float64 { return float64(s.inflight.Load()) })
	m.set.NewGauge("inv_active_holds", func() float64 {
		var n int64
		for _, sh := range s.shards {
			n += sh.Stats().ActiveHolds
		}
		return float64(n)
	})
	m.set.NewGauge("inv_awaiting_pickup", func() float64 {
		var n int64
		for _, sh := range s.shards {
			n += sh.Stats().AwaitingPickup
		}
		return float64(n)
	})
	m.set.NewGauge("inv_raft_commands_per_entry", func() float64 {
		return float64(m.commandsPerEntry.Load()) / 1000
	})
	m.wire = newWireMetrics(m.set)
	s.observeApplies(m.set)
	s.observeSnapshots(m.set)
	m.set.RegisterMetricsWriter(func(w io.Writer) {
		s.writeShardMetrics(w)
		s.writeRaftShardMetrics(w)
		s.writeBusinessMetrics(w)
		s.writeDiskMetrics(w)
	})
	return m
}

func (m *serverMetrics) counter(op engine.Op, code engine.Code) *metrics.Counter {
	o, c := int(op), int(code)
	if o >= maxOpLabel || c >= maxCodeLabel {
		o, c = 0, int(engine.CodeInternal) // never: ops and codes are bounded by the tables
	}
	p := &m.requests[o][c]
	if k := p.Load(); k != nil {
		return k
	}
	k := m.set.GetOrCreateCounter(fmt.Sprintf(`inv_requests_total{op=%q,result=%q}`, opLabel(op), code.String()))
	p.Store(k)
	return k
}

func (m *serverMetrics) histogram(op engine.Op) *metrics.Histogram {
	p := &m.duration[op]
	if h := p.Load(); h != nil {
		return h
	}
	h := m.set.GetOrCreateHistogram(fmt.Sprintf(`inv_request_duration_seconds{op=%q}`, opLabel(op)))
	p.Store(h)
	return h
}

// observe counts one answered request and its latency.
func (m *serverMetrics) observe(op engine.Op, code engine.Code, start time.Time) {
	m.counter(op, code).Inc()
	m.histogram(op).UpdateDuration(start)
}

// count counts one answered request without latency (a BATCH's entries,
// whose latency is the batch's).
func (m *serverMetrics) count(op engine.Op, code engine.Code) { m.counter(op, code).Inc() }

func (m *serverMetrics) observeBatch(n int, start time.Time) {
	m.counter(opBatch, engine.OK).Inc()
	m.histogram(opBatch).UpdateDuration(start)
	m.batchOps.Update(float64(n))
}

// sample refreshes the metrics computed over an interval (once a tick).
func (m *serverMetrics) sample(s *Server) {
	var entries, commands uint64
	for _, sh := range s.shards {
		st := sh.ProposerStats()
		entries += st.Entries
		commands += st.Commands
	}
	if de := entries - m.lastEntries; de > 0 {
		m.commandsPerEntry.Store(int64((commands - m.lastCommands) * 1000 / de))
	}
	m.lastEntries, m.lastCommands = entries, commands
}

// writeShardMetrics writes the per-shard series, read when scraped.
func (s *Server) writeShardMetrics(w io.Writer) {
	var entries, commands, busy uint64
	for i, sh := range s.shards {
		st := sh.ProposerStats()
		entries += st.Entries
		commands += st.Commands
		busy += st.Busy
		leader := 0.0
		if sh.IsLeader() {
			leader = 1
		}
		metrics.WriteGaugeFloat64(w, fmt.Sprintf(`inv_shard_leader{shard="%d"}`, i), leader)
		metrics.WriteGaugeUint64(w, fmt.Sprintf(`inv_shard_applied_index{shard="%d"}`, i), sh.AppliedIndex())
		withheld := 0.0
		if sh.VoteWithheld() {
			withheld = 1
		}
		metrics.WriteGaugeFloat64(w, fmt.Sprintf(`inv_shard_vote_withheld{shard="%d"}`, i), withheld)
	}
	metrics.WriteCounterUint64(w, "inv_raft_entries_total", entries)
	metrics.WriteCounterUint64(w, "inv_raft_commands_total", commands)
	metrics.WriteCounterUint64(w, "inv_proposer_busy_total", busy)
}

// writeDiskMetrics writes the node's disk reserve (raftstore/diskguard.go),
// read when scraped; nothing when the reserve is off.
func (s *Server) writeDiskMetrics(w io.Writer) {
	d := s.node.DiskStatus()
	if !d.Enabled {
		return
	}
	full := 0.0
	if d.Full {
		full = 1
	}
	metrics.WriteGaugeFloat64(w, "inv_disk_full", full)
	metrics.WriteGaugeUint64(w, "inv_disk_free_bytes", d.FreeBytes)
	metrics.WriteGaugeUint64(w, "inv_disk_reserve_bytes", d.ReserveBytes)
	metrics.WriteCounterUint64(w, "inv_disk_full_refused_total", d.Refused)
}
