package raftstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/raft"
)

// A shard's snapshot folder as hashicorp/raft's FileSnapshotStore keeps it:
// DIR/shards/<id>/snapshots/<term>-<index>-<msec>/{meta.json,state.bin}. A
// snapshot is written into "<name>.tmp" and renamed into place when whole;
// meta.json records the state's size and CRC-64 (ECMA). The store never
// removes a ".tmp" folder that a crash left behind, skips (with a warning
// on every listing) a folder whose meta.json does not decode, and, when the
// newest snapshot cannot be opened, restores an older one even if the log
// no longer holds the entries after it, which makes raft panic ("log not
// found"). prepareSnapshots and snapshotStore close those gaps
// (docs/adr/0017-snapshot-folder-at-open.md).
const (
	snapshotsDirName    = "snapshots"         // the folder raft's store adds under the shard's
	damagedSnapshotsDir = "snapshots-damaged" // beside it: damaged snapshots moved out of raft's way
	snapshotTmpSuffix   = ".tmp"
	snapshotMetaName    = "meta.json"
	snapshotStateName   = "state.bin"
)

// snapshotMetaFile is raft's meta.json: the snapshot's metadata and the
// CRC-64 of its state file.
type snapshotMetaFile struct {
	raft.SnapshotMeta
	CRC []byte
}

// snapshotEntry is one folder of the snapshot store.
type snapshotEntry struct {
	name         string
	term, index  uint64 // from meta.json, else from the folder's name (0 if neither)
	metaReadable bool
	problem      string // what is wrong with it; "" when intact or not checked
	file         string // the file the problem is in
}

// newer orders entries as raft does (term, index, then name), newest first.
func (e *snapshotEntry) newer(o *snapshotEntry) bool {
	if e.term != o.term {
		return e.term > o.term
	}
	if e.index != o.index {
		return e.index > o.index
	}
	return e.name > o.name
}

// SnapshotDamagedError: a shard's newest snapshot is damaged and the shard
// cannot start without it. Nothing in the data folder was changed.
type SnapshotDamagedError struct {
	Shard   uint16
	File    string // the damaged file (state.bin or meta.json)
	Problem string // what is wrong with it
	Why     string // why no older snapshot and the log can replace it
}

func (e *SnapshotDamagedError) Error() string {
	return fmt.Sprintf("raftstore: shard %d: snapshot file %s is damaged (%s), and %s. Nothing was changed. "+
		"To recover, restore this node's whole data folder from a backup, or, in a cluster whose other "+
		"replicas of the shard are healthy, remove this node, empty its data folder and add it back so that "+
		"the leader sends it a fresh snapshot (docs/OPERATIONS.md, \"A damaged snapshot\")",
		e.Shard, e.File, e.Problem, e.Why)
}

// prepareSnapshots readies the snapshot folder of a shard (base is the
// shard's folder) before raft opens it, and fails with a
// *SnapshotDamagedError when the shard cannot safely start:
//
//   - snapshots are checked newest first (meta.json decodes, state.bin has
//     the recorded size and CRC-64 and starts with an inv snapshot header)
//     down to the first intact one;
//   - if newer ones are damaged, the start may pass over them only when the
//     log still holds every entry after the intact one (or after index 0
//     when there is none) up to the damaged ones' index: the state is then
//     rebuilt exactly by replaying the log. Otherwise it stops with an
//     error naming the file and what is wrong, and changes nothing;
//   - when the start goes on, unfinished ".tmp" folders (a crash during a
//     snapshot's write or a leader's transfer) are removed and damaged
//     snapshots, and older folders whose meta.json does not decode, are
//     moved to DIR/shards/<id>/snapshots-damaged/ for the operator to
//     inspect or delete. Each removal and move is logged on one line.
func prepareSnapshots(shard uint16, base string, logs raft.LogStore, log *slog.Logger) error {
	dir := filepath.Join(base, snapshotsDirName)
	dirents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("raftstore: shard %d: snapshot folder: %w", shard, err)
	}
	var unfinished []string
	var snaps []*snapshotEntry
	for _, d := range dirents {
		if !d.IsDir() {
			continue
		}
		if strings.HasSuffix(d.Name(), snapshotTmpSuffix) {
			unfinished = append(unfinished, d.Name())
			continue
		}
		snaps = append(snaps, readSnapshotEntry(dir, d.Name()))
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].newer(snaps[j]) })

	// Newest first, down to the first intact snapshot: the one raft will
	// restore once the damaged ones before it are out of its way.
	intact := -1
	for i, e := range snaps {
		if e.metaReadable {
			checkSnapshotState(dir, e)
		}
		if e.problem == "" {
			intact = i
			break
		}
	}
	blocking := snaps // the damaged snapshots newer than the intact one
	if intact >= 0 {
		blocking = snaps[:intact]
	}
	if len(blocking) > 0 {
		var from *snapshotEntry
		if intact >= 0 {
			from = snaps[intact]
		}
		if err := canPassOver(shard, dir, blocking, from, logs); err != nil {
			return err
		}
	}

	for _, name := range unfinished {
		path := filepath.Join(dir, name)
		size := folderBytes(path)
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("raftstore: shard %d: remove unfinished snapshot %s: %w", shard, path, err)
		}
		log.Warn("raftstore: removed an unfinished snapshot", "shard", shard, "name", name, "bytes", size)
	}
	restoring := "the log alone"
	if intact >= 0 {
		restoring = snaps[intact].name + " and the log after it"
	}
	for i, e := range snaps {
		if intact >= 0 && (i == intact || i > intact && e.metaReadable) {
			continue // intact, or older and left to raft (which reaps it in turn)
		}
		if e.problem == "" {
			e.problem = "meta.json does not decode"
		}
		to, err := moveAside(base, dir, e.name)
		if err != nil {
			return fmt.Errorf("raftstore: shard %d: move damaged snapshot %s aside: %w", shard, e.name, err)
		}
		log.Warn("raftstore: moved a damaged snapshot aside", "shard", shard, "name", e.name,
			"problem", e.problem, "file", e.file, "to", to, "restoring_from", restoring)
	}
	return nil
}

// canPassOver decides whether the shard may start from the snapshot from
// (nil: from nothing) plus its log, passing over the damaged snapshots
// newer than it (blocking, newest first); if not, the error says why.
func canPassOver(shard uint16, dir string, blocking []*snapshotEntry, from *snapshotEntry, logs raft.LogStore) error {
	var need uint64 // the highest index a damaged snapshot holds
	for _, e := range blocking {
		need = max(need, e.index)
	}
	var at uint64 // the index of the state the start would resume from
	fromName := "no older snapshot is intact"
	if from != nil {
		at = from.index
		fromName = "the newest intact older snapshot, " + from.name + ", ends at index " + strconv.FormatUint(at, 10)
	}
	first, err := logs.FirstIndex()
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: log: %w", shard, err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		return fmt.Errorf("raftstore: shard %d: log: %w", shard, err)
	}
	// The log continues the state at index at (an empty log continues it
	// only if there is nothing to continue) and reaches what the damaged
	// snapshots held.
	if (first != 0 && first <= at+1 || first == 0 && need <= at) && max(last, at) >= need {
		return nil
	}
	var why string
	switch {
	case first == 0:
		why = fmt.Sprintf("%s while the log is empty: entries %d to %d exist only in the damaged snapshot", fromName, at+1, need)
	case first > at+1:
		why = fmt.Sprintf("%s while the log starts at index %d: entries %d to %d exist only in the damaged snapshot",
			fromName, first, at+1, first-1)
	default:
		why = fmt.Sprintf("%s while the log ends at index %d: entries %d to %d exist only in the damaged snapshot",
			fromName, last, last+1, need)
	}
	newest := blocking[0]
	file := newest.file
	if file == "" {
		file = filepath.Join(dir, newest.name)
	}
	return &SnapshotDamagedError{Shard: shard, File: file, Problem: newest.problem, Why: why}
}

// readSnapshotEntry reads a snapshot folder's meta.json.
func readSnapshotEntry(dir, name string) *snapshotEntry {
	e := &snapshotEntry{name: name, file: filepath.Join(dir, name, snapshotMetaName)}
	meta, err := readSnapshotMeta(e.file)
	if err != nil {
		e.problem = err.Error()
		// raft names a snapshot <term>-<index>-<msec>: enough to order it.
		if f := strings.Split(name, "-"); len(f) == 3 {
			e.term, _ = strconv.ParseUint(f[0], 10, 64)
			e.index, _ = strconv.ParseUint(f[1], 10, 64)
		}
		return e
	}
	e.metaReadable = true
	e.term, e.index = meta.Term, meta.Index
	if meta.ID != name {
		e.problem = fmt.Sprintf("meta.json names snapshot %q, not its folder", meta.ID)
	}
	return e
}

func readSnapshotMeta(path string) (*snapshotMetaFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("meta.json cannot be read: %w", err)
	}
	var m snapshotMetaFile
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("meta.json does not decode: %w", err)
	}
	if m.Version < raft.SnapshotVersionMin || m.Version > raft.SnapshotVersionMax {
		return nil, fmt.Errorf("meta.json has unsupported snapshot version %d", m.Version)
	}
	if len(m.CRC) == 0 {
		return nil, errors.New("meta.json records no checksum")
	}
	return &m, nil
}

// checkSnapshotState reads e's state file against its meta.json: size,
// CRC-64 and the inv snapshot header. It sets e.problem and e.file on a
// mismatch.
func checkSnapshotState(dir string, e *snapshotEntry) {
	if e.problem != "" {
		return
	}
	meta, err := readSnapshotMeta(filepath.Join(dir, e.name, snapshotMetaName))
	if err != nil {
		e.problem = err.Error()
		return
	}
	path := filepath.Join(dir, e.name, snapshotStateName)
	e.file = path
	f, err := os.Open(path)
	if err != nil {
		e.problem = fmt.Sprintf("cannot be read: %v", err)
		return
	}
	defer f.Close()
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	var head [snapshotHeaderLen]byte
	hn, _ := io.ReadFull(f, head[:])
	h.Write(head[:hn])
	rest, err := io.Copy(h, f)
	if err != nil {
		e.problem = fmt.Sprintf("cannot be read: %v", err)
		return
	}
	size := int64(hn) + rest
	switch {
	case size != meta.Size:
		e.problem = fmt.Sprintf("truncated or extended: %d bytes, meta.json records %d", size, meta.Size)
	case !bytes.Equal(h.Sum(nil), meta.CRC):
		e.problem = fmt.Sprintf("checksum mismatch: CRC-64 %x, meta.json records %x", h.Sum(nil), meta.CRC)
	case hn < snapshotHeaderLen || string(head[:4]) != snapshotMagic || head[4] != snapshotVersion:
		e.problem = "not an inv snapshot (bad header)"
	case binary.BigEndian.Uint64(head[5:]) > meta.Index:
		// The state is the FSM's at its last applied entry, never past the
		// snapshot's index: meta.json's numbers are wrong.
		e.problem = fmt.Sprintf("the state is at index %d, past the index %d that meta.json records",
			binary.BigEndian.Uint64(head[5:]), meta.Index)
	default:
		e.file = ""
	}
}

// moveAside moves the snapshot folder name out of raft's store into the
// shard's snapshots-damaged folder and returns where it went.
func moveAside(base, dir, name string) (string, error) {
	aside := filepath.Join(base, damagedSnapshotsDir)
	if err := os.MkdirAll(aside, 0o755); err != nil {
		return "", err
	}
	to := filepath.Join(aside, name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(to); errors.Is(err, fs.ErrNotExist) {
			break
		}
		to = filepath.Join(aside, name+"-"+strconv.Itoa(i))
	}
	if err := os.Rename(filepath.Join(dir, name), to); err != nil {
		return "", err
	}
	_ = syncDir(dir)
	_ = syncDir(aside) // best effort: a rename lost to a crash is redone at the next start
	return to, nil
}

// folderBytes is the total size of the files under path.
func folderBytes(path string) int64 {
	var n int64
	_ = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, ierr := d.Info(); ierr == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// snapshotStore is raft's file snapshot store listing only the snapshots a
// start may resume from: the newest, and older ones only while the log
// continues them (holds every entry after them up to at least the newest's
// index). Raft restores the newest snapshot it can read and replays the log
// after it; listing an older one the log no longer continues would make it
// panic on the first missing entry when the newer ones fail to restore.
type snapshotStore struct {
	*raft.FileSnapshotStore
	logs raft.LogStore
}

// List returns the snapshots newest first, as raft's store does, without
// the older ones the log does not continue.
func (s *snapshotStore) List() ([]*raft.SnapshotMeta, error) {
	metas, err := s.FileSnapshotStore.List()
	if err != nil || len(metas) < 2 {
		return metas, err
	}
	first, err := s.logs.FirstIndex()
	if err != nil {
		return nil, err
	}
	last, err := s.logs.LastIndex()
	if err != nil {
		return nil, err
	}
	keep := metas[:1]
	for _, m := range metas[1:] {
		if first != 0 && first <= m.Index+1 && last >= metas[0].Index {
			keep = append(keep, m)
		}
	}
	return keep, nil
}
