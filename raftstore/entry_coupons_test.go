// The log entry carries put_coupon_issue's coupon flags (engine/coupons.go,
// docs/adr/0106): a command with them decodes to itself, so every replica
// applies the same issue (without the field, a chain-wide issue came back
// store-bound after the log), and flags past 8 bits are refused as corrupt.
package raftstore

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/invsys/inv/engine"
)

func TestEntryCarriesCouponFlags(t *testing.T) {
	cmds := []engine.Command{{Op: engine.OpPutCouponIssue, SKU: []byte("CPN"), Store: []byte("WEB"), Stock: 5, Limit: 1,
		TTL: 7, CouponFlags: engine.CouponChainWide | engine.CouponReturnOnExpiry}}
	data, err := EncodeEntry(42, cmds)
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := DecodeEntry(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cmds) {
		t.Fatalf("decoded %+v, want %+v", got, cmds)
	}
	bad := []byte{byte(engine.OpPutCouponIssue)}
	bad = binary.AppendUvarint(bad, 1<<fCouponFlags)
	bad = binary.AppendUvarint(bad, 1<<8)
	var c engine.Command
	if _, err := decodeCommand(bad, &c); !errors.Is(err, ErrEntryCorrupt) {
		t.Fatalf("coupon flags past 8 bits: %v", err)
	}
}
