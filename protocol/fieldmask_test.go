// What this file proves: the request field mask's extension (bit 31 set: a
// second u32 names fields 31 and up) round-trips a request with a field
// past 30 (update_item's reason) and leaves a request of fields below 31
// byte for byte as one u32; a set extension bit with an empty extension, or
// an extension naming a field that does not exist, is refused. How: encode
// and decode with the package's own codec, and hand-built payloads.
package protocol

import (
	"testing"

	"github.com/invsys/inv/engine"
)

func TestFieldMaskExtension(t *testing.T) {
	cmd := engine.Command{Op: engine.OpUpdateItem, SKU: []byte("A"), Store: []byte("S"), Set: engine.ItemSet(1), Stock: 5,
		Reason: []byte("recount")}
	payload := appendCommand(nil, &cmd)
	if m := uint32(payload[0]) | uint32(payload[1])<<8 | uint32(payload[2])<<16 | uint32(payload[3])<<24; m&maskExtension == 0 {
		t.Fatalf("a request with reason (field %d) has no mask extension: %x", fReason, m)
	}
	var got engine.Command
	if err := DecodeRequest(DomainOp(cmd.Op), payload, &got); err != nil || string(got.Reason) != "recount" || got.Stock != 5 || got.Set != cmd.Set {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// Fields below 31 only: one u32, no extension.
	plain := engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S")}
	if p := appendCommand(nil, &plain); p[3]&0x80 != 0 || len(p) != 4+2+2 {
		t.Fatalf("get_item payload %x", p)
	}
	get := func(mask, ext uint32) error {
		b := appendU32(nil, mask)
		b = appendU32(b, ext)
		b = appendStr8(b, []byte("A"), MaxIDBytes, "sku")
		b = appendStr8(b, []byte("S"), MaxIDBytes, "store")
		var c engine.Command
		return DecodeRequest(DomainOp(engine.OpUpdateItem), b, &c)
	}
	if err := get(1<<fSKU|1<<fStore|maskExtension, 0); err == nil {
		t.Error("an extension of no field decoded")
	}
	if err := get(1<<fSKU|1<<fStore|maskExtension, 1<<(requestFieldCount-31)); err == nil {
		t.Error("an extension naming a field past the last decoded")
	}
}
