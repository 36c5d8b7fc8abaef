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
	edge edgeMetrics // what the network edge refused

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
	s.budget.register(m.set)
	m.edge = newEdgeMetrics(m.set, s)
	s.observeApplies(m.set)
	s.observeSnapshots(m.set)
	m.set.RegisterMetricsWriter(func(w io.Writer) {
		s.writeShardMetrics(w)
		s.writeRaftShardMetrics(w)
		s.writeBusinessMetrics(w)
		s.writeRouterMetrics(w)
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
	}
	metrics.WriteCounterUint64(w, "inv_raft_entries_total", entries)
	metrics.WriteCounterUint64(w, "inv_raft_commands_total", commands)
	metrics.WriteCounterUint64(w, "inv_proposer_busy_total", busy)
}

// edgeMetrics count what the network edge refused or cut, by reason
// (docs/OPERATIONS.md). Every series exists from the start, at zero, so
// that an alert on its rate needs no absent() clause.
type edgeMetrics struct {
	framesRefused [numFrameRefusals]*metrics.Counter // inv_frames_refused_total{reason}
	connsRefused  [numConnRefusals]*metrics.Counter  // inv_connections_refused_total{reason}
	preHelloCut   [numPreHelloCuts]*metrics.Counter  // inv_pre_hello_closed_total{reason}
	acceptErrors  [numAcceptErrors]*metrics.Counter  // inv_accept_errors_total{error}
}

// frameRefusal is why a frame was refused before it was served.
type frameRefusal uint8

const (
	refusedTooLarge frameRefusal = iota // over max_frame_bytes: answered, connection closed
	refusedBadFlags                     // reserved or invalid flag bits: answered, connection kept
	numFrameRefusals
)

var frameRefusalNames = [numFrameRefusals]string{"too_large", "bad_flags"}

// connRefusal is why a connection was refused.
type connRefusal uint8

const (
	refusedMaxConnections connRefusal = iota // HELLO past max_connections
	refusedPerAddress                        // past max_connections_per_address at open
	refusedShuttingDown                      // opened while the server drains
	refusedNoDescriptors                     // shed at accept: the process is out of descriptors
	numConnRefusals
)

var connRefusalNames = [numConnRefusals]string{"max_connections", "per_address", "shutting_down", "no_descriptors"}

// preHelloCut is why a connection was closed before it said HELLO.
type preHelloCut uint8

const (
	cutHelloTimeout preHelloCut = iota // hello_timeout passed
	cutEvicted                         // the oldest, closed to make room in max_unauthenticated_connections
	numPreHelloCuts
)

var preHelloCutNames = [numPreHelloCuts]string{"timeout", "evicted"}

func newEdgeMetrics(set *metrics.Set, s *Server) edgeMetrics {
	var m edgeMetrics
	for i, name := range frameRefusalNames {
		m.framesRefused[i] = set.NewCounter(`inv_frames_refused_total{reason="` + name + `"}`)
	}
	for i, name := range connRefusalNames {
		m.connsRefused[i] = set.NewCounter(`inv_connections_refused_total{reason="` + name + `"}`)
	}
	for i, name := range preHelloCutNames {
		m.preHelloCut[i] = set.NewCounter(`inv_pre_hello_closed_total{reason="` + name + `"}`)
	}
	for i, name := range acceptErrorNames {
		m.acceptErrors[i] = set.NewCounter(`inv_accept_errors_total{error="` + name + `"}`)
	}
	set.NewGauge("inv_connections_pre_hello", func() float64 { return float64(s.adm.preHello()) })
	set.NewGauge("inv_connections_authenticated", func() float64 { return float64(s.adm.authenticated()) })
	set.NewGauge("inv_protocol_accepting", func() float64 {
		if s.acceptProblem() != "" {
			return 0
		}
		return 1
	})
	return m
}
