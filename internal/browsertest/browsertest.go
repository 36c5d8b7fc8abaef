// Package browsertest drives a headless Chromium for the tests of inv's
// pages (package pages, examples/storefront) through the DevTools protocol
// (github.com/chromedp/chromedp). It finds the browser, starts it with a
// fresh profile and without any network of its own (no updates, no sync,
// no first-run pages), and skips the test with a clear message where no
// Chromium is installed. Screenshots go to the folder INV_SCREENSHOTS names,
// when it does (docs/screenshots/ holds the committed ones).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserNames are the names a Chromium binary goes by, in the order they
// are looked for on PATH (Debian's package installs "chromium").
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// Path returns the Chromium to drive: INV_CHROMIUM when set, else the first
// of browserNames on PATH, or "".
func Path() string {
	if p := os.Getenv("INV_CHROMIUM"); p != "" {
		if p, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	for _, n := range browserNames {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// testTimeout bounds one test's browser: starting Chromium takes a second
// or two on a loaded machine, each page step well under one.
const testTimeout = 2 * time.Minute

// Start starts a headless Chromium for the test and returns a context that
// drives its first tab; the browser ends with the test. It skips the test
// when no Chromium is found.
func Start(t testing.TB) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		t.Skip("no Chromium found (INV_CHROMIUM, or chromium, chromium-browser, google-chrome, headless-shell on PATH): " +
			"install it (apt-get install -y chromium) to run the browser tests")
	}
	// A profile of its own, removed after the browser: Chromium's helper
	// processes may still write to it for a moment after the browser
	// exits, which t.TempDir's cleanup would report as a failure.
	profile, err := os.MkdirTemp("", "inv-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI containers, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-GB"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	ctx, cancelTime := context.WithTimeout(ctx, testTimeout)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("browser profile %s left behind", profile)
	})
	if err := chromedp.Run(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// Screenshot saves the page as name.png in the folder INV_SCREENSHOTS
// names; without it, nothing.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("INV_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", filepath.Join(dir, name+".png"))
}
