// Proves the renderings of a pickup on the client's own result types: a
// Result and a Reservation give the same 12 digits and barcode as the
// engine's formats, and nothing at all without a code (a hold, or a read
// on a token that does not see codes).
package client

import (
	"testing"

	"github.com/invsys/inv/engine"
)

func TestPickupRenderings(t *testing.T) {
	id, code := engine.MakeID(3, 77), uint64(123456789012)
	res := Result{ID: id, State: StateConfirmed, PickupCode: code}
	rv := &Reservation{ID: id, State: StateConfirmed, PickupCode: code}
	if res.PickupCodeString() != "123456789012" || rv.PickupCodeString() != "123456789012" {
		t.Errorf("codes %q %q", res.PickupCodeString(), rv.PickupCodeString())
	}
	want := engine.PickupBarcode(id, code)
	if res.Barcode() != want || rv.Barcode() != want {
		t.Errorf("barcodes %q %q, want %q", res.Barcode(), rv.Barcode(), want)
	}
	bid, bcode, err := engine.ParseBarcode(res.Barcode())
	if err != nil || bid != id || bcode != code {
		t.Errorf("barcode %q parses to %d %d %v", res.Barcode(), bid, bcode, err)
	}
	held := Result{ID: id, State: StateHeld}
	if held.Barcode() != "" || (&Reservation{ID: id}).PickupCodeString() != "" {
		t.Error("a reservation without a code renders one")
	}
}
