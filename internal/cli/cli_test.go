// A flag marked required is listed as missing until the command line gives
// it a non-empty value, and help shows it as required, first, without the
// placeholder default a sentinel would show; other flags keep their
// defaults when these are not zero values.
package cli

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

func TestRequiredFlags(t *testing.T) {
	newSet := func() *flag.FlagSet {
		fs := flag.NewFlagSet("item put", flag.ContinueOnError)
		fs.String("sku", "", "SKU")
		fs.Int64("stock", -1, "units")
		fs.Int("qty", 1, "units per order")
		fs.Bool("json", false, "print JSON")
		Require(fs, "sku", "stock")
		Require(fs, "sku") // twice: marked once
		return fs
	}
	fs := newSet()
	if err := fs.Parse([]string{"--qty", "2"}); err != nil {
		t.Fatal(err)
	}
	if err := MissingError(fs); err == nil || err.Error() != "--sku and --stock are required" {
		t.Fatalf("nothing given: %v", err)
	}
	fs = newSet()
	_ = fs.Parse([]string{"--sku", "", "--stock", "0"})
	if err := MissingError(fs); err == nil || err.Error() != "--sku is required" {
		t.Fatalf("empty sku: %v", err)
	}
	fs = newSet()
	_ = fs.Parse([]string{"--sku", "a", "--stock", "0"})
	if err := MissingError(fs); err != nil {
		t.Fatalf("all given: %v", err)
	}
	var b bytes.Buffer
	PrintFlags(&b, newSet())
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "--sku string") || !strings.HasSuffix(lines[0], "SKU (required)") ||
		!strings.HasSuffix(lines[1], "units (required)") || !strings.HasSuffix(lines[3], "units per order (default 1)") {
		t.Fatalf("help:\n%s", b.String())
	}
	if strings.Contains(b.String(), "default -1") || strings.Contains(b.String(), "default false") {
		t.Fatalf("help shows a meaningless default:\n%s", b.String())
	}
}
