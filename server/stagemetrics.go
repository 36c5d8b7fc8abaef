package server

import (
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/invsys/inv/raftstore"
	"github.com/invsys/inv/router"
)

// Where a request's time goes: one histogram per stage of the write path,
// inv_stage_duration_seconds{stage}, beside the end to end
// inv_request_duration_seconds (docs/OPERATIONS.md, "Where the time
// goes"). Each stage is measured where it happens and observed once per
// batch, entry, log append, apply round or socket write, never per
// request: the proposer's and the log store's observers (raftstore
// stages.go), the FSM's apply observer, the router's coordinator steps
// and the connection's flush (conn.go).
type stageMetrics struct {
	queued       *metrics.PrometheusHistogram // an entry's first command to its batch sealed
	inflightWait *metrics.PrometheusHistogram // sealed to raft.Apply
	commit       *metrics.PrometheusHistogram // raft.Apply to the answer (log write, quorum, apply)
	logWrite     *metrics.PrometheusHistogram // one append to a shard's log, fsync included
	apply        *metrics.PrometheusHistogram // one apply round of a shard's FSM
	replyWrite   *metrics.PrometheusHistogram // first reply encoded since a flush to its write
	steps        [router.StepCount]*metrics.PrometheusHistogram

	logWriteEntries *metrics.PrometheusHistogram // entries per log append
}

// stepStages names the router's coordinator steps as stages.
var stepStages = [router.StepCount]string{
	router.StepPeek:    "coordinator_peek",
	router.StepClaim:   "coordinator_claim",
	router.StepHold:    "coordinator_hold",
	router.StepResolve: "coordinator_resolve",
	router.StepWhole:   "coordinator",
}

func stageHistogram(set *metrics.Set, stage string) *metrics.PrometheusHistogram {
	return set.NewPrometheusHistogramExt(`inv_stage_duration_seconds{stage="`+stage+`"}`, stageBuckets)
}

func newStageMetrics(set *metrics.Set) *stageMetrics {
	m := &stageMetrics{
		queued:          stageHistogram(set, "queued"),
		inflightWait:    stageHistogram(set, "inflight_wait"),
		commit:          stageHistogram(set, "commit"),
		logWrite:        stageHistogram(set, "log_write"),
		apply:           stageHistogram(set, "apply"),
		replyWrite:      stageHistogram(set, "reply_write"),
		logWriteEntries: set.NewPrometheusHistogramExt("inv_log_write_entries", sizeBuckets),
	}
	for i, name := range stepStages {
		m.steps[i] = stageHistogram(set, name)
	}
	return m
}

// observeEntry records where one resolved entry's time went (a shard's
// resolver goroutine).
func (m *stageMetrics) observeEntry(_ uint16, t raftstore.EntryTimes) {
	m.queued.Update(t.Queued.Seconds())
	m.inflightWait.Update(t.InflightWait.Seconds())
	m.commit.Update(t.Commit.Seconds())
}

// observeLogWrite records one append to a shard's log (raft's goroutine).
func (m *stageMetrics) observeLogWrite(_ uint16, entries int, took time.Duration) {
	m.logWrite.Update(took.Seconds())
	m.logWriteEntries.Update(float64(entries))
}

// ObserveStep records one coordinator step (router.Observer; any
// goroutine, no allocation).
func (m *stageMetrics) ObserveStep(step router.Step, took time.Duration) {
	if int(step) < len(m.steps) {
		m.steps[step].Update(took.Seconds())
	}
}

// observeStages gives every shard the proposer's and the log store's
// observers. The apply stage comes from the apply observer
// (observeApplies), the coordinator's from the router (New: SetObserver).
func (s *Server) observeStages(m *stageMetrics) {
	for _, sh := range s.shards {
		sh.SetEntryObserver(m.observeEntry)
		sh.SetLogWriteObserver(m.observeLogWrite)
	}
}

// writeWALMetrics writes Pebble's WAL fsyncs, read when scraped: with
// inv_log_write_entries_sum, the raft entries made durable per fsync.
func (s *Server) writeWALMetrics(w io.Writer) {
	n, took := s.node.Store().WALSyncs()
	metrics.WriteCounterUint64(w, "inv_wal_syncs_total", n)
	metrics.WriteCounterFloat64(w, "inv_wal_sync_seconds_total", took.Seconds())
}
