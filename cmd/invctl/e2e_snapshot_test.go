// invctl snapshot end to end: a real invd with tokens, some operations,
// then `invctl snapshot` (operator token): every shard reports a snapshot
// taken at an index, which /metrics and the snapshot folder confirm; a
// second snapshot right after reports every shard unchanged (nothing new)
// instead of failing; a storefront token is refused, and so is its STATUS
// (cluster status), while the operator's shows each shard's snapshot.
package main_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/invsys/inv/internal/invdtest"
)

func TestInvctlSnapshot(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	const opToken, sfToken = "op-token-snapshot-e2e-0123456789", "sf-token-snapshot-e2e-0123456789"
	hash := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	data := t.TempDir() + "/data"
	p, err := invdtest.Start(invdtest.Options{Bin: bins["invd"], Data: data, Shards: 4,
		Config: "heartbeat_timeout = 100ms\nelection_timeout = 100ms\nleader_lease_timeout = 50ms\n" +
			"token = operator " + hash(opToken) + "\ntoken = storefront " + hash(sfToken) + "\n"})
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
	a := p.Addr()
	op := func(args ...string) string { return ok(t, a, append([]string{"--token", opToken}, args...)...) }

	op("item", "put", "--sku", "4710088412345", "--store", "TPE0427", "--stock", "10")
	op("item", "put", "--sku", "4710088499999", "--store", "KHH0113", "--stock", "5")
	op("reserve", "--sku", "4710088412345", "--store", "TPE0427", "--customer", "M00012345", "--qty", "2")

	type shardOut struct {
		Shard  int    `json:"shard"`
		Status string `json:"status"`
		Index  uint64 `json:"index"`
		Error  string `json:"error"`
	}
	var first, second struct {
		Node   strID      `json:"node"`
		Shards []shardOut `json:"shards"`
	}
	if err := json.Unmarshal([]byte(op("snapshot", "--json")), &first); err != nil {
		t.Fatal(err)
	}
	if first.Node == 0 || len(first.Shards) != 4 {
		t.Fatalf("snapshot: %+v, want node id and 4 shards", first)
	}
	for i, s := range first.Shards {
		// Every shard applied at least its bootstrap configuration, so each
		// has something to snapshot the first time.
		if s.Shard != i || s.Status != "taken" || s.Index == 0 || s.Error != "" {
			t.Fatalf("snapshot: shard %d: %+v, want taken at an index", i, s)
		}
	}

	// The snapshot exists: /metrics reports its index and the folder holds it.
	code, metrics, err := p.HTTPGet("/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	for _, s := range first.Shards {
		line := `inv_shard_last_snapshot_index{shard="` + strconv.Itoa(s.Shard) + `"} ` + strconv.FormatUint(s.Index, 10)
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %q", line)
		}
		dir := filepath.Join(data, "shards", strconv.Itoa(s.Shard), "snapshots")
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range ents {
			// raft's file store names a snapshot term-index-millis.
			if parts := strings.Split(e.Name(), "-"); e.IsDir() && len(parts) == 3 &&
				parts[1] == strconv.FormatUint(s.Index, 10) {
				if _, err := os.Stat(filepath.Join(dir, e.Name(), "state.bin")); err == nil {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("shard %d: no snapshot at index %d in %s (%v)", s.Shard, s.Index, dir, ents)
		}
	}

	// Nothing applied since: every shard says so, and the op succeeds.
	if err := json.Unmarshal([]byte(op("snapshot", "--json")), &second); err != nil {
		t.Fatal(err)
	}
	for i, s := range second.Shards {
		if s.Status != "unchanged" || s.Index != first.Shards[i].Index {
			t.Fatalf("second snapshot: shard %d: %+v, want unchanged at %d", i, s, first.Shards[i].Index)
		}
	}

	// One more write, then the table: its shard is taken again, the rest unchanged.
	op("item", "restock", "--sku", "4710088412345", "--store", "TPE0427", "--qty", "1")
	out := op("snapshot")
	if !strings.HasPrefix(out, "SHARD") || strings.Count(out, "taken") != 1 || strings.Count(out, "unchanged") != 3 {
		t.Fatalf("snapshot table:\n%s", out)
	}

	// Operator only.
	_, errs, code := invctl(t, a, "--token", sfToken, "snapshot")
	if code != 3 || !strings.HasPrefix(errs, "unauthorized") {
		t.Fatalf("storefront snapshot: exit %d, stderr %q; want 3 and unauthorized", code, errs)
	}
	// So is STATUS: cluster status still prints the topology, the node
	// refused, and exits 3; the operator sees the snapshots taken above.
	out, errs, code = invctl(t, a, "--token", sfToken, "cluster", "status")
	if code != 3 || !strings.HasPrefix(errs, "unauthorized") || !strings.Contains(out, "refused: inv: unauthorized") ||
		!strings.Contains(out, "REPLICAS") {
		t.Fatalf("storefront cluster status: exit %d, stderr %q, out:\n%s", code, errs, out)
	}
	var st clusterOut
	if err := json.Unmarshal([]byte(op("--json", "cluster", "status")), &st); err != nil {
		t.Fatal(err)
	}
	for i, s := range st.Shards {
		if len(s.Raft) != 1 || s.Raft[0].LastSnapshotIndex < first.Shards[i].Index || s.Raft[0].LastSnapshotTerm == 0 {
			t.Errorf("cluster status: shard %d: %+v, want a snapshot at %d or later", i, s.Raft, first.Shards[i].Index)
		}
	}
}
