// These tests prove the pages' access rules over HTTP: a token in the
// Authorization header decides the role as the protocol's HELLO does (no
// token or an unknown one: 401; the console for operators, the counter for
// store tokens at their own stores and operators: else 403); a page of
// another site cannot drive the API (Origin, Sec-Fetch-Site, a JSON body
// required on POST); a server without tokens answers loopback names only;
// and the pages themselves go out with a policy that keeps them to their
// own scripts. They also check that the console's answer carries the
// book's figures and the engines' counts.
package pages

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
)

const (
	opToken    = "operator-token-0123456789"
	tpeToken   = "store-token-tpe-0123456789"
	frontToken = "storefront-token-0123456789"
)

func withTokens(f *fixture) {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	f.n.tokens = map[string]Access{
		opToken:    {Role: RoleOperator},
		tpeToken:   {Role: RoleStore, Stores: []string{"TPE0427"}},
		frontToken: {Role: RoleStorefront},
	}
}

func TestAccessByRole(t *testing.T) {
	f := newFixture(t)
	putShop(t, f.n)
	withTokens(f)
	scan := map[string]string{"store": "TPE0427", "code": "123456789012"}
	khh := map[string]string{"store": "KHH0113", "code": "123456789012"}
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"no token", "GET", "/api/session", "", nil, 401},
		{"unknown token", "GET", "/api/console/overview", "not-a-token", nil, 401},
		{"operator console", "GET", "/api/console/overview", opToken, nil, 200},
		{"store token on the console", "GET", "/api/console/overview", tpeToken, nil, 403},
		{"storefront token on the console", "GET", "/api/console/overview", frontToken, nil, 403},
		{"store token at its store", "POST", "/api/counter/check", tpeToken, scan, 200},
		{"store token at another store", "POST", "/api/counter/check", tpeToken, khh, 403},
		{"store token's pickup at another store", "POST", "/api/counter/pickup", tpeToken, khh, 403},
		{"store token's day at another store", "GET", "/api/counter/today?store=KHH0113", tpeToken, nil, 403},
		{"store token's day", "GET", "/api/counter/today?store=TPE0427", tpeToken, nil, 200},
		{"operator at any counter", "POST", "/api/counter/check", opToken, khh, 200},
		{"storefront token at the counter", "POST", "/api/counter/check", frontToken, scan, 403},
		{"session of a store token", "GET", "/api/session", tpeToken, nil, 200},
	}
	for _, c := range cases {
		st, out := f.call(t, c.method, c.path, c.token, c.body)
		if st != c.status {
			t.Errorf("%s: %d %v, want %d", c.name, st, out["_raw"], c.status)
		}
	}
	f.n.mu.Lock()
	spent := f.n.pickups
	f.n.mu.Unlock()
	if spent != 2 { // the two checks allowed; refusals spend nothing
		t.Errorf("pickup attempts spent %d, want 2", spent)
	}
	_, out := f.call(t, "GET", "/api/session", tpeToken, nil)
	if out["role"] != "store" || out["stores"].([]any)[0] != "TPE0427" || out["open"] != false {
		t.Fatalf("session: %v", out)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/session", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("401 without a Bearer challenge: %v", resp.Header)
	}
}

// do sends a raw request and returns its status.
func (f *fixture) do(t *testing.T, method, path string, hdr map[string]string, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestAccessFromOtherSites(t *testing.T) {
	f := newFixture(t) // no tokens: open, loopback only
	putShop(t, f.n)
	body := `{"store":"TPE0427","code":"123456789012"}`
	jsonType := map[string]string{"Content-Type": "application/json"}
	if st := f.do(t, "POST", "/api/counter/check", jsonType, body); st != 200 {
		t.Fatalf("a plain request: %d", st)
	}
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"a form's body", map[string]string{"Content-Type": "text/plain"}, 415},
		{"no content type", map[string]string{}, 415},
		{"another site's page", map[string]string{"Content-Type": "application/json", "Origin": "http://shop.example"}, 403},
		{"a cross-site fetch", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
		{"a rebound name", map[string]string{"Content-Type": "application/json", "Host": "evil.example:7421"}, 403},
		{"the page's own origin", map[string]string{"Content-Type": "application/json", "Origin": f.srv.URL, "Sec-Fetch-Site": "same-origin"}, 200},
		{"localhost", map[string]string{"Content-Type": "application/json", "Host": "localhost:7421", "Origin": "http://localhost:7421"}, 200},
	}
	for _, c := range cases {
		if st := f.do(t, "POST", "/api/counter/check", c.hdr, body); st != c.status {
			t.Errorf("%s: %d, want %d", c.name, st, c.status)
		}
	}
	if st := f.do(t, "GET", "/api/session", map[string]string{"Host": "evil.example"}, ""); st != 403 {
		t.Errorf("a rebound name without tokens: %d, want 403", st)
	}
	// With tokens a name is no longer the guard: the token is.
	withTokens(f)
	if st := f.do(t, "GET", "/api/session", map[string]string{"Host": "invd.example", "Authorization": "Bearer " + opToken}, ""); st != 200 {
		t.Errorf("a token under another name: %d, want 200", st)
	}
}

func TestPagesServed(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/console", "/counter", "/assets/common.js", "/assets/console.js", "/assets/counter.js", "/assets/common.css"} {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Errorf("%s: %d, %d bytes", path, resp.StatusCode, len(b))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: policy %q", path, csp)
		}
		if strings.HasSuffix(path, "r") && strings.Contains(string(b), "http") && strings.Contains(string(b), "://") &&
			!strings.Contains(string(b), "http://www.w3.org") {
			t.Errorf("%s refers to another site", path)
		}
	}
}

func TestConsoleOverview(t *testing.T) {
	f := newFixture(t)
	s := putShop(t, f.n)
	_, code := s.order(t, f.n, s.tpe, "C1", 3, s.now)
	khhID, khhCode := s.order(t, f.n, s.khh, "C2", 2, s.now)
	f.n.must(t, engineReserve(s.sku, s.tpe, "C3", 1, s.later))
	f.must200(t, "/api/counter/pickup", map[string]string{"store": s.tpe, "code": codeText(code)})
	f.check(t, s.khh, engine.PickupBarcode(khhID, (khhCode+1)%1e12)) // a wrong code: the engine counts bad_code
	f.settle(t)
	st, out := f.call(t, "GET", "/api/console/overview", "", nil)
	if st != 200 {
		t.Fatalf("overview: %d %v", st, out)
	}
	sku := out["skus"].([]any)[0].(map[string]any)
	if sku["sku"] != s.sku || sku["stores"] != 2.0 || sku["stock"] != 80.0 || sku["held"] != 1.0 ||
		sku["confirmed"] != 2.0 || sku["picked_up"] != 3.0 || sku["available"] != 74.0 {
		t.Fatalf("sku row: %v", sku)
	}
	if got := sku["sell_through"].(float64); got < 0.0624 || got > 0.0626 {
		t.Fatalf("sell-through %v, want 5/80", got)
	}
	kpis := out["kpis"].(map[string]any)
	if kpis["picked_up"] != 1.0 || kpis["awaiting_pickup"] != 1.0 || kpis["active_holds"] != 1.0 || kpis["on_time_rate"] != 1.0 {
		t.Fatalf("kpis: %v", kpis)
	}
	ref := out["refusals"].([]any)
	if len(ref) != 1 || ref[0].(map[string]any)["reason"] != "bad_code" {
		t.Fatalf("refusals: %v", ref)
	}
	stores := out["stores"].([]any)
	if len(stores) != 2 {
		t.Fatalf("stores: %v", stores)
	}
	series := out["series"].(map[string]any)
	var reserved float64
	for _, v := range series["reserved"].([]any) {
		reserved += v.(float64)
	}
	if reserved != 6 {
		t.Fatalf("reserved units in the series %v, want 6", reserved)
	}
}
