// invctl's store commands end to end against a real invd: a store's time
// zone and windows put (times without an offset read in the store's zone),
// read back in that zone (table and JSON), an item's windows and sale
// window printed in its store's zone too, a reservation's pickup window as well, a store window's capacity shared by two SKUs (the
// second reserve is refused window_full), bad zones and times refused
// before anything is sent, and stores exported and imported again whole.
package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInvctlStores(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 4).Addr()
	const store = "TPE0427"
	out := ok(t, a, "store", "put", "--store", store, "--zone", "Asia/Taipei",
		"--window", "2039-12-24T10:00,2039-12-24T12:00,1", "--window", "2039-12-24T04:00:00Z,2039-12-24T06:00:00Z,3")
	mustContain(t, "store put", out, "ok TPE0427 zone=Asia/Taipei windows=2")
	// 2039-12-24T04:00Z is noon in Taipei: the second window follows the first.
	table := ok(t, a, "store", "get", "--store", store)
	mustContain(t, "store get", table, "TPE0427 zone=Asia/Taipei", "CAPACITY", "2039-12-24T10:00:00+08:00", "2039-12-24T12:00:00+08:00",
		"2039-12-24T14:00:00+08:00")
	var st struct {
		Zone    string
		Windows []struct {
			Start          time.Time
			Capacity, Used int64
		}
	}
	okJSON(t, a, &st, "store", "get", "--store", store)
	if st.Zone != "Asia/Taipei" || len(st.Windows) != 2 || st.Windows[0].Capacity != 1 ||
		!st.Windows[0].Start.Equal(time.Date(2039, 12, 24, 2, 0, 0, 0, time.UTC)) {
		t.Fatalf("store get --json: %+v", st)
	}
	ok(t, a, "store", "window", "--store", store, "--start", "2039-12-24T10:00", "--end", "2039-12-24T12:00", "--capacity", "2")
	okJSON(t, a, &st, "store", "get", "--store", store)
	if st.Windows[0].Capacity != 2 {
		t.Fatalf("after store window: %+v", st)
	}

	// Two SKUs of the store share the first window: capacity 2.
	for _, sku := range []string{"CAKE", "TART"} {
		ok(t, a, "item", "put", "--sku", sku, "--store", store, "--stock", "10", "--window", "2039-12-24T02:00:00Z,2039-12-24T04:00:00Z,5",
			"--opens", "2020-01-01T00:00:00Z")
	}
	mustContain(t, "item get in the store's zone", ok(t, a, "item", "get", "--sku", "CAKE", "--store", store),
		"window 2039-12-24T10:00:00+08:00..2039-12-24T12:00:00+08:00 quota=5", "sale 2020-01-01T08:00:00+08:00..-")
	var held struct{ ID json.Number }
	okJSON(t, a, &held, "reserve", "--sku", "CAKE", "--store", store, "--customer", "amy", "--qty", "2", "--window", "2039-12-24T02:00:00Z")
	mustContain(t, "reservation get in the store's zone", ok(t, a, "reservation", "get", held.ID.String()),
		"2039-12-24T02:00:00Z", "pickup window in the store's zone (Asia/Taipei): 2039-12-24T10:00:00+08:00")
	refused(t, a, "window_full", "reserve", "--sku", "TART", "--store", store, "--customer", "ben", "--window", "2039-12-24T02:00:00Z")
	okJSON(t, a, &st, "store", "get", "--store", store)
	if st.Windows[0].Used != 2 {
		t.Fatalf("store window after the reserves: %+v", st)
	}

	for _, bad := range [][]string{
		{"store", "put", "--store", store, "--zone", "Asia/Atlantis"},
		{"store", "put", "--store", store, "--zone", "Local"},
		{"store", "put", "--store", store},
		{"store", "window", "--store", store, "--start", "24 Dec", "--end", "2039-12-24T12:00", "--capacity", "1"},
		{"store", "window", "--store", store, "--start", "2039-12-24T10:00", "--end", "2039-12-24T12:00", "--capacity", "-1"},
	} {
		if _, errs, code := invctl(t, a, bad...); code != 2 {
			t.Errorf("invctl %s: exit %d, stderr %q; want a usage error", strings.Join(bad, " "), code, errs)
		}
	}
	refused(t, a, "not_found", "store", "get", "--store", "NOWHERE")

	// Export the stores, import them into another server: the same stores.
	file := filepath.Join(t.TempDir(), "stores.csv")
	ok(t, a, "store", "export", "--out", file)
	exported := ok(t, a, "store", "export")
	mustContain(t, "store export", exported, "store,time_zone,pickup_windows", "TPE0427,Asia/Taipei,2039-12-24T10:00:00+08:00/2039-12-24T12:00:00+08:00/2")
	b := startServer(t, 2).Addr()
	mustContain(t, "store import", ok(t, b, "store", "import", file), "imported 1 of 1 stores")
	if again := ok(t, b, "store", "export", "--store", store); again != exported {
		t.Fatalf("stores after export and import:\n%s\nwant\n%s", again, exported)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("store,time_zone\nS1,Asia/Atlantis\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := invctl(t, b, "store", "import", bad); code != 1 || !strings.Contains(errs, `line 2: time_zone: "Asia/Atlantis"`) {
		t.Fatalf("import of a bad stores file: exit %d, stderr %q", code, errs)
	}
}
