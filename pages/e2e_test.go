// These end-to-end tests run a real invd (built once, on first use) with
// tokens, put a shop through the Go client, and drive the pages as people
// do, in a headless Chromium (internal/browsertest; skipped with a message
// where none is installed): a clerk signs in with a store token, types a
// code and Enter as a scanner does, sees the order and hands it over, and a
// second scan of the same code is refused; another store's barcode is
// refused as wrong_store, in English and in Traditional Chinese; the
// console's figures change within a second of reserves made through the
// client. Without a browser they check the HTTP port's exposure rule: a
// console beyond loopback needs tokens and TLS, and a SIGHUP that would
// remove its tokens is refused.
package pages_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/browsertest"
	"github.com/invsys/inv/internal/invdtest"
)

const (
	opToken  = "e2e-operator-token-0123456789"
	tpeToken = "e2e-store-token-tpe-0123456789"
	khhToken = "e2e-store-token-khh-0123456789"
	sku      = "4710088412345"
	tpe      = "TPE0427"
	khh      = "KHH0113"
	zone     = "Asia/Taipei"
)

func hash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// baseConfig makes elections quick and keeps invd's descriptor needs under
// a common limit (as cmd/invd's e2e tests do); a clerk's many scans stay
// under the pickup rate.
const baseConfig = `
log_level = warn
heartbeat_timeout = 100ms
election_timeout = 100ms
leader_lease_timeout = 50ms
expiry_check = 50ms
max_connections = 1000
pickup_burst_per_conn = 200
`

func tokenConfig() string {
	return baseConfig + "token = operator " + hash(opToken) + "\n" +
		"token = store " + hash(tpeToken) + " " + tpe + "\n" +
		"token = store " + hash(khhToken) + " " + khh + "\n"
}

var (
	buildOnce sync.Once
	buildDir  string
	invdBin   string
	buildErr  error
)

// invd builds invd once per test binary (TestMain removes it).
func invd(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts invd")
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "inv-pages-e2e"); buildErr != nil {
			return
		}
		var bins map[string]string
		bins, buildErr = invdtest.Build(buildDir, "github.com/invsys/inv/cmd/invd")
		invdBin = bins["invd"]
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return invdBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// startInvd starts a server; it is stopped when the test ends, and its log
// is printed if the test failed.
func startInvd(t *testing.T, o invdtest.Options) *invdtest.Proc {
	t.Helper()
	o.Bin = invd(t)
	o.Data = filepath.Join(t.TempDir(), "data")
	if o.Shards == 0 {
		o.Shards = 4
	}
	p, err := invdtest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop(20 * time.Second)
		if t.Failed() {
			t.Logf("invd log:\n%s", p.Logs())
		}
		if p.DataRace() {
			t.Errorf("invd reported a data race:\n%s", p.Logs())
		}
	})
	return p
}

func dial(t *testing.T, p *invdtest.Proc, token string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, []string{p.Addr()}, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// shopWindow is the pickup window open now: from an hour ago to an hour
// from now, whole minutes.
func shopWindow() (time.Time, time.Time) {
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	return start, start.Add(2 * time.Hour)
}

// putShop puts the two stores, the SKU in each, and the window open now.
func putShop(t *testing.T, c *client.Client) time.Time {
	t.Helper()
	ctx := context.Background()
	start, end := shopWindow()
	for _, st := range []string{tpe, khh} {
		steps := []error{
			c.PutStore(ctx, client.StoreSpec{Store: st, Zone: zone}),
			c.PutItem(ctx, client.ItemSpec{SKU: sku, Store: st, Stock: 500}),
			c.PutStoreWindow(ctx, client.StoreWindowSpec{Store: st, Start: start, End: end, Capacity: 300}),
			c.PutWindow(ctx, client.WindowSpec{SKU: sku, Store: st, Start: start, End: end, Quota: 200}),
		}
		for _, err := range steps {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return start
}

// order reserves and confirms; it returns the reservation id and code.
func order(t *testing.T, c *client.Client, store, customer string, qty int64, window time.Time) (uint64, uint64) {
	t.Helper()
	ctx := context.Background()
	r, err := c.Reserve(ctx, client.ReserveRequest{SKU: sku, Store: store, Customer: customer, Qty: qty, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := c.Confirm(ctx, client.ConfirmRequest{ID: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID, conf.PickupCode
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// scan types a code into the counter's field and presses Enter, as a
// barcode scanner does, and waits for the answer.
func scan(t *testing.T, ctx context.Context, code string) (outcome, reason string) {
	t.Helper()
	var panel string
	run(t, ctx, "scan "+code,
		chromedp.Evaluate(`document.getElementById("result").replaceChildren()`, nil),
		chromedp.Evaluate(`document.getElementById("code").value = ""`, nil),
		chromedp.SendKeys("#code", code+"\r", chromedp.ByQuery),
		chromedp.WaitVisible("#result .panel", chromedp.ByQuery),
		chromedp.AttributeValue("#result .panel", "data-outcome", &outcome, nil, chromedp.ByQuery),
		chromedp.Text("#result .panel", &panel, chromedp.ByQuery),
	)
	var ok bool
	run(t, ctx, "reason", chromedp.AttributeValue("#result .panel", "data-reason", &reason, &ok, chromedp.ByQuery))
	t.Logf("scan %s: %s %s: %q", code, outcome, reason, panel)
	return outcome, reason
}

func TestBrowserCounter(t *testing.T) {
	ctx := browsertest.Start(t)
	p := startInvd(t, invdtest.Options{Config: tokenConfig()})
	op := dial(t, p, opToken)
	window := putShop(t, op)
	id, code := order(t, op, tpe, "M00012345", 2, window)
	order(t, op, tpe, "M00077777", 1, window)
	khhID, khhCode := order(t, op, khh, "M00099999", 1, window)

	base := "http://" + p.Opts.HTTP
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/counter"),
		chromedp.WaitVisible("#token", chromedp.ByQuery),
		chromedp.Click("#lang-en", chromedp.ByQuery),
		chromedp.SendKeys("#token", tpeToken+"\r", chromedp.ByQuery),
		chromedp.WaitVisible("#code", chromedp.ByQuery),
	)
	codeText := engine.FormatPickupCode(code)
	if outcome, _ := scan(t, ctx, codeText); outcome != "ready" {
		t.Fatalf("first scan: %s", outcome)
	}
	var shownSKU, shownQty, shownCustomer string
	run(t, ctx, "order shown",
		chromedp.Text(`#result dd[data-field="sku"]`, &shownSKU, chromedp.ByQuery),
		chromedp.Text(`#result dd[data-field="qty"]`, &shownQty, chromedp.ByQuery),
		chromedp.Text(`#result dd[data-field="customer"]`, &shownCustomer, chromedp.ByQuery),
	)
	if shownSKU != sku || shownQty != "2" || shownCustomer != "M0•••••45" {
		t.Fatalf("order shown: %q %q %q", shownSKU, shownQty, shownCustomer)
	}
	browsertest.Screenshot(t, ctx, "counter-ready")
	run(t, ctx, "hand over",
		chromedp.Click("button.handover", chromedp.ByQuery),
		chromedp.WaitVisible(`#result .panel[data-outcome="picked_up"]`, chromedp.ByQuery),
	)
	res, err := op.GetReservation(context.Background(), id)
	if err != nil || res.State != engine.StatePickedUp {
		t.Fatalf("after the handover the reservation is %v (%v)", res.State, err)
	}
	// The day's table counts it collected (it refreshes after a handover).
	var collected string
	run(t, ctx, "today", chromedp.Poll(`(() => { const c = document.querySelector('[data-total="collected"] .v');
		return c && c.textContent === "1" ? c.textContent : null })()`, &collected, chromedp.WithPollingTimeout(10*time.Second)))
	browsertest.Screenshot(t, ctx, "counter-handed-over")

	// The same code again, as 12 digits and as its barcode: refused.
	for _, again := range []string{codeText, engine.PickupBarcode(id, code)} {
		if outcome, reason := scan(t, ctx, again); outcome != "refused" || reason != "collected" {
			t.Fatalf("second scan %s: %s %s", again, outcome, reason)
		}
	}
	// Another store's order: wrong store, in words a clerk uses.
	if outcome, reason := scan(t, ctx, engine.PickupBarcode(khhID, khhCode)); outcome != "refused" || reason != "wrong_store" {
		t.Fatalf("another store's barcode: %s %s", outcome, reason)
	}
	var en, zh string
	run(t, ctx, "wrong store in English", chromedp.Text("#result .reason", &en, chromedp.ByQuery))
	run(t, ctx, "switch to Chinese",
		chromedp.Click("#lang-zh", chromedp.ByQuery),
		chromedp.Text("#result .reason", &zh, chromedp.ByQuery))
	if !strings.Contains(en, "another store") || !strings.Contains(zh, "不是在本店取貨") {
		t.Fatalf("wrong store text: %q / %q", en, zh)
	}
	var lang string
	run(t, ctx, "lang", chromedp.Evaluate(`document.documentElement.lang`, &lang))
	if lang != "zh-Hant" {
		t.Fatalf("page language %q", lang)
	}
	browsertest.Screenshot(t, ctx, "counter-wrong-store-zh")
	// The other store's code alone names nothing here.
	if outcome, reason := scan(t, ctx, engine.FormatPickupCode(khhCode)); outcome != "refused" || reason != "bad_code" {
		t.Fatalf("another store's code: %s %s", outcome, reason)
	}
	if res, _ := op.GetReservation(context.Background(), khhID); res.State != engine.StateConfirmed || res.Attempts != 0 {
		t.Fatalf("the other store's order after the scans: %v, %d attempts", res.State, res.Attempts)
	}
}

// textOf reads an element's text in one step of the page's script: the
// console redraws its tables a few times a second, so a node found by one
// DevTools call may be gone by the next.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	run(t, ctx, "read "+sel, chromedp.Evaluate(`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`);
		return e ? e.textContent : "" })()`, &s))
	return s
}

// number reads an integer out of the page.
func number(t *testing.T, ctx context.Context, sel string) int64 {
	t.Helper()
	s := textOf(t, ctx, sel)
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("%s: %q", sel, s)
	}
	return n
}

func TestBrowserConsoleLive(t *testing.T) {
	ctx := browsertest.Start(t)
	p := startInvd(t, invdtest.Options{Config: tokenConfig()})
	op := dial(t, p, opToken)
	window := putShop(t, op)
	_, code := order(t, op, tpe, "C1", 3, window)
	if _, err := op.Pickup(context.Background(), client.PickupRequest{Store: tpe, Code: code}); err != nil {
		t.Fatal(err)
	}
	order(t, op, khh, "C2", 2, window)

	held := `tr[data-sku="` + sku + `"] td[data-field="held"]`
	run(t, ctx, "open the console",
		chromedp.Navigate("http://"+p.Opts.HTTP+"/console"),
		chromedp.WaitVisible("#token", chromedp.ByQuery),
		chromedp.SendKeys("#token", opToken+"\r", chromedp.ByQuery),
		chromedp.WaitVisible(held, chromedp.ByQuery),
	)
	for round := 1; round <= 3; round++ {
		before := number(t, ctx, held)
		var units int64
		for i := range 4 {
			qty := int64(i%3 + 1)
			if _, err := op.Reserve(context.Background(), client.ReserveRequest{SKU: sku, Store: khh,
				Customer: fmt.Sprintf("L%d-%d", round, i), Qty: qty, Window: window}); err != nil {
				t.Fatal(err)
			}
			units += qty
		}
		acked := time.Now()
		for number(t, ctx, held) != before+units {
			if time.Since(acked) > time.Second {
				t.Fatalf("round %d: held still %d a second after %d units were reserved on %d",
					round, number(t, ctx, held), units, before)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("round %d: the console showed %d more held units %v after the reserves", round, units, time.Since(acked).Round(time.Millisecond))
	}
	picked := textOf(t, ctx, `[data-kpi="picked_up"] .v`)
	leader := textOf(t, ctx, `#shards tr[data-shard="0"] td:nth-child(2)`)
	if picked != "1" || leader != "leader" {
		t.Fatalf("pickups %q, shard 0 %q", picked, leader)
	}
	time.Sleep(time.Second) // the chart's line of the last second
	browsertest.Screenshot(t, ctx, "console")

	// A store's token does not open the console.
	var msg string
	run(t, ctx, "store token",
		chromedp.Click("#sign-out", chromedp.ByQuery),
		chromedp.WaitVisible("#token", chromedp.ByQuery),
		chromedp.SendKeys("#token", tpeToken+"\r", chromedp.ByQuery),
		chromedp.WaitVisible("#signin-error", chromedp.ByQuery),
		chromedp.Text("#signin-error", &msg, chromedp.ByQuery))
	if !strings.Contains(msg, "operator token") {
		t.Fatalf("store token on the console: %q", msg)
	}
}

// get fetches path with a token over c.
func get(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestExposureOfThePages(t *testing.T) {
	port := func() string { _, p, _ := net.SplitHostPort(invdtest.FreeAddr()); return p }

	// Beyond loopback without tokens and TLS, pages = on refuses to start.
	o := invdtest.Options{Bin: invd(t), Data: filepath.Join(t.TempDir(), "a"), Shards: 1,
		HTTP: "0.0.0.0:" + port(), Config: baseConfig + "pages = on\n"}
	if p, err := invdtest.Start(o); err == nil {
		p.Kill()
		t.Fatal("pages = on started on 0.0.0.0 without tokens and TLS")
	} else if !strings.Contains(err.Error(), "without tokens and TLS") {
		t.Fatalf("refusal: %v", err)
	}

	// With tokens but no TLS the default leaves the pages out and says so.
	p := startInvd(t, invdtest.Options{Shards: 1, HTTP: "0.0.0.0:" + port(), Config: tokenConfig()})
	local := "http://127.0.0.1:" + p.Opts.HTTP[strings.LastIndex(p.Opts.HTTP, ":")+1:]
	if st, _ := get(t, http.DefaultClient, local+"/api/session", opToken); st != http.StatusNotFound {
		t.Fatalf("pages without TLS beyond loopback: %d", st)
	}
	if st, body := get(t, http.DefaultClient, local+"/", ""); st != 200 || !strings.Contains(body, "pages are off") ||
		!strings.Contains(body, "/metrics") || strings.Contains(body, `href="/console"`) {
		t.Fatalf("index: %d %s", st, body)
	}

	// With tokens and TLS they are served, and ask for the tokens.
	dir := t.TempDir()
	certPEM, keyPEM, pool := selfSigned(t)
	certFile, keyFile := filepath.Join(dir, "http.pem"), filepath.Join(dir, "http-key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	p = startInvd(t, invdtest.Options{Shards: 1, HTTP: "0.0.0.0:" + port(),
		Config: tokenConfig() + "pages = on\nhttp_tls_cert = " + certFile + "\nhttp_tls_key = " + keyFile + "\n"})
	secure := "https://127.0.0.1:" + p.Opts.HTTP[strings.LastIndex(p.Opts.HTTP, ":")+1:]
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	if st, _ := get(t, hc, secure+"/api/session", ""); st != http.StatusUnauthorized {
		t.Fatalf("no token over TLS: %d", st)
	}
	if st, body := get(t, hc, secure+"/api/session", tpeToken); st != 200 || !strings.Contains(body, `"store"`) {
		t.Fatalf("store token over TLS: %d %s", st, body)
	}
	if st, _ := get(t, hc, secure+"/api/console/overview", tpeToken); st != http.StatusForbidden {
		t.Fatalf("store token on the console over TLS: %d", st)
	}
	if st, _ := get(t, hc, secure+"/metrics", ""); st != 200 {
		t.Fatalf("metrics over TLS: %d", st)
	}
	// A rotation that would leave the exposed pages without tokens is refused.
	open := baseConfig + "pages = on\nhttp_tls_cert = " + certFile + "\nhttp_tls_key = " + keyFile + "\n"
	if err := os.WriteFile(p.ConfigPath(), []byte(open), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Logs(), "refusing to serve the console") {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal of the rotation logged:\n%s", p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, _ := get(t, hc, secure+"/api/session", ""); st != http.StatusUnauthorized {
		t.Fatalf("after a refused rotation, no token: %d", st)
	}
	if st, _ := get(t, hc, secure+"/api/session", tpeToken); st != 200 {
		t.Fatalf("after a refused rotation, the store token: %d", st)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "invd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), pool
}
