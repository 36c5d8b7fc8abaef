package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// The marks file (docs/adr/0016): what each shard's raft log is known to
// hold, kept outside Pebble so that a torn or truncated write-ahead log,
// which Pebble's recovery accepts silently and which takes raft's own last
// index with it, cannot take this record along. At start the node compares
// it with the log it recovered (recovery.go).
//
// The file is DIR/raft-marks: two slots, each a whole copy with a sequence
// number and a CRC-32C, written in turn with O_DSYNC (TigerBeetle keeps
// its superblock the same way). A write torn by a crash damages only the
// slot being written; the other still holds the previous copy, and the
// valid slot with the higher sequence wins.
//
// Writes are group-committed: every change made while a write is under way
// rides in the next one, so one synced write serves all the shards (and
// requests) that waited for it.

const (
	marksFileName = "raft-marks"
	marksMagic    = "INVMARK1"
	// marksHeaderLen: magic, sequence (u64), shard count (u32), zero (u32).
	marksHeaderLen = 8 + 8 + 4 + 4
	// marksShardLen: acked, persisted and term, each a u64.
	marksShardLen = 3 * 8
	marksCRCLen   = 4
	// marksPageBytes aligns each slot to a page, so that a write torn by
	// the device never spans both slots.
	marksPageBytes = 4096
)

// shardMark is what one shard's log is known to hold.
type shardMark struct {
	// Acked is the highest raft index whose results were acknowledged to
	// clients (single-voter nodes, written by the proposer before replies).
	Acked uint64
	// Persisted and Term name the last entry this node reported durable to
	// a leader (cluster nodes, written with every append).
	Persisted, Term uint64
}

// want is the index the shard's recovered log must reach.
func (m shardMark) want() uint64 { return max(m.Acked, m.Persisted) }

var (
	// errMarksDamaged: neither slot of the marks file is valid.
	errMarksDamaged = errors.New("raftstore: the marks file is damaged: neither copy passes its checksum")
	// errMarksShards: the file was written for another number of shards,
	// which is fixed for the life of the data.
	errMarksShards = errors.New("raftstore: marks file for another shard count")
)

// markRound is one synced write of the file; everyone who changed a mark
// before it began waits for it.
type markRound struct {
	done chan struct{}
	err  error
}

func (r *markRound) wait() error {
	<-r.done
	return r.err
}

// markFile is the open marks file and its writer.
type markFile struct {
	path    string
	f       *os.File
	shards  int
	slotLen int

	mu     sync.Mutex
	marks  []shardMark // the newest values: what the next round writes
	next   *markRound  // the round changes made now ride in; nil: none yet
	seq    uint64      // sequence of the newest copy written or being written
	closed bool

	durableAcked []atomic.Uint64 // Acked per shard as of the last synced write

	kick    chan struct{} // capacity 1: a round is waiting
	stop    chan struct{}
	done    chan struct{}
	log     *slog.Logger
	failing bool // writer only: the last write failed (logged once)
}

var crc32c = crc32.MakeTable(crc32.Castagnoli)

func marksSlotLen(shards int) int {
	n := marksHeaderLen + shards*marksShardLen + marksCRCLen
	return (n + marksPageBytes - 1) / marksPageBytes * marksPageBytes
}

// openMarkFile opens dir's marks file for shards shards, creating it with
// every mark at zero when there is none (fresh is then true). A file whose
// two copies are both invalid gives errMarksDamaged.
func openMarkFile(dir string, shards int, log *slog.Logger) (m *markFile, fresh bool, err error) {
	m = &markFile{path: filepath.Join(dir, marksFileName), shards: shards, slotLen: marksSlotLen(shards),
		marks: make([]shardMark, shards), durableAcked: make([]atomic.Uint64, shards),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), log: log}
	switch _, err := os.Stat(m.path); {
	case errors.Is(err, os.ErrNotExist):
		if err := m.create(); err != nil {
			return nil, false, err
		}
		fresh = true
	case err != nil:
		return nil, false, fmt.Errorf("raftstore: %w", err)
	}
	if m.f, err = os.OpenFile(m.path, os.O_RDWR|markSyncFlag, 0o644); err != nil {
		return nil, false, fmt.Errorf("raftstore: %w", err)
	}
	if err := m.load(); err != nil {
		_ = m.f.Close()
		return nil, false, err
	}
	go m.writer()
	return m, fresh, nil
}

// RecordedShards returns the number of shards a data folder was written for,
// as its marks file records it, and false for a folder without one (new, or
// written before marks existed). The count is fixed for the life of the
// data, so a node started without an explicit count takes this one: the
// default may then change without refusing the folders written under the
// old one. It reads the file only; OpenNode checks it again.
func RecordedShards(dir string) (int, bool, error) {
	buf, err := os.ReadFile(filepath.Join(dir, marksFileName))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("raftstore: %w", err)
	}
	// Either copy will do: slot 0 at the start, slot 1 one slot length on,
	// which depends on the count each copy declares.
	for off := 0; off+marksHeaderLen <= len(buf); off += marksPageBytes {
		b := buf[off:]
		if string(b[:8]) != marksMagic {
			continue
		}
		n := int(binary.LittleEndian.Uint32(b[16:]))
		if n < 1 || n > MaxShards || (off != 0 && off != marksSlotLen(n)) || len(b) < marksSlotLen(n) {
			continue
		}
		if _, _, err := decodeMarks(b[:marksSlotLen(n)], n); err == nil {
			return n, true, nil
		}
	}
	return 0, false, fmt.Errorf("%w (%s)", errMarksDamaged, filepath.Join(dir, marksFileName))
}

// create writes a file of zero marks whole: to a temporary name, synced,
// then renamed, so that a crash leaves either no file or a valid one.
func (m *markFile) create() error {
	tmp := m.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("raftstore: %w", err)
	}
	buf := m.encode(nil, 0)
	_, err = f.Write(buf)
	if err == nil {
		_, err = f.Write(m.encode(nil, 1))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, m.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(m.path))
	}
	if err != nil {
		return fmt.Errorf("raftstore: create %s: %w", m.path, err)
	}
	return nil
}

// load reads both copies and keeps the valid one with the higher sequence.
func (m *markFile) load() error {
	buf := make([]byte, 2*m.slotLen)
	n, err := io.ReadFull(m.f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("raftstore: read %s: %w", m.path, err)
	}
	buf = buf[:n]
	found := false
	var otherShards error
	for slot := 0; slot < 2; slot++ {
		if len(buf) < (slot+1)*m.slotLen {
			break
		}
		seq, marks, err := decodeMarks(buf[slot*m.slotLen:(slot+1)*m.slotLen], m.shards)
		if errors.Is(err, errMarksShards) {
			otherShards = err
			continue
		}
		if err != nil {
			m.log.Warn("marks file: one copy is invalid; using the other", "file", m.path, "slot", slot, "error", err)
			continue
		}
		if !found || seq > m.seq {
			found, m.seq, m.marks = true, seq, marks
		}
	}
	if !found && otherShards != nil {
		return fmt.Errorf("raftstore: %s: %w", m.path, otherShards)
	}
	if !found {
		return fmt.Errorf("%w (%s)", errMarksDamaged, m.path)
	}
	for i := range m.marks {
		m.durableAcked[i].Store(m.marks[i].Acked)
	}
	return nil
}

// encode returns the copy of marks (nil: all zero) with sequence seq.
func (m *markFile) encode(marks []shardMark, seq uint64) []byte {
	return m.encodeInto(make([]byte, m.slotLen), marks, seq)
}

// encodeInto is encode into buf, m.slotLen bytes long, which it returns.
func (m *markFile) encodeInto(buf []byte, marks []shardMark, seq uint64) []byte {
	clear(buf)
	copy(buf, marksMagic)
	binary.LittleEndian.PutUint64(buf[8:], seq)
	binary.LittleEndian.PutUint32(buf[16:], uint32(m.shards))
	off := marksHeaderLen
	for i := 0; i < m.shards; i++ {
		var mk shardMark
		if marks != nil {
			mk = marks[i]
		}
		binary.LittleEndian.PutUint64(buf[off:], mk.Acked)
		binary.LittleEndian.PutUint64(buf[off+8:], mk.Persisted)
		binary.LittleEndian.PutUint64(buf[off+16:], mk.Term)
		off += marksShardLen
	}
	binary.LittleEndian.PutUint32(buf[off:], crc32.Checksum(buf[:off], crc32c))
	return buf
}

// decodeMarks checks and decodes one copy.
func decodeMarks(b []byte, shards int) (uint64, []shardMark, error) {
	end := marksHeaderLen + shards*marksShardLen
	switch {
	case string(b[:8]) != marksMagic:
		return 0, nil, errors.New("not a marks copy")
	case int(binary.LittleEndian.Uint32(b[16:])) != shards:
		return 0, nil, fmt.Errorf("%w: written for %d, the node has %d", errMarksShards, binary.LittleEndian.Uint32(b[16:]), shards)
	case binary.LittleEndian.Uint32(b[end:]) != crc32.Checksum(b[:end], crc32c):
		return 0, nil, errors.New("checksum mismatch")
	}
	marks := make([]shardMark, shards)
	off := marksHeaderLen
	for i := range marks {
		marks[i] = shardMark{
			Acked:     binary.LittleEndian.Uint64(b[off:]),
			Persisted: binary.LittleEndian.Uint64(b[off+8:]),
			Term:      binary.LittleEndian.Uint64(b[off+16:]),
		}
		off += marksShardLen
	}
	return binary.LittleEndian.Uint64(b[8:]), marks, nil
}

// get returns shard's mark as last set.
func (m *markFile) get(shard uint16) shardMark {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.marks[shard]
}

// ack records that shard's results up to index are about to be
// acknowledged and returns once that is on disk: at once when an earlier
// write already covers it.
func (m *markFile) ack(shard uint16, index uint64) error {
	if m.durableAcked[shard].Load() >= index {
		return nil
	}
	r, err := m.change(func() { m.marks[shard].Acked = max(m.marks[shard].Acked, index) })
	if err != nil {
		return err
	}
	return r.wait()
}

// persist starts recording that shard's log now ends at (index, term); the
// caller waits on the round once its own write is done. The mark is set,
// not raised: raft may have cut a conflicting suffix first.
func (m *markFile) persist(shard uint16, index, term uint64) (*markRound, error) {
	return m.change(func() { m.marks[shard] = shardMark{Acked: m.marks[shard].Acked, Persisted: index, Term: term} })
}

// set replaces shard's mark and waits until it is on disk.
func (m *markFile) set(shard uint16, mk shardMark) error {
	r, err := m.change(func() { m.marks[shard] = mk })
	if err != nil {
		return err
	}
	if err := r.wait(); err != nil {
		return err
	}
	m.durableAcked[shard].Store(mk.Acked) // may go down: a reset
	return nil
}

// change applies f to the marks and returns the round that will write it.
func (m *markFile) change(f func()) (*markRound, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	f()
	if m.next == nil {
		m.next = &markRound{done: make(chan struct{})}
		select {
		case m.kick <- struct{}{}:
		default:
		}
	}
	return m.next, nil
}

// writer writes one round at a time, each with every change made before it
// began.
func (m *markFile) writer() {
	defer close(m.done)
	var buf []byte
	var acked []uint64
	for {
		select {
		case <-m.kick:
		case <-m.stop:
			return
		}
		m.mu.Lock()
		r := m.next
		if r == nil {
			m.mu.Unlock()
			continue
		}
		m.next = nil
		m.seq++
		seq := m.seq
		// The writer's own buffers, reused round after round: a busy node
		// writes a round per group commit.
		if len(buf) != m.slotLen {
			buf, acked = make([]byte, m.slotLen), make([]uint64, m.shards)
		}
		buf = m.encodeInto(buf, m.marks, seq)
		for i := range m.marks {
			acked[i] = m.marks[i].Acked
		}
		m.mu.Unlock()
		r.err = m.writeCopy(seq, buf)
		if r.err == nil {
			for i, a := range acked {
				if a > m.durableAcked[i].Load() {
					m.durableAcked[i].Store(a)
				}
			}
		}
		m.noteFailure(r.err)
		close(r.done)
	}
}

// noteFailure logs when writes start failing and when they work again: a
// failing disk fails every round, and one line says it.
func (m *markFile) noteFailure(err error) {
	switch {
	case err != nil && !m.failing:
		m.failing = true
		m.log.Error("marks file: writes fail; results are not acknowledged until they work", "file", m.path, "error", err)
	case err == nil && m.failing:
		m.failing = false
		m.log.Info("marks file: writes work again", "file", m.path)
	}
}

// writeCopy writes copy seq into its slot, synced.
func (m *markFile) writeCopy(seq uint64, buf []byte) error {
	if _, err := m.f.WriteAt(buf, int64(seq%2)*int64(m.slotLen)); err != nil {
		return fmt.Errorf("raftstore: write %s: %w", m.path, err)
	}
	if markSyncFlag == 0 {
		if err := m.f.Sync(); err != nil {
			return fmt.Errorf("raftstore: sync %s: %w", m.path, err)
		}
	}
	return nil
}

// close stops the writer once the round under way is written; a round
// still waiting fails with ErrClosed. Nothing may change marks after close.
func (m *markFile) close() error {
	m.mu.Lock()
	m.closed = true
	r := m.next
	m.next = nil
	m.mu.Unlock()
	close(m.stop)
	<-m.done
	if r != nil {
		r.err = ErrClosed
		close(r.done)
	}
	return m.f.Close()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
