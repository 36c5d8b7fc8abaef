// Damaged and unfinished snapshots in a real data folder. A real invd
// writes reservations until it has snapshotted and truncated its log, and
// is stopped; the test then damages its files the way a crash or a disk
// does and starts invd again on a copy:
//
//   - an unfinished "<snapshot>.tmp" folder, as a kill -9 during a
//     snapshot's write leaves it (meta.json without a checksum, part of
//     state.bin): the next start removes it, logging its name and size
//     once, and raft never warns about it again while it snapshots on;
//   - the newest snapshot damaged (state.bin truncated, a byte of it
//     flipped, meta.json cut short, or a state whose checksum holds but
//     that does not decode) while the log no longer holds the entries
//     after the older snapshot: invd exits with status 1 and one error
//     naming the file, what is wrong and what to do, never a panic, and
//     the snapshot folders are left exactly as they were;
//   - the same damage while the log still holds every entry after the
//     older snapshot: invd moves the damaged snapshot aside, restores the
//     older one, replays the log, and every reservation is back.
package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc64"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
)

// snapshotGapConfig snapshots every 64 entries and keeps 16 after each:
// the log starts long after the older snapshot.
const snapshotGapConfig = snapshotConfig + "log_level = warn\n"

// snapshotKeepConfig snapshots as often but keeps the whole log.
const snapshotKeepConfig = `
snapshot_threshold = 64
trailing_logs = 100000
snapshot_interval = 100ms
log_level = warn
`

// snapshotFolder is a stopped server's data folder with two snapshots of
// shard 0, and what was written to it.
type snapshotFolder struct {
	data   string
	config string
	ids    []uint64
	states map[uint64]engine.State
}

// makeSnapshotFolder writes one reservation per raft entry to a one-shard
// server until shard 0 has two snapshots, then stops it gracefully.
func makeSnapshotFolder(t *testing.T, config string) *snapshotFolder {
	t.Helper()
	f := &snapshotFolder{data: t.TempDir() + "/data", config: fastRaft + config, states: map[uint64]engine.State{}}
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: f.data, Shards: 1, Config: f.config})
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	c := dial(t, p)
	want(t, c, engine.OK, putItem("SD", "S1", 100_000))
	for i := 0; i < 400 && len(snapshotNames(t, f.data)) < 2 || i < 200; i++ {
		r := want(t, c, engine.OK, reserve("SD", "S1", fmt.Sprintf("sd-%d", i), 1))
		f.ids = append(f.ids, r.ID)
		f.states[r.ID] = engine.StateHeld
		if i%4 == 0 {
			f.states[r.ID] = want(t, c, engine.OK, onID(engine.OpConfirm, r.ID)).State
		}
		if i%50 == 49 {
			time.Sleep(150 * time.Millisecond) // let a snapshot interval pass
		}
	}
	time.Sleep(300 * time.Millisecond)
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if n := len(snapshotNames(t, f.data)); n < 2 {
		t.Fatalf("shard 0 has %d snapshots, want 2", n)
	}
	return f
}

// copyOf copies the folder for one case.
func (f *snapshotFolder) copyOf(t *testing.T) *snapshotFolder {
	t.Helper()
	c := *f
	c.data = t.TempDir() + "/data"
	if out, err := exec.Command("cp", "-a", f.data, c.data).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return &c
}

func snapshotsDir(data string) string { return filepath.Join(data, "shards", "0", "snapshots") }

// snapshotNames lists shard 0's finished snapshots, newest first (raft
// names them term-index-msec).
func snapshotNames(t *testing.T, data string) []string {
	t.Helper()
	entries, _ := os.ReadDir(snapshotsDir(data))
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasSuffix(e.Name(), ".tmp") {
			names = append(names, e.Name())
		}
	}
	num := func(s string, i int) uint64 {
		n, _ := strconv.ParseUint(strings.Split(s, "-")[i], 10, 64)
		return n
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := names[i], names[j]
		if num(a, 0) != num(b, 0) {
			return num(a, 0) > num(b, 0)
		}
		return num(a, 1) > num(b, 1)
	})
	return names
}

// shardsTree is every file under DIR/shards with its contents.
func shardsTree(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(filepath.Join(data, "shards"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

// runToExit runs invd on the folder, expecting it to stop by itself, and
// returns its exit status and output.
func (f *snapshotFolder) runToExit(t *testing.T) (int, string) {
	t.Helper()
	conf := f.data + ".conf"
	if err := os.WriteFile(conf, []byte(f.config), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, invdBin, "--data", f.data, "--listen", invdtest.FreeAddr(),
		"--http", invdtest.FreeAddr(), "--shards", "1", "--config", conf)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("invd still ran after a minute:\n%s", out)
	}
	if err == nil {
		return 0, string(out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	t.Fatal(err)
	return 0, ""
}

// snapshotDamage is one way a snapshot's files get damaged.
type snapshotDamage struct {
	name string
	file string // the file named in the error, under the snapshot's folder
	want string // words of the error
	do   func(t *testing.T, snap string)
}

var snapshotDamages = []snapshotDamage{
	{"truncated state", "state.bin", "truncated or extended", func(t *testing.T, snap string) {
		p := filepath.Join(snap, "state.bin")
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, fi.Size()/2); err != nil {
			t.Fatal(err)
		}
	}},
	{"flipped bytes in state", "state.bin", "checksum mismatch", func(t *testing.T, snap string) {
		p := filepath.Join(snap, "state.bin")
		b, _ := os.ReadFile(p)
		for i := len(b) / 3; i < len(b)/3+4; i++ {
			b[i] ^= 0xA5
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	{"bad meta JSON", "meta.json", "meta.json does not decode", func(t *testing.T, snap string) {
		p := filepath.Join(snap, "meta.json")
		b, _ := os.ReadFile(p)
		if err := os.WriteFile(p, append(b[:len(b)/2:len(b)/2], "\x00garbage"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	{"state that does not decode", "state.bin", "its checksum holds but its state does not restore", func(t *testing.T, snap string) {
		// The compressed state is damaged and meta.json's checksum made to
		// match: only the restore itself can tell.
		p := filepath.Join(snap, "state.bin")
		b, _ := os.ReadFile(p)
		for i := 13 + (len(b)-13)/2; i < 13+(len(b)-13)/2+16 && i < len(b); i++ {
			b[i] ^= 0xFF
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		mp := filepath.Join(snap, "meta.json")
		var meta map[string]any
		mb, _ := os.ReadFile(mp)
		if err := json.Unmarshal(mb, &meta); err != nil {
			t.Fatal(err)
		}
		h := crc64.New(crc64.MakeTable(crc64.ECMA))
		h.Write(b)
		meta["CRC"] = h.Sum(nil)
		mb, _ = json.Marshal(meta)
		if err := os.WriteFile(mp, mb, 0o644); err != nil {
			t.Fatal(err)
		}
	}},
}

func TestSnapshotDamagedNewestStopsWithAClearError(t *testing.T) {
	base := makeSnapshotFolder(t, snapshotGapConfig)
	for _, d := range snapshotDamages {
		t.Run(d.name, func(t *testing.T) {
			f := base.copyOf(t)
			newest := filepath.Join(snapshotsDir(f.data), snapshotNames(t, f.data)[0])
			d.do(t, newest)
			before := shardsTree(t, f.data)
			code, out := f.runToExit(t)
			if code != 1 || strings.Contains(out, "panic") {
				t.Fatalf("exit status %d, want 1 and no panic; output:\n%s", code, out)
			}
			// One error line, last, naming the file and what to do.
			lines := strings.Split(strings.TrimSpace(out), "\n")
			msg := lines[len(lines)-1]
			wants := []string{"invd: ", "shard 0", filepath.Join(newest, d.file), d.want, "Nothing was changed", "docs/OPERATIONS.md"}
			for _, w := range wants {
				if !strings.Contains(msg, w) {
					t.Errorf("the error lacks %q:\n%s", w, out)
				}
			}
			if after := shardsTree(t, f.data); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the snapshot folders changed")
			}
		})
	}
}

func TestSnapshotDamagedNewestFallsBackWhenTheLogCovers(t *testing.T) {
	base := makeSnapshotFolder(t, snapshotKeepConfig)
	for _, d := range snapshotDamages[1:3] { // a checksum mismatch; a meta.json raft cannot even list
		t.Run(d.name, func(t *testing.T) {
			f := base.copyOf(t)
			names := snapshotNames(t, f.data)
			d.do(t, filepath.Join(snapshotsDir(f.data), names[0]))
			p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: f.data, Shards: 1, Config: f.config})
			if err != nil {
				t.Fatal(err)
			}
			cleanupProc(t, &p)
			c := dial(t, p)
			got := getReservations(t, c, f.ids)
			for i, id := range f.ids {
				if got[i].Code != engine.OK || got[i].State != f.states[id] {
					t.Fatalf("reservation %d: %s %s, want %s", id, got[i].Code, got[i].State, f.states[id])
				}
			}
			logs := p.Logs()
			if n := strings.Count(logs, "moved a damaged snapshot aside"); n != 1 ||
				!strings.Contains(logs, "name="+names[0]) || !strings.Contains(logs, d.want) ||
				!strings.Contains(logs, "restoring_from=\""+names[1]) {
				t.Errorf("want one line moving %s aside (%s), restoring %s; log:\n%s", names[0], d.want, names[1], logs)
			}
			if _, err := os.Stat(filepath.Join(f.data, "shards", "0", "snapshots-damaged", names[0])); err != nil {
				t.Errorf("damaged snapshot not kept aside: %v", err)
			}
			if left := snapshotNames(t, f.data); len(left) == 0 || left[0] == names[0] {
				t.Errorf("snapshots now %v", left)
			}
		})
	}
}

func TestSnapshotUnfinishedFolderRemovedAtStart(t *testing.T) {
	f := makeSnapshotFolder(t, snapshotGapConfig).copyOf(t)
	names := snapshotNames(t, f.data)
	// What a kill -9 inside a snapshot's write leaves: raft's Create wrote
	// meta.json without a checksum, and part of the state reached the disk.
	var term, index uint64
	fmt.Sscanf(names[0], "%d-%d-", &term, &index)
	tmpName := fmt.Sprintf("%d-%d-%d.tmp", term, index+64, time.Now().UnixMilli())
	tmp := filepath.Join(snapshotsDir(f.data), tmpName)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf(`{"Version":1,"ID":%q,"Index":%d,"Term":%d,"Peers":null,"Configuration":{"Servers":[]},"ConfigurationIndex":1,"Size":0,"CRC":null}`+"\n",
		strings.TrimSuffix(tmpName, ".tmp"), index+64, term)
	state, _ := os.ReadFile(filepath.Join(snapshotsDir(f.data), names[0], "state.bin"))
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "state.bin"), state[:len(state)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	size := len(meta) + len(state)/2

	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: f.data, Shards: 1, Config: f.config})
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	if _, err := os.Stat(tmp); err == nil {
		t.Fatalf("the unfinished snapshot %s is still there after the start", tmpName)
	}
	logs := p.Logs()
	if strings.Count(logs, "removed an unfinished snapshot") != 1 || !strings.Contains(logs, "name="+tmpName) ||
		!strings.Contains(logs, fmt.Sprintf("bytes=%d", size)) {
		t.Errorf("want one line naming %s and its %d bytes; log:\n%s", tmpName, size, logs)
	}
	// The shard snapshots on (raft lists the folder each time) without a
	// word about temporary folders.
	c := dial(t, p)
	for i := range 200 {
		want(t, c, engine.OK, reserve("SD", "S1", fmt.Sprintf("sd-more-%d", i), 1))
	}
	time.Sleep(300 * time.Millisecond)
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if now := snapshotNames(t, f.data); now[0] == names[0] {
		t.Errorf("no snapshot taken after the start: %v", now)
	}
	if logs := p.Logs(); strings.Contains(logs, "temporary snapshot") {
		t.Errorf("raft still warns about a temporary snapshot:\n%s", logs)
	}
	if entries, _ := os.ReadDir(snapshotsDir(f.data)); !bytes.Contains([]byte(fmt.Sprint(entries)), []byte("-")) {
		t.Errorf("snapshot folder: %v", entries)
	}
}
