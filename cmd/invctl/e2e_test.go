// invctl end to end: a real invd, and the invctl binary run as a shell user
// would, checking each command's output and exit code: item put and get
// (with --json), reserve, confirm, pickup by code, cancel, and the refusals
// (sold_out, limit_exceeded, bad_code, wrong_state, unknown_item), which
// must print the refusal's name and exit 1, with a hint naming the
// command's SKU and store; usage errors exit 2; an unreachable server exits
// 3 and says so once, without the library's prefixes.
//
// Every end-to-end test of this package starts servers of its own and runs
// in parallel with the others (t.Parallel): most of their time is spent
// waiting on processes, elections and sockets, not on the CPU.
package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/invsys/inv/internal/invdtest"
)

var bins map[string]string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "invctl-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err = invdtest.Build(dir, "github.com/invsys/inv/cmd/invd", "github.com/invsys/inv/cmd/invctl")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// invctl runs the binary and returns stdout, stderr and the exit code.
func invctl(t *testing.T, addr string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bins["invctl"], append([]string{"--addr", addr}, args...)...)
	cmd.Env = invdtest.Env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String()), strings.TrimSpace(errb.String()), code
}

// strID is an id of invctl's JSON output, which must be a string: as a
// number, an id above 2^53 loses digits in most JSON readers.
type strID uint64

func (id *strID) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("id %s: not a JSON string", b)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	*id = strID(v)
	return err
}

// ok runs a command that must succeed and returns its output.
func ok(t *testing.T, addr string, args ...string) string {
	t.Helper()
	out, errs, code := invctl(t, addr, args...)
	if code != 0 {
		t.Fatalf("invctl %v: exit %d: %s", args, code, errs)
	}
	return out
}

// refused runs a command that must be refused with name.
func refused(t *testing.T, addr, name string, args ...string) {
	t.Helper()
	_, errs, code := invctl(t, addr, args...)
	if code != 1 || !strings.HasPrefix(errs, name) {
		t.Fatalf("invctl %v: exit %d, stderr %q; want exit 1 and %q", args, code, errs, name)
	}
}

func TestInvctl(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	p, err := invdtest.Start(invdtest.Options{Bin: bins["invd"], Data: t.TempDir() + "/data", Shards: 4,
		Config: "heartbeat_timeout = 100ms\nelection_timeout = 100ms\nleader_lease_timeout = 50ms\n"})
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

	// The first window is open now (pickups may happen), the second later.
	out := ok(t, a, "item", "put", "--sku", "4710088412345", "--store", "TPE0427", "--stock", "3",
		"--window", "2020-01-03T10:00:00Z,2040-01-03T12:00:00Z,2", "--window", "2240000000,2240007200,5")
	if !strings.HasPrefix(out, "ok") {
		t.Fatalf("item put: %q", out)
	}
	// The limit is the SKU's: not an item put's.
	if _, errs, code := invctl(t, a, "item", "put", "--sku", "4710088412345", "--store", "TPE0427", "--stock", "3", "--limit", "2"); code != 2 ||
		!strings.Contains(errs, "item limit --sku 4710088412345 --limit 2") {
		t.Fatalf("item put --limit: exit %d, stderr %q", code, errs)
	}
	ok(t, a, "item", "limit", "--sku", "4710088412345", "--limit", "2")
	var item struct {
		Stock, Available, Held, Confirmed int64
		PickedUp                          int64 `json:"picked_up"`
		Windows                           []struct{ Quota int64 }
	}
	getJSON := func() {
		t.Helper()
		item.Windows = nil
		if err := json.Unmarshal([]byte(ok(t, a, "item", "get", "--sku", "4710088412345", "--store", "TPE0427", "--json")), &item); err != nil {
			t.Fatal(err)
		}
	}
	getJSON()
	if item.Stock != 3 || item.Available != 3 || len(item.Windows) != 2 {
		t.Fatalf("item get --json: %+v", item)
	}
	if out := ok(t, a, "item", "get", "--sku", "4710088412345", "--store", "TPE0427"); !strings.Contains(out, "available=3") {
		t.Fatalf("item get: %q", out)
	}

	id := ok(t, a, "reserve", "--sku", "4710088412345", "--store", "TPE0427", "--customer", "M00012345",
		"--window", "2020-01-03T10:00:00Z", "--key", "order-1")
	if again := ok(t, a, "reserve", "--sku", "4710088412345", "--store", "TPE0427", "--customer", "M00012345",
		"--window", "2020-01-03T10:00:00Z", "--key", "order-1"); again != id {
		t.Fatalf("retried reserve printed %q, first %q", again, id)
	}
	later := "2240000000"
	refused(t, a, "limit_exceeded", "reserve", "--sku", "4710088412345", "--store", "TPE0427", "--customer", "M00012345", "--qty", "2", "--window", later)
	id2 := ok(t, a, "reserve", "--sku", "4710088412345", "--store", "TPE0427", "--customer", "M2", "--qty", "2", "--window", later)
	refused(t, a, "sold_out", "reserve", "--sku", "4710088412345", "--store", "TPE0427", "--customer", "M3", "--window", later)
	// A refusal says what to do, once, naming the command's own SKU and store.
	if _, errs, code := invctl(t, a, "reserve", "--sku", "nope", "--store", "TPE0427", "--customer", "M3"); code != 1 ||
		errs != "unknown_item: no item nope at store TPE0427; create it with invctl item put --sku nope --store TPE0427 --stock N" {
		t.Fatalf("reserve of an unknown item: exit %d, stderr %q", code, errs)
	}
	// An item with windows is reserved into one: the refusal says so.
	if _, errs, code := invctl(t, a, "reserve", "--sku", "4710088412345", "--store", "TPE0427", "--customer", "M4"); code != 1 ||
		!strings.HasPrefix(errs, "window_required") || !strings.Contains(errs, "reserve into one of them") {
		t.Fatalf("reserve without a window: exit %d, stderr %q", code, errs)
	}

	code := ok(t, a, "confirm", id)
	if len(code) != 12 {
		t.Fatalf("confirm printed %q, want a 12-digit pickup code", code)
	}
	refused(t, a, "bad_code", "pickup", "--store", "KHH0113", "--code", code) // another store's code: as if unknown
	if out := ok(t, a, "pickup", "--store", "TPE0427", "--code", code); out != id+" picked_up" {
		t.Fatalf("pickup printed %q", out)
	}
	if out := ok(t, a, "cancel", id2); out != "cancelled" {
		t.Fatalf("cancel printed %q", out)
	}
	refused(t, a, "wrong_state", "cancel", id2)
	getJSON()
	if item.PickedUp != 1 || item.Held != 0 || item.Available != 2 || item.Confirmed != 0 {
		t.Fatalf("after pickup and cancel: %+v", item)
	}

	if _, _, code := invctl(t, a, "confirm"); code != 2 {
		t.Fatalf("confirm without an id: exit %d, want 2", code)
	}
	if _, _, code := invctl(t, a, "frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
	down := invdtest.FreeAddr()
	if _, errs, code := invctl(t, down, "cancel", "1"); code != 3 || !strings.HasPrefix(errs, "unavailable: dial") ||
		strings.Contains(errs, "inv:") || strings.Contains(errs, "invctl:") || !strings.Contains(errs, "is invd running at "+down) {
		t.Fatalf("unreachable server: exit %d, stderr %q; want 3, unavailable once and a hint", code, errs)
	}
}
