// invctl watch against a real invd (docs/adr/0108): started on a SKU at
// two stores, it prints each store's count first; a reserve made while it
// runs prints the new count of its store, and it stops after --count
// lines. A missing --store is a usage error. stores --sku S --store
// T1,T2,T3 then gives each store's count in one call, in that order, with
// a store that does not carry the SKU marked so.
package main_test

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/invsys/inv/internal/invdtest"
)

func TestInvctlWatch(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 2).Addr()
	sku := "4710000000097"
	ok(t, a, "item", "put", "--sku", sku, "--store", "TPE0201", "--stock", "5")
	ok(t, a, "item", "put", "--sku", sku, "--store", "TPE0202", "--stock", "2")
	if _, errs, code := invctl(t, a, "watch", "--sku", sku); code != 2 {
		t.Fatalf("watch without --store: exit %d (%s), want 2", code, errs)
	}

	cmd := exec.Command(bins["invctl"], "--addr", a, "--json", "watch", "--sku", sku, "--store", "TPE0201,TPE0202", "--count", "3")
	cmd.Env = invdtest.Env()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan map[string]any)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
		close(lines)
	}()
	next := func() map[string]any {
		t.Helper()
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatal("watch ended early")
			}
			return m
		case <-time.After(20 * time.Second):
			t.Fatal("watch printed nothing within 20s")
		}
		return nil
	}
	first := map[any]any{}
	for range 2 {
		m := next()
		first[m["store"]] = m["available"]
	}
	if first["TPE0201"] != float64(5) || first["TPE0202"] != float64(2) {
		t.Fatalf("first counts: %v", first)
	}
	ok(t, a, "reserve", "--sku", sku, "--store", "TPE0202", "--customer", "W1")
	if m := next(); m["store"] != "TPE0202" || m["available"] != float64(1) {
		t.Fatalf("after the reserve: %v", m)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch --count 3: %v", err)
	}

	var at []struct {
		Store     string
		Carried   bool
		Available int64
	}
	okJSON(t, a, &at, "stores", "--sku", sku, "--store", "TPE0202,NOPE01,TPE0201")
	if len(at) != 3 || at[0].Available != 1 || !at[0].Carried || at[1].Store != "NOPE01" || at[1].Carried || at[2].Available != 5 {
		t.Fatalf("stores --store: %+v", at)
	}
}
