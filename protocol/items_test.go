// What this file proves: put_items' limits hold at and past their edge on
// the wire. A bulk put of MaxBulkItems items of the largest encoding
// (MaxBulkItemBytes each, which the test measures rather than trusts) fits
// the default frame and round-trips; one item more is refused by
// CheckRequest and by the decoder, before it allocates the list; an id
// over its limit is refused naming the item; a put_items without items,
// with a reserved item field bit or a zero field marked present is refused.
package protocol

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
)

func largestItem() engine.ItemPut {
	id := bytes.Repeat([]byte("x"), MaxIDBytes)
	return engine.ItemPut{SKU: id, Store: id, Set: engine.ItemSetAll, Stock: math.MaxInt64, OpensAt: -1,
		ClosesAt: 1, MemberTier: 255, MemberUnits: 1, MemberCutoff: 1}
}

func bulkOf(n int, p engine.ItemPut) engine.Command {
	items := make([]engine.ItemPut, n)
	for i := range items {
		items[i] = p
	}
	return engine.Command{Op: engine.OpPutItems, Items: items, Key: bytes.Repeat([]byte("k"), MaxKeyBytes)}
}

func TestBulkItemBytes(t *testing.T) {
	one, two := bulkOf(1, largestItem()), bulkOf(2, largestItem())
	if d := len(AppendRequest(nil, 1, &two)) - len(AppendRequest(nil, 1, &one)); d != MaxBulkItemBytes {
		t.Fatalf("the largest item takes %d bytes, MaxBulkItemBytes says %d", d, MaxBulkItemBytes)
	}
	full := bulkOf(MaxBulkItems, largestItem())
	if err := CheckRequest(&full); err != nil {
		t.Fatalf("a full bulk put: %v", err)
	}
	frame := AppendRequest(nil, 1, &full)
	if len(frame) > DefaultMaxFrameBytes {
		t.Fatalf("a full bulk put of the largest items takes %d bytes, over the default frame %d", len(frame), DefaultMaxFrameBytes)
	}
	f, _, err := ReadFrame(frame, DefaultMaxFrameBytes)
	if err != nil {
		t.Fatal(err)
	}
	var got engine.Command
	if err := DecodeRequest(f.Op, f.Payload, &got); err != nil || !reflect.DeepEqual(got.Items, full.Items) {
		t.Fatalf("a full bulk put does not round-trip: %v", err)
	}
}

func TestBulkItemsPastTheLimit(t *testing.T) {
	over := bulkOf(MaxBulkItems+1, engine.ItemPut{SKU: []byte("A"), Store: []byte("S"), Set: engine.SetStock, Stock: 1})
	if err := CheckRequest(&over); CodeOf(err) != engine.CodeTooLarge {
		t.Fatalf("CheckRequest of %d items: %v", MaxBulkItems+1, err)
	}
	// The decoder refuses the count before it allocates: a payload with a
	// count past the limit and nothing behind it.
	payload := appendFieldMask(nil, 1<<fItems)
	payload = appendU16(payload, MaxBulkItems+1)
	var c engine.Command
	if err := DecodeRequest(DomainOp(engine.OpPutItems), payload, &c); CodeOf(err) != engine.CodeTooLarge {
		t.Fatalf("decode of %d items: %v", MaxBulkItems+1, err)
	}
	long := engine.Command{Op: engine.OpPutItems, Items: []engine.ItemPut{{SKU: []byte("A")}, {SKU: bytes.Repeat([]byte("s"), MaxIDBytes+1)}}}
	if err := CheckRequest(&long); CodeOf(err) != engine.CodeTooLarge || !strings.Contains(err.Error(), "item 2 sku") {
		t.Fatalf("an item's id over its limit: %v", err)
	}
}

func TestBulkItemsMalformed(t *testing.T) {
	good := bulkOf(1, engine.ItemPut{SKU: []byte("A"), Store: []byte("S"), Set: engine.SetStock, Stock: 1})
	frame := AppendRequest(nil, 1, &good)
	f, _, _ := ReadFrame(frame, 0)
	base := append([]byte(nil), f.Payload...)
	// The item's fields byte sits after the mask (8 bytes), the key
	// (1+64), the count (2) and the set byte (1).
	at := 8 + 1 + MaxKeyBytes + 2 + 1
	if base[at] != engine.ItemHasStock {
		t.Fatalf("fields byte at %d is %#x: the layout changed", at, base[at])
	}
	mut := func(f func(b []byte)) []byte { b := append([]byte(nil), base...); f(b); return b }
	for name, p := range map[string][]byte{
		"reserved field bit": mut(func(b []byte) { b[at] |= 0x40 }),
		"zero stock present": mut(func(b []byte) { copy(b[len(b)-8:], make([]byte, 8)) }),
		"truncated":          base[:len(base)-1],
	} {
		var c engine.Command
		if err := DecodeRequest(f.Op, p, &c); err == nil {
			t.Errorf("%s: decoded %+v", name, c.Items)
		}
	}
	var c engine.Command
	if err := DecodeRequest(f.Op, appendU32(nil, 0), &c); !errors.Is(err, errNoItems) {
		t.Errorf("put_items without items: %v", err)
	}
}
