// These tests drive the counter's API (check, pickup, today) over HTTP
// against a real engine (engine_test.go) whose change feed the real
// follower keeps in the book. They prove that the check answers what the
// engine's pickup would (ready, wrong_store, bad_code, too_early, locked,
// expired, collected), counts a wrong code as the handover would, never
// sends a pickup code or an unmasked customer to the page, hands an order
// over once, and counts today's windows as due, collected and overdue.
package pages

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

// fixture is a handler on a test node, its book followed live.
type fixture struct {
	n    *testNode
	book *Book
	keep *Keeper
	srv  *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, newTestNode(t))
}

// newFixtureOn serves n, whose feed may already hold events.
func newFixtureOn(t *testing.T, n *testNode) *fixture {
	t.Helper()
	return newFixtureIdle(t, n, 0)
}

// newFixtureIdle serves n with a book kept while used (idle > 0: pages.Keeper).
func newFixtureIdle(t *testing.T, n *testNode, idle time.Duration) *fixture {
	t.Helper()
	book := NewBook()
	keep := NewKeeper([]Shard{n}, book, idle, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := NewHandler(n, keep, []Shard{n}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.now = n.clock
	mux := http.NewServeMux()
	h.Mount(mux)
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		keep.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return &fixture{n: n, book: book, keep: keep, srv: srv}
}

// settle waits until the book has followed the feed to its end.
func (f *fixture) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f.n.mu.Lock()
		end := len(f.n.feed)
		var last string
		if end > 0 {
			last = f.n.feed[end-1].Position.Next().String()
		}
		f.n.mu.Unlock()
		fs := f.book.follows()
		if len(fs) == 1 && fs[0].Live && (end == 0 || fs[0].Position == last) {
			time.Sleep(rereadEvery / 4) // the touched items' reads follow the events
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the book did not catch up with the feed")
}

// call sends a request with a token (none when "") and decodes the answer.
func (f *fixture) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	out["_raw"] = string(raw)
	return resp.StatusCode, out
}

func (f *fixture) check(t *testing.T, store, code string) map[string]any {
	t.Helper()
	st, out := f.call(t, "POST", "/api/counter/check", "", map[string]string{"store": store, "code": code})
	if st != http.StatusOK {
		t.Fatalf("check %s at %s: %d %v", code, store, st, out)
	}
	return out
}

func codeText(c uint64) string { return engine.FormatPickupCode(c) }

func TestCounterCheckAnswersAsThePickupWould(t *testing.T) {
	f := newFixture(t)
	s := putShop(t, f.n)
	id, code := s.order(t, f.n, s.tpe, "M00012345", 2, s.now)
	khhID, khhCode := s.order(t, f.n, s.khh, "M00099999", 1, s.now)
	lateID, lateCode := s.order(t, f.n, s.tpe, "M00055555", 1, s.later)
	f.settle(t)

	// The 12 digits and the barcode form both name the order.
	for _, scan := range []string{codeText(code), engine.PickupBarcode(id, code), strings.ToLower(engine.PickupBarcode(id, code))} {
		out := f.check(t, s.tpe, scan)
		if out["outcome"] != "ready" {
			t.Fatalf("check %s: %v", scan, out)
		}
		o := out["order"].(map[string]any)
		if o["sku"] != s.sku || o["qty"] != 2.0 || o["customer"] != "M0•••••45" || o["window_end"] == nil {
			t.Fatalf("order shown: %v", o)
		}
		if strings.Contains(out["_raw"].(string), codeText(code)) || strings.Contains(out["_raw"].(string), "M00012345") {
			t.Fatalf("the answer carries the code or the whole customer id: %s", out["_raw"])
		}
	}
	if out := f.check(t, s.tpe, engine.PickupBarcode(khhID, khhCode)); out["reason"] != "wrong_store" {
		t.Fatalf("another store's barcode: %v", out)
	}
	// Another store's code alone is no code here, as the engine answers it.
	if out := f.check(t, s.tpe, codeText(khhCode)); out["reason"] != "bad_code" {
		t.Fatalf("another store's code: %v", out)
	}
	if out := f.check(t, s.tpe, codeText(lateCode)); out["reason"] != "too_early" || out["from"] == nil || out["zone"] != "Asia/Taipei" {
		t.Fatalf("a later window: %v", out)
	}
	if out := f.check(t, s.tpe, "0000 0000 0001"); out["reason"] != "bad_code" {
		t.Fatalf("a code that names nothing: %v", out)
	}
	_ = lateID

	// A wrong code with the right id counts, as at the handover: the fifth locks.
	wrong := engine.PickupBarcode(id, (code+1)%1e12)
	for i := 1; i <= 5; i++ {
		out := f.check(t, s.tpe, wrong)
		want := "bad_code"
		if i == 5 {
			want = "locked"
		}
		if out["reason"] != want {
			t.Fatalf("wrong code %d: %v", i, out)
		}
	}
	if out := f.check(t, s.tpe, codeText(code)); out["reason"] != "locked" {
		t.Fatalf("the right code of a locked order: %v", out)
	}
}

func TestCounterPickupOnceThenCollected(t *testing.T) {
	f := newFixture(t)
	s := putShop(t, f.n)
	id, code := s.order(t, f.n, s.tpe, "0912345678", 3, s.now)
	f.settle(t)

	st, out := f.call(t, "POST", "/api/counter/pickup", "", map[string]string{"store": s.tpe, "code": codeText(code), "key": "k1"})
	if st != 200 || out["outcome"] != "picked_up" {
		t.Fatalf("pickup: %d %v", st, out)
	}
	if o := out["order"].(map[string]any); o["qty"] != 3.0 || o["customer"] != "09••••••78" || o["collected_at"] == nil {
		t.Fatalf("picked up order: %v", o)
	}
	// The same press again (its key) is the same handover, not a second one.
	if _, again := f.call(t, "POST", "/api/counter/pickup", "", map[string]string{"store": s.tpe, "code": codeText(code), "key": "k1"}); again["outcome"] != "picked_up" {
		t.Fatalf("repeated press: %v", again)
	}
	if r := f.n.Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte(s.sku), Store: []byte(s.tpe)}); r.Item.PickedUp != 3 {
		t.Fatalf("picked up units %d, want 3", r.Item.PickedUp)
	}
	f.settle(t)
	for _, scan := range []string{codeText(code), engine.PickupBarcode(id, code)} {
		if out := f.check(t, s.tpe, scan); out["reason"] != "collected" || out["order"] == nil {
			t.Fatalf("second scan %s: %v", scan, out)
		}
	}
	if _, out := f.call(t, "POST", "/api/counter/pickup", "", map[string]string{"store": s.tpe, "code": codeText(code)}); out["outcome"] != "refused" {
		t.Fatalf("second handover: %v", out)
	}
}

func TestCounterExpired(t *testing.T) {
	f := newFixture(t)
	s := putShop(t, f.n)
	id, code := s.order(t, f.n, s.tpe, "M1", 1, s.now)
	f.settle(t)
	// Past the window's end the engine's expiry makes it a no-show.
	f.n.advance(2 * time.Hour)
	f.n.must(t, engine.Command{Op: engine.OpExpire})
	f.settle(t)
	if out := f.check(t, s.tpe, engine.PickupBarcode(id, code)); out["reason"] != "expired" {
		t.Fatalf("no-show by barcode: %v", out)
	}
}

func TestCounterNotListed(t *testing.T) {
	// A follower that starts on a feed that lost its early events (pruned by
	// its retention) cannot tell a code that names nothing from an order it
	// never saw: the check leaves it to the handover, which asks the engine.
	n := newTestNode(t)
	s := putShop(t, n)
	_, old := s.order(t, n, s.tpe, "M1", 1, s.now)
	s.order(t, n, s.tpe, "M2", 1, s.later)
	n.prune()
	f := newFixtureOn(t, n)
	f.settle(t)
	if out := f.check(t, s.tpe, "111111111111"); out["outcome"] != "not_listed" {
		t.Fatalf("unknown code with a partial feed: %v", out)
	}
	if out := f.check(t, s.tpe, codeText(old)); out["outcome"] != "not_listed" {
		t.Fatalf("an order confirmed before the feed's oldest event: %v", out)
	}
	if _, out := f.call(t, "POST", "/api/counter/pickup", "", map[string]string{"store": s.tpe, "code": codeText(old)}); out["outcome"] != "picked_up" {
		t.Fatalf("handover of an order the book never saw: %v", out)
	}
}

func TestCounterNotListedOnANodeWithoutEveryShard(t *testing.T) {
	// A node of a cluster that does not replicate every shard has not seen
	// every order, though each feed it follows is whole.
	f := newFixture(t)
	putShop(t, f.n)
	f.settle(t)
	if out := f.check(t, "TPE0427", "111111111111"); out["reason"] != "bad_code" {
		t.Fatalf("a node holding every shard: %v", out)
	}
	f.n.mu.Lock()
	f.n.foreign = true
	f.n.mu.Unlock()
	if out := f.check(t, "TPE0427", "111111111111"); out["outcome"] != "not_listed" {
		t.Fatalf("a node without every shard: %v", out)
	}
	if _, out := f.call(t, "POST", "/api/counter/pickup", "", map[string]string{"store": "TPE0427", "code": "111111111111"}); out["reason"] != "bad_code" {
		t.Fatalf("handover of a code that names nothing: %v", out)
	}
}

func TestCounterToday(t *testing.T) {
	f := newFixture(t)
	s := putShop(t, f.n)
	_, c1 := s.order(t, f.n, s.tpe, "A1", 2, s.now)
	s.order(t, f.n, s.tpe, "A2", 1, s.now)
	s.order(t, f.n, s.tpe, "A3", 1, s.later)
	s.order(t, f.n, s.khh, "A4", 1, s.now) // another store's
	f.must200(t, "/api/counter/pickup", map[string]string{"store": s.tpe, "code": codeText(c1)})
	f.settle(t)

	_, out := f.call(t, "GET", "/api/counter/today?store="+s.tpe, "", nil)
	if out["date"] != "2026-11-24" || out["zone"] != "Asia/Taipei" {
		t.Fatalf("today: %v", out)
	}
	ws := out["windows"].([]any)
	if len(ws) != 2 {
		t.Fatalf("windows: %v", ws)
	}
	first, second := ws[0].(map[string]any), ws[1].(map[string]any)
	if first["due"] != 1.0 || first["collected"] != 1.0 || first["overdue"] != 0.0 || first["used"] != 3.0 || first["capacity"] != 25.0 {
		t.Fatalf("the open window: %v", first)
	}
	if second["due"] != 1.0 || second["collected"] != 0.0 {
		t.Fatalf("the later window: %v", second)
	}
	// Once the first window is over, what is still due there is overdue.
	f.n.advance(90 * time.Minute)
	_, out = f.call(t, "GET", "/api/counter/today?store="+s.tpe, "", nil)
	if first := out["windows"].([]any)[0].(map[string]any); first["overdue"] != 1.0 || out["overdue"] != 1.0 {
		t.Fatalf("after the window: %v", out)
	}
}

func (f *fixture) must200(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	st, out := f.call(t, "POST", path, "", body)
	if st != 200 {
		t.Fatalf("%s: %d %v", path, st, out)
	}
	return out
}

func TestCounterBadInputAndRateLimit(t *testing.T) {
	f := newFixture(t)
	s := putShop(t, f.n)
	for _, body := range []string{`{"store":"TPE0427","code":"12345"}`, `{"store":"TPE0427","code":"INV123"}`,
		`{"store":"","code":"123456789012"}`, `{"store":"TPE0427","code":"123456789012","extra":1}`, `not json`,
		`{"store":"TPE0427","code":"` + strings.Repeat("1", 100) + `"}`} {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/counter/check", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, resp.StatusCode)
		}
	}
	f.n.mu.Lock()
	f.n.allowed = 0
	f.n.mu.Unlock()
	if out := f.check(t, s.tpe, "123456789012"); out["reason"] != "rate_limited" {
		t.Fatalf("past the pickup rate: %v", out)
	}
}
