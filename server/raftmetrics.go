package server

import (
	"slices"

	gometrics "github.com/hashicorp/go-metrics"
)

// hashicorp/raft reports its timings through the process-wide go-metrics
// registry. raftSink forwards the few that tell where a proposal's time goes
// into the server's Prometheus histograms and drops the rest:
//
//	raft.leader.dispatchLog  the leader appending a round of entries to its
//	                         log (the Pebble write and its fsync)
//	raft.commitTime          an entry's dispatch to its commit
//	raft.fsm.applyBatch      the FSM applying a round of committed entries
//
// Together they are the raft apply latency; inv_request_duration_seconds
// adds the group-commit wait and the reply path. Snapshot and restore
// timings are not taken from here: raft's do not say which shard, so the
// FSM measures them per shard (opmetrics.go, observeSnapshots).
type raftSink struct{ m *serverMetrics }

var (
	keyDispatch   = []string{"raft", "leader", "dispatchLog"}
	keyCommitTime = []string{"raft", "commitTime"}
	keyApplyBatch = []string{"raft", "fsm", "applyBatch"}
)

// ObserveRaft routes raft's timings into this server's metrics. It replaces
// the process's go-metrics global, so a process calls it for one server
// (invd does; tests that run several servers in one process do not).
func (s *Server) ObserveRaft() error {
	conf := gometrics.DefaultConfig("")
	conf.HostName = ""
	conf.EnableHostname = false
	conf.EnableRuntimeMetrics = false
	conf.EnableServiceLabel = false
	_, err := gometrics.NewGlobal(conf, raftSink{s.met})
	return err
}

func (r raftSink) AddSample(key []string, val float32) {
	// go-metrics measures in milliseconds; Prometheus wants seconds.
	sec := float64(val) / 1000
	switch {
	case slices.Equal(key, keyCommitTime):
		r.m.raftCommit.Update(sec)
	case slices.Equal(key, keyDispatch):
		r.m.raftDispatch.Update(sec)
	case slices.Equal(key, keyApplyBatch):
		r.m.raftFSMApply.Update(sec)
	}
}

// AddSampleWithLabels is what go-metrics calls for timers.
func (r raftSink) AddSampleWithLabels(key []string, val float32, _ []gometrics.Label) {
	r.AddSample(key, val)
}

func (raftSink) SetGauge([]string, float32)                              {}
func (raftSink) SetGaugeWithLabels([]string, float32, []gometrics.Label) {}
func (raftSink) EmitKey([]string, float32)                               {}
func (raftSink) IncrCounter([]string, float32)                           {}
func (raftSink) IncrCounterWithLabels([]string, float32, []gometrics.Label) {
}
