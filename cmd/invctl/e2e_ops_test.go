// invctl's operator commands end to end: real invd processes, and the
// invctl binary run as a shell user would. Each test runs every command of
// one area and checks its output (the table, or the JSON with --json) and
// what the server holds afterwards through another command:
//
//   - items: put, get, list, adjust, restock, sale-window, limit,
//     member-share; windows: put, get; stores with stock for a SKU (not
//     those whose sale has closed);
//   - customers: block (a reserve is then refused), get, tier, unblock;
//   - reservations: get, list by customer, a pickup locked by wrong codes
//     and unlocked, extend, reschedule, return;
//   - cluster status: TOPOLOGY, and each shard's raft state and indexes
//     from STATUS, which move on with writes (applied <= commit <= last log);
//   - tail: the change feed in order from the start, from a position, and
//     followed live;
//   - import of a file with bad rows (exit 1, every bad line reported,
//     nothing loaded), then of a good file, and export reading back the
//     same catalog;
//   - settings: the address and token from INV_ADDR and from a config file.
package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/internal/catalog"
	"github.com/invsys/inv/internal/invdtest"
)

const fastConfig = "heartbeat_timeout = 100ms\nelection_timeout = 100ms\nleader_lease_timeout = 50ms\n"

// startServer starts an invd of shards shards for one test.
func startServer(t *testing.T, shards int) *invdtest.Proc {
	t.Helper()
	p, err := invdtest.Start(invdtest.Options{Bin: bins["invd"], Data: t.TempDir() + "/data", Shards: shards, Config: fastConfig})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if p.DataRace() {
			t.Error("the race detector flagged invd")
		}
		if t.Failed() {
			t.Logf("invd log:\n%s", p.Logs())
		}
	})
	return p
}

// okJSON runs a command with --json and decodes its output into v.
func okJSON(t *testing.T, addr string, v any, args ...string) {
	t.Helper()
	out := ok(t, addr, append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("invctl %v: %v in %q", args, err, out)
	}
}

func mustContain(t *testing.T, what, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(out, p) {
			t.Fatalf("%s: %q lacks %q", what, out, p)
		}
	}
}

type itemOut struct {
	SKU, Store                        string
	Stock, Available, Held, Confirmed int64
	Limit                             int64
	OpensAt                           *time.Time `json:"opens_at"`
	ClosesAt                          *time.Time `json:"closes_at"`
	MemberTier                        uint8      `json:"member_tier"`
	MemberUnits                       int64      `json:"member_units"`
	Windows                           []struct {
		Start, End  time.Time
		Quota, Used int64
	}
}

func TestInvctlItems(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 4).Addr()
	sku, store := "4710000000011", "TPE0001"
	ok(t, a, "item", "put", "--sku", sku, "--store", store, "--stock", "10")
	ok(t, a, "item", "put", "--sku", sku, "--store", "KHH0002", "--stock", "4")
	mustContain(t, "restock", ok(t, a, "item", "restock", "--sku", sku, "--store", store, "--qty", "5"), "ok")
	ok(t, a, "item", "adjust", "--sku", sku, "--store", store, "--qty", "-3")
	ok(t, a, "item", "limit", "--sku", sku, "--limit", "2") // the SKU's, at every store
	if _, errs, code := invctl(t, a, "item", "limit", "--sku", sku, "--store", store, "--limit", "2"); code != 2 || !strings.Contains(errs, "the same at every store") {
		t.Fatalf("item limit --store: exit %d, stderr %q", code, errs)
	}
	ok(t, a, "item", "sale-window", "--sku", sku, "--store", store, "--opens", "2020-01-01T00:00:00Z", "--closes", "2040-01-01T00:00:00Z")
	ok(t, a, "item", "member-share", "--sku", sku, "--store", store, "--tier", "1", "--units", "3", "--cutoff", "2039-01-01T00:00:00Z")
	ok(t, a, "window", "put", "--sku", sku, "--store", store, "--start", "2039-06-01T10:00:00Z", "--end", "2039-06-01T12:00:00Z", "--quota", "6")

	var it itemOut
	okJSON(t, a, &it, "item", "get", "--sku", sku, "--store", store)
	if it.Stock != 12 || it.Limit != 2 || it.MemberTier != 1 || it.MemberUnits != 3 || it.OpensAt == nil ||
		it.ClosesAt == nil || it.ClosesAt.Year() != 2040 || len(it.Windows) != 1 || it.Windows[0].Quota != 6 {
		t.Fatalf("item after the operator commands: %+v", it)
	}
	refused(t, a, "below_promised", "item", "adjust", "--sku", sku, "--store", store, "--qty", "-13")

	var w struct{ Quota, Used int64 }
	okJSON(t, a, &w, "window", "get", "--sku", sku, "--store", store, "--start", "2039-06-01T10:00:00Z")
	if w.Quota != 6 || w.Used != 0 {
		t.Fatalf("window get: %+v", w)
	}
	mustContain(t, "window get table", ok(t, a, "window", "get", "--sku", sku, "--store", store, "--start", "2039-06-01T10:00:00Z"),
		"QUOTA", "2039-06-01T10:00:00Z")

	var list []itemOut
	okJSON(t, a, &list, "item", "list", "--sku", sku)
	if len(list) != 2 {
		t.Fatalf("item list: %+v", list)
	}
	mustContain(t, "item list table", ok(t, a, "item", "list"), "SKU", "STORE", "TPE0001", "KHH0002")

	var ss []struct {
		Store     string
		Available int64
	}
	okJSON(t, a, &ss, "stores", "--sku", sku)
	// TPE0001: 12 units, 3 of them kept for members until the cutoff.
	if len(ss) != 2 || ss[0].Store != "KHH0002" || ss[0].Available != 4 || ss[1].Available != 9 {
		t.Fatalf("stores: %+v", ss)
	}
	mustContain(t, "stores table", ok(t, a, "stores", "--sku", sku), "STORE", "AVAILABLE", "KHH0002")

	// A store whose sale has closed cannot sell its units: not listed. One
	// whose sale opens later will: listed.
	ok(t, a, "item", "put", "--sku", sku, "--store", "KHH0003", "--stock", "7", "--opens", "2020-01-01T00:00:00Z", "--closes", "2021-01-01T00:00:00Z")
	ok(t, a, "item", "put", "--sku", sku, "--store", "KHH0004", "--stock", "8", "--opens", "2039-01-01T00:00:00Z")
	okJSON(t, a, &ss, "stores", "--sku", sku)
	if len(ss) != 3 || ss[0].Store != "KHH0002" || ss[1].Store != "KHH0004" || ss[2].Store != store {
		t.Fatalf("stores with a closed and a later sale: %+v", ss)
	}
}

func TestInvctlCustomersAndReservations(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 4).Addr()
	sku, store := "4710000000028", "TPE0003"
	// win1 is later; win2 is open now, so that its orders may be picked up.
	win1, win2 := "2039-06-01T10:00:00Z", "2020-01-01T00:00:00Z"
	ok(t, a, "item", "put", "--sku", sku, "--store", store, "--stock", "10",
		"--window", win1+",2039-06-01T12:00:00Z,5", "--window", win2+",2039-01-01T00:00:00Z,5")

	ok(t, a, "customer", "block", "M1")
	refused(t, a, "blocked", "reserve", "--sku", sku, "--store", store, "--customer", "M1")
	var cu struct {
		ID      string
		Tier    uint8
		Blocked bool
	}
	okJSON(t, a, &cu, "customer", "get", "M1")
	if !cu.Blocked {
		t.Fatalf("customer get after block: %+v", cu)
	}
	ok(t, a, "customer", "unblock", "M1")
	ok(t, a, "customer", "tier", "M1", "--tier", "2")
	okJSON(t, a, &cu, "customer", "get", "M1")
	if cu.Blocked || cu.Tier != 2 {
		t.Fatalf("customer get after unblock and tier: %+v", cu)
	}
	mustContain(t, "customer get table", ok(t, a, "customer", "get", "M1"), "TIER", "M1")

	id := ok(t, a, "reserve", "--sku", sku, "--store", store, "--customer", "M1", "--window", win1)
	id2 := ok(t, a, "reserve", "--sku", sku, "--store", store, "--customer", "M1", "--qty", "2", "--window", win1)
	mustContain(t, "extend", ok(t, a, "extend", id2, "--ttl", "5m"), "held until")
	code := ok(t, a, "confirm", id)
	refused(t, a, "too_early", "pickup", "--id", id, "--store", store, "--code", code) // win1 has not started: no attempt counted
	mustContain(t, "reschedule", ok(t, a, "reschedule", id, "--window", win2), "confirmed window "+win2)

	// Five wrong codes lock the reservation; an operator unlocks it.
	wrong := "000000000000"
	if wrong == code {
		wrong = "000000000001"
	}
	for range 4 {
		refused(t, a, "bad_code", "pickup", "--id", id, "--store", store, "--code", wrong)
	}
	refused(t, a, "locked", "pickup", "--id", id, "--store", store, "--code", wrong)
	var r struct {
		ID       strID
		State    string
		Locked   bool
		Attempts int64
		Window   *time.Time
	}
	okJSON(t, a, &r, "reservation", "get", id)
	if !r.Locked || r.State != "confirmed" || r.Window == nil || r.Window.Format(time.RFC3339) != win2 {
		t.Fatalf("reservation get after five wrong codes: %+v", r)
	}
	mustContain(t, "unlock", ok(t, a, "reservation", "unlock", id), "unlocked "+id)
	okJSON(t, a, &r, "reservation", "get", id)
	if r.Locked {
		t.Fatalf("still locked after unlock: %+v", r)
	}
	if out := ok(t, a, "pickup", "--store", store, "--code", code); out != id+" picked_up" {
		t.Fatalf("pickup after unlock: %q", out)
	}
	mustContain(t, "return", ok(t, a, "return", id, "--restock"), "returned")

	var rs []struct {
		ID    strID
		State string
	}
	okJSON(t, a, &rs, "reservation", "list", "--customer", "M1")
	if len(rs) != 2 || fmt.Sprint(rs[0].ID) != id || rs[0].State != "returned" || rs[1].State != "held" {
		t.Fatalf("reservation list: %+v", rs)
	}
	mustContain(t, "reservation list table", ok(t, a, "reservation", "list", "--customer", "M1"),
		"ID", "STATE", "returned", "held")
	refused(t, a, "not_found", "reservation", "get", "999999")
}

// clusterOut is `invctl --json cluster status`.
type clusterOut struct {
	Version uint64
	Nodes   []struct {
		ID       strID
		Addr     string
		Status   string
		Error    string
		Server   string
		UptimeMs uint64 `json:"uptime_ms"`
	}
	Shards []struct {
		Shard    int
		Leader   strID
		Replicas []strID
		Raft     []replicaOut
	}
}

type replicaOut struct {
	Node              strID
	State             string
	Leader            strID
	Term              uint64
	LastLogIndex      uint64 `json:"last_log_index"`
	LastLogTerm       uint64 `json:"last_log_term"`
	CommitIndex       uint64 `json:"commit_index"`
	AppliedIndex      uint64 `json:"applied_index"`
	LastSnapshotIndex uint64 `json:"last_snapshot_index"`
	LastSnapshotTerm  uint64 `json:"last_snapshot_term"`
}

// checkIndexes fails unless a replica's indexes are in the order raft
// keeps them: something applied, applied <= commit <= last log, and a
// term for each.
func checkIndexes(t *testing.T, shard int, r replicaOut) {
	t.Helper()
	if r.AppliedIndex == 0 || r.CommitIndex < r.AppliedIndex || r.LastLogIndex < r.CommitIndex ||
		r.Term == 0 || r.LastLogTerm == 0 || r.LastLogTerm > r.Term {
		t.Fatalf("shard %d, node %d: indexes out of order: %+v", shard, r.Node, r)
	}
}

func TestInvctlClusterStatus(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 3).Addr()
	var before clusterOut
	okJSON(t, a, &before, "cluster", "status")
	for i := range 6 {
		ok(t, a, "item", "put", "--sku", fmt.Sprintf("47100000000%02d", i), "--store", "TPE0001", "--stock", "5")
	}
	ok(t, a, "customer", "block", "M1") // a write on every shard

	var st clusterOut
	okJSON(t, a, &st, "cluster", "status")
	if len(st.Nodes) != 1 || st.Nodes[0].Addr != a || st.Nodes[0].Status != "ok" || st.Nodes[0].Server == "" ||
		st.Nodes[0].Error != "" || len(st.Shards) != 3 {
		t.Fatalf("cluster status: %+v", st)
	}
	if st.Nodes[0].UptimeMs == 0 {
		t.Errorf("uptime 0 ms on a node started a while ago")
	}
	id := st.Nodes[0].ID
	written := uint64(0)
	for i, s := range st.Shards {
		if s.Shard != i || s.Leader != id || len(s.Replicas) != 1 || len(s.Raft) != 1 {
			t.Fatalf("shard %d: %+v", i, s)
		}
		r := s.Raft[0]
		if r.Node != id || r.State != "leader" || r.Leader != id {
			t.Fatalf("shard %d: replica %+v, want node %d leading", i, r, id)
		}
		checkIndexes(t, i, r)
		// A single node commits and applies at once: nothing is in
		// flight once invctl has its answers.
		if r.CommitIndex != r.AppliedIndex || r.LastLogIndex != r.CommitIndex {
			t.Errorf("shard %d: commit %d, applied %d, last log %d on an idle single node",
				i, r.CommitIndex, r.AppliedIndex, r.LastLogIndex)
		}
		// The writes moved every shard on.
		if prev := before.Shards[i].Raft[0].AppliedIndex; r.AppliedIndex <= prev {
			t.Errorf("shard %d: applied %d after the writes, %d before", i, r.AppliedIndex, prev)
		}
		written += r.AppliedIndex - before.Shards[i].Raft[0].AppliedIndex
	}
	if written < 9 { // 6 items and a block on each of 3 shards, each its own entry at least
		t.Errorf("the indexes moved by %d entries over 9 writes", written)
	}
	out := ok(t, a, "cluster", "status")
	mustContain(t, "cluster status table", out, "NODE", "SHARD", "LEADER", a, "STATE", "TERM", "COMMIT", "APPLIED",
		"SNAPSHOT", "leader")
	// One replica row per shard, with its applied index.
	for i, s := range st.Shards {
		row := replicaRow(out, i, id)
		if row == nil || row[2] != "leader" || row[7] != fmt.Sprint(s.Raft[0].AppliedIndex) {
			t.Fatalf("cluster status table: shard %d's replica row %q:\n%s", i, row, out)
		}
	}
}

// replicaRow finds the row of the replica table for shard and node:
// SHARD NODE STATE LEADER TERM LAST_LOG COMMIT APPLIED SNAPSHOT, or the
// node's status and dashes. nil if there is none.
func replicaRow(table string, shard int, node strID) []string {
	header := false
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[0] == "SHARD" && f[1] == "NODE" {
			header = true
			continue
		}
		if header && len(f) == 9 && f[0] == fmt.Sprint(shard) && f[1] == fmt.Sprint(node) {
			return f
		}
	}
	return nil
}

type tailEvent struct {
	Shard    int
	Position string
	Kind     string
	ID       strID
	SKU      string
}

func tailLines(t *testing.T, out string) []tailEvent {
	t.Helper()
	var evs []tailEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev tailEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("tail line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func TestInvctlTail(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 1).Addr()
	sku, store := "4710000000035", "TPE0004"
	ok(t, a, "item", "put", "--sku", sku, "--store", store, "--stock", "5")
	id := ok(t, a, "reserve", "--sku", sku, "--store", store, "--customer", "T1")
	ok(t, a, "confirm", id)

	evs := tailLines(t, ok(t, a, "tail", "--json", "--count", "3"))
	kinds := []string{}
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	if strings.Join(kinds, ",") != "item_put,reserved,confirmed" || fmt.Sprint(evs[1].ID) != id {
		t.Fatalf("tail from the start: %+v", evs)
	}
	// From the position of the reserve: the next event only.
	next := tailLines(t, ok(t, a, "tail", "--json", "--shard", "0", "--from", evs[1].Position, "--count", "1"))
	if len(next) != 1 || next[0].Kind != "confirmed" {
		t.Fatalf("tail --from %s: %+v", evs[1].Position, next)
	}
	// Followed live: a change made while tail waits is printed.
	cmd := exec.Command(bins["invctl"], "--addr", a, "tail", "--shard", "0", "--from", evs[2].Position, "--count", "1")
	cmd.Env = invdtest.Env()
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	ok(t, a, "cancel", id)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(out.String(), "cancelled") || !strings.Contains(out.String(), "id="+id) {
			t.Fatalf("live tail: %v %q", err, out.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("live tail printed nothing")
	}
}

func TestInvctlImportExport(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 4).Addr()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	writeFile(t, bad, `sku,store,stock,limit,pickup_windows
4710000000042,TPE0005,10,2,
4710000000042,TPE0006,12a,,
4710000000059,TPE0005,5,,2039-06-01T10:00:00Z/2039-06-01T12:00:00Z/3
4710000000059,TPE0007,-1,,
4710000000066,TPE0005,7,,2039-06-01T10:00:00Z/2039-06-01T09:00:00Z/3
`)
	out, errs, code := invctl(t, a, "import", bad)
	if code != 1 {
		t.Fatalf("import of a bad file: exit %d, stdout %q stderr %q", code, out, errs)
	}
	mustContain(t, "bad import", errs, "line 3: stock", "line 5: stock", "line 6: pickup_windows", "3 bad row(s), nothing loaded")
	if strings.Contains(errs, "line 2:") || strings.Contains(errs, "line 4:") {
		t.Fatalf("good rows reported as bad: %q", errs)
	}
	var none []itemOut
	okJSON(t, a, &none, "item", "list")
	if len(none) != 0 {
		t.Fatalf("a refused import loaded items: %+v", none)
	}

	good := filepath.Join(dir, "good.csv")
	var b strings.Builder
	b.WriteString("sku,store,stock,limit,opens_at,closes_at,member_tier,member_units,member_cutoff,pickup_windows\n")
	const rows = 300
	for i := range rows {
		fmt.Fprintf(&b, "47100000%05d,TPE%04d,%d,%d,,,,,,", i/3, i%3, 10+i, i/3%4) // one limit per SKU, on each of its rows
		if i%2 == 0 {
			b.WriteString("2039-06-01T10:00:00Z/2039-06-01T12:00:00Z/3;2039-06-02T10:00:00Z/2039-06-02T12:00:00Z/4")
		}
		b.WriteString("\n")
	}
	writeFile(t, good, b.String())
	out, errs, code = invctl(t, a, "import", good)
	if code != 0 || out != fmt.Sprintf("imported %d of %d rows", rows, rows) {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	mustContain(t, "progress bar", errs, fmt.Sprintf("] %d/%d rows", rows, rows), "[#####")

	exported := filepath.Join(dir, "export.csv")
	ok(t, a, "export", "--out", exported)
	want := parseCatalog(t, good)
	got := parseCatalog(t, exported)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("export differs from the import: %d rows, want %d", len(got), len(want))
	}
	// Export to stdout, one SKU.
	one := ok(t, a, "export", "--sku", "4710000000000")
	if n := strings.Count(one, "\n"); n != 3 { // the header and 3 stores
		t.Fatalf("export --sku: %d lines:\n%s", n+1, one)
	}
}

// parseCatalog reads a catalog file into its rows (line numbers dropped),
// sorted as export writes them.
func parseCatalog(t *testing.T, path string) map[string]catalog.Row {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, bad := catalog.Parse(f)
	if len(bad) > 0 {
		t.Fatalf("%s: %v", path, bad)
	}
	out := map[string]catalog.Row{}
	for _, r := range rows {
		r.Line = 0
		out[r.SKU+"/"+r.Store] = r
	}
	return out
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInvctlSettings(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	p := startServer(t, 2)
	sku, store := "4710000000073", "TPE0008"
	ok(t, p.Addr(), "item", "put", "--sku", sku, "--store", store, "--stock", "1")
	run := func(env []string, args ...string) (string, int) {
		cmd := exec.Command(bins["invctl"], args...)
		cmd.Env = append(invdtest.Env(), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if ee, isExit := err.(*exec.ExitError); isExit {
			return out.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	home := t.TempDir() // no default config file there
	get := []string{"item", "get", "--sku", sku, "--store", store}
	if out, code := run([]string{"HOME=" + home, "INV_ADDR=" + p.Addr()}, get...); code != 0 || !strings.Contains(out, "stock=1") {
		t.Fatalf("INV_ADDR: exit %d %q", code, out)
	}
	conf := filepath.Join(t.TempDir(), "invctl.conf")
	writeFile(t, conf, "# test\naddr = "+p.Addr()+"\ntoken = \n")
	if out, code := run([]string{"HOME=" + home}, append([]string{"--config", conf}, get...)...); code != 0 || !strings.Contains(out, "stock=1") {
		t.Fatalf("--config: exit %d %q", code, out)
	}
	// The default file, ~/.config/inv/invctl.conf.
	if err := os.MkdirAll(filepath.Join(home, ".config", "inv"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".config", "inv", "invctl.conf"), "addr = "+p.Addr()+"\n")
	if out, code := run([]string{"HOME=" + home, "INV_ADDR="}, get...); code != 0 || !strings.Contains(out, "stock=1") {
		t.Fatalf("default config file: exit %d %q", code, out)
	}
	// A flag wins over the environment.
	if _, code := run([]string{"HOME=" + home, "INV_ADDR=" + invdtest.FreeAddr()}, append([]string{"--addr", p.Addr()}, get...)...); code != 0 {
		t.Fatalf("--addr over INV_ADDR: exit %d", code)
	}
	writeFile(t, conf, "adress = x\n")
	if _, code := run([]string{"HOME=" + home}, append([]string{"--config", conf}, get...)...); code != 2 {
		t.Fatalf("a bad config file: exit %d, want 2", code)
	}
}
