package raftstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// Recovery against the marks file (marks.go, docs/adr/0016). Pebble
// recovers a torn or truncated write-ahead log by keeping what precedes the
// damage, without a word: raft's entries after it, and raft's own record of
// its last index, are simply gone. Before any shard's raft starts, the node
// compares each shard's recovered log (its last entry, or its newest
// snapshot when that is further) with what the marks file says it held:
//
//   - nothing lost: the shard starts as always;
//   - lost, and the shard's configuration has other voters: the shard
//     starts with its vote withheld (votegate.go) until its log is back to
//     the mark, so it never helps elect a leader that lacks what it lost;
//   - lost, and no other voter holds the entries (a single node): the node
//     refuses to start with a *DataLossError naming the shards, unless
//     Options.AcceptDataLoss, which records the loss in DIR/data-loss.log,
//     logs it once, lowers the marks to what was recovered and starts.

// ShardLoss is one shard whose recovered log ends before what this node
// acknowledged.
type ShardLoss struct {
	Shard         uint16
	Recovered     uint64 // last index recovered (log or snapshot)
	RecoveredTerm uint64
	Acknowledged  uint64 // the index the marks file says was acknowledged
	Mark          shardMark
}

// markTerm is the term the vote gate compares with: the mark's, when the
// mark is the last entry this node had (0: compare indexes only).
func (l ShardLoss) markTerm() uint64 {
	if l.Mark.Persisted == l.Acknowledged {
		return l.Mark.Term
	}
	return 0
}

// Lost is the number of raft entries lost (each up to BatchMaxCommands
// commands).
func (l ShardLoss) Lost() uint64 { return l.Acknowledged - l.Recovered }

func (l ShardLoss) String() string {
	return fmt.Sprintf("shard %d: log ends at index %d, index %d was acknowledged (%d entries lost)",
		l.Shard, l.Recovered, l.Acknowledged, l.Lost())
}

// DataLossError: shards lost acknowledged entries that no other voter
// holds; the node did not start.
type DataLossError struct {
	Dir    string // the Pebble folder whose write-ahead log was damaged
	Shards []ShardLoss
}

func (e *DataLossError) Error() string {
	parts := make([]string, len(e.Shards))
	for i, l := range e.Shards {
		parts[i] = l.String()
	}
	return fmt.Sprintf("raftstore: the raft log in %s lost entries this node acknowledged "+
		"(a torn or truncated write-ahead log), and no other replica holds them: %s",
		e.Dir, strings.Join(parts, "; "))
}

// dataLossFile records every accepted loss, one JSON object a line.
const dataLossFile = "data-loss.log"

// recoveredEnd returns the last index (and its term) a shard recovers: its
// log's last entry, or its newest snapshot's when that is further.
func recoveredEnd(logs *ShardStore, snaps raft.SnapshotStore) (index, term uint64, err error) {
	if index, err = logs.LastIndex(); err != nil {
		return 0, 0, err
	}
	if index > 0 {
		var l raft.Log
		if err := logs.GetLog(index, &l); err != nil {
			return 0, 0, err
		}
		term = l.Term
	}
	metas, err := snaps.List()
	if err != nil {
		return 0, 0, fmt.Errorf("raftstore: shard %d: list snapshots: %w", logs.shard, err)
	}
	if len(metas) > 0 && metas[0].Index > index {
		index, term = metas[0].Index, metas[0].Term
	}
	return index, term, nil
}

// findLosses compares every shard's recovered end with its mark.
func findLosses(marks *markFile, stores []*ShardStore, snaps []*snapshotStore) ([]ShardLoss, error) {
	var out []ShardLoss
	for i, logs := range stores {
		mk := marks.get(uint16(i))
		if mk.want() == 0 {
			continue
		}
		index, term, err := recoveredEnd(logs, snaps[i])
		if err != nil {
			return nil, err
		}
		if index < mk.want() {
			out = append(out, ShardLoss{Shard: uint16(i), Recovered: index, RecoveredTerm: term,
				Acknowledged: mk.want(), Mark: mk})
		}
	}
	return out, nil
}

// otherVoters reports whether the shard's configuration, as it will be
// recovered, has a voter besides self: the newest configuration entry in
// the log, else the newest snapshot's, else the bootstrap peers.
func otherVoters(logs *ShardStore, snaps raft.SnapshotStore, self raft.ServerID, bootstrap []raft.Server) (bool, error) {
	servers, found, err := logConfiguration(logs)
	if err != nil {
		return false, err
	}
	if !found {
		metas, err := snaps.List()
		if err != nil {
			return false, err
		}
		if len(metas) > 0 {
			servers, found = metas[0].Configuration.Servers, true
		}
	}
	if !found {
		servers = bootstrap
	}
	for _, s := range servers {
		if s.ID != self && s.Suffrage == raft.Voter {
			return true, nil
		}
	}
	return false, nil
}

// logConfiguration returns the servers of the newest configuration entry in
// the shard's log, reading it backwards (done only for a shard that lost
// entries, once, at start).
func logConfiguration(logs *ShardStore) (servers []raft.Server, found bool, err error) {
	it, err := logs.db.NewIter(&pebble.IterOptions{
		LowerBound: shardPrefix(prefixLog, logs.shard),
		UpperBound: shardPrefixEnd(prefixLog, logs.shard),
	})
	if err != nil {
		return nil, false, err
	}
	defer it.Close()
	var l raft.Log
	for ok := it.Last(); ok; ok = it.Prev() {
		if err := decodeLog(it.Value(), &l); err != nil {
			return nil, false, fmt.Errorf("raftstore: shard %d: log key %x: %w", logs.shard, it.Key(), err)
		}
		if l.Type == raft.LogConfiguration {
			conf, err := decodeConfiguration(l.Data)
			return conf.Servers, err == nil, err
		}
	}
	return nil, false, it.Error()
}

// decodeConfiguration is raft.DecodeConfiguration, which panics on bad
// input, as an error.
func decodeConfiguration(b []byte) (c raft.Configuration, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("raftstore: undecodable configuration entry: %v", r)
		}
	}()
	return raft.DecodeConfiguration(b), nil
}

// acceptLosses records accepted losses in DIR/data-loss.log, logs them once,
// and lowers the shards' marks to what was recovered, so that the node
// starts on what remains and the next start does not refuse again.
func acceptLosses(dir string, marks *markFile, losses []ShardLoss, log *slog.Logger) error {
	if err := recordLosses(filepath.Join(dir, dataLossFile), losses); err != nil {
		return err
	}
	var total uint64
	parts := make([]string, len(losses))
	for i, l := range losses {
		total += l.Lost()
		parts[i] = l.String()
		mk := shardMark{Acked: min(l.Mark.Acked, l.Recovered)}
		if l.Mark.Persisted > 0 {
			mk.Persisted, mk.Term = l.Recovered, l.RecoveredTerm
		}
		if err := marks.set(l.Shard, mk); err != nil {
			return err
		}
	}
	log.Error("ACCEPTING DATA LOSS: serving less than this node acknowledged; recorded in "+dataLossFile,
		"entries_lost", total, "shards", strings.Join(parts, "; "))
	return nil
}

// recordLosses appends one line per loss to path, synced.
func recordLosses(path string, losses []ShardLoss) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("raftstore: %w", err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	for _, l := range losses {
		line, _ := json.Marshal(map[string]any{"time": now, "shard": l.Shard, "acknowledged": l.Acknowledged,
			"recovered": l.Recovered, "entries_lost": l.Lost()})
		if _, err = f.Write(append(line, '\n')); err != nil {
			break
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("raftstore: record the accepted loss in %s: %w", path, err)
	}
	return nil
}

// ErrMarksDamaged: the marks file exists but neither of its copies is
// valid, so what the logs held cannot be checked; the node did not start.
var ErrMarksDamaged = errMarksDamaged

// recoverShards opens the marks file and the shards' snapshot stores, and
// compares every shard's recovered log with its mark. It returns the
// snapshot stores and, per shard, the loss whose vote gate the shard
// starts behind (nil: none).
func (n *Node) recoverShards(o *Options, placed [][]raft.Server) ([]*snapshotStore, []*ShardLoss, error) {
	log := o.Logger.With("component", "recovery")
	if err := n.openMarks(o, log); err != nil {
		return nil, nil, err
	}
	snaps := make([]*snapshotStore, o.Shards)
	stores := make([]*ShardStore, o.Shards)
	for i := range snaps {
		var err error
		stores[i] = n.store.Shard(uint16(i))
		if snaps[i], err = openSnapshots(o, uint16(i), stores[i]); err != nil {
			return nil, nil, err
		}
	}
	lost := make([]*ShardLoss, o.Shards)
	losses, err := findLosses(n.marks, stores, snaps)
	if err != nil || len(losses) == 0 {
		return snaps, lost, err
	}
	if o.AcceptDataLoss {
		return snaps, lost, acceptLosses(o.Dir, n.marks, losses, log)
	}
	var alone []ShardLoss
	for _, l := range losses {
		other, err := otherVoters(stores[l.Shard], snaps[l.Shard], n.id, placed[l.Shard])
		if err != nil {
			return nil, nil, err
		}
		if !other {
			alone = append(alone, l)
			continue
		}
		lost[l.Shard] = &l
		log.Warn("shard lost log entries this node acknowledged: withholding its vote until it catches up",
			"shard", l.Shard, "recovered", l.Recovered, "acknowledged", l.Acknowledged, "entries_lost", l.Lost())
	}
	if len(alone) > 0 {
		return nil, nil, &DataLossError{Dir: n.store.dir, Shards: alone}
	}
	return snaps, lost, nil
}

// openMarks opens the marks file. A damaged one stops the start, unless
// the loss is accepted: then it is set aside and a fresh one begins.
func (n *Node) openMarks(o *Options, log *slog.Logger) error {
	var err error
	var fresh bool
	n.marks, fresh, err = openMarkFile(o.Dir, o.Shards, log)
	if errors.Is(err, errMarksDamaged) && o.AcceptDataLoss {
		aside := filepath.Join(o.Dir, marksFileName+".damaged")
		if err := os.Rename(filepath.Join(o.Dir, marksFileName), aside); err != nil {
			return fmt.Errorf("raftstore: %w", err)
		}
		log.Error("ACCEPTING DATA LOSS: the marks file was damaged and is set aside; losses before this start cannot be detected",
			"damaged", aside)
		n.marks, fresh, err = openMarkFile(o.Dir, o.Shards, log)
	}
	if err != nil {
		return err
	}
	if fresh {
		log.Info("started the marks file: a log that loses entries from now on is detected at start",
			"file", filepath.Join(o.Dir, marksFileName))
	}
	return nil
}
