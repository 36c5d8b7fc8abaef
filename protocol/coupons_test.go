// The coupon parts of a reply (coupons.go, docs/adr/0106): the largest
// issue report the engine can give (engine.MaxCouponStores stores, each
// id of the most bytes) encodes within the default frame and decodes to
// itself; a coupon's state or chain-wide flag outside its values is
// malformed; a report over MaxListStores stores cannot be encoded.
package protocol

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
)

func TestCouponIssueReportFitsAFrame(t *testing.T) {
	is := &engine.CouponIssueInfo{SKU: strings.Repeat("k", MaxIDBytes), Store: strings.Repeat("w", MaxIDBytes),
		Serials: engine.MaxCouponSerials, Redeemed: engine.MaxCouponStores}
	for i := 0; i < engine.MaxCouponStores; i++ {
		id := fmt.Sprintf("%064d", i)
		is.ByStore = append(is.ByStore, engine.StoreCount{Store: id, Count: 1})
	}
	r := engine.Result{CouponIssue: is}
	if err := CheckResult(&r); err != nil {
		t.Fatal(err)
	}
	frame := AppendResult(nil, 1, engine.OpGetCouponIssue, &r)
	if len(frame) > DefaultMaxFrameBytes {
		t.Fatalf("the largest issue report is %d bytes, over the default frame of %d", len(frame), DefaultMaxFrameBytes)
	}
	var got engine.Result
	if err := DecodeResult(frame[HeaderSize:], &got); err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("decoded %v, %v", err, got.CouponIssue == nil)
	}
	for len(is.ByStore) <= MaxListStores {
		is.ByStore = append(is.ByStore, engine.StoreCount{Store: "x", Count: 1})
	}
	if err := CheckResult(&r); err == nil {
		t.Fatal("a report over MaxListStores passed CheckResult")
	}
}

func TestCouponDecodeRefusesBadValues(t *testing.T) {
	good := engine.Result{ID: 1, Coupon: &engine.CouponInfo{SKU: "C", Store: "W", Customer: "c", State: engine.CouponIssued}}
	frame := AppendResult(nil, 1, engine.OpGetCoupon, &good)
	payload := frame[HeaderSize:]
	// The coupon's state byte follows the code, the masks and the id.
	at := strings.Index(string(payload), "\x01\x00\x01C") // state 1, chain 0, sku "C"
	if at < 0 {
		t.Fatalf("no coupon in %x", payload)
	}
	for _, bad := range []struct {
		off int
		b   byte
	}{{at, 0}, {at, 4}, {at + 1, 2}} {
		p := append([]byte(nil), payload...)
		p[bad.off] = bad.b
		var r engine.Result
		if err := DecodeResult(p, &r); err == nil {
			t.Errorf("byte %d = %d decoded", bad.off, bad.b)
		}
	}
}
