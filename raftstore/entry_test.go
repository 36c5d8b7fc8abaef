// Tests of the raft entry encoding (a batch of engine commands plus the
// leader's time). They prove, over thousands of random commands with every
// field sometimes zero and sometimes extreme, that decode(encode(x)) == x and
// that encoding is deterministic; that malformed data of every kind is refused
// (wrong version, zero or oversized count, a count the data cannot hold,
// unknown field bits, zero-valued or truncated fields, trailing bytes); and,
// by fuzzing, that the decoder never panics and that whatever it accepts
// re-encodes to exactly the same bytes.
package raftstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

// randomCommand fills each field of a command with probability 1/2, using
// values from small to extreme, so that every bitmap pattern appears.
func randomCommand(r *rand.Rand) engine.Command {
	pick := func() bool { return r.IntN(2) == 0 }
	i64 := func() int64 {
		switch r.IntN(4) {
		case 0:
			return math.MinInt64
		case 1:
			return math.MaxInt64
		default:
			return r.Int64N(2000) - 1000
		}
	}
	bs := func() []byte {
		b := make([]byte, 1+r.IntN(MaxFieldBytes))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	var c engine.Command
	c.Op = engine.Op(r.IntN(256))
	c.Linked, c.Restock = pick(), pick()
	if pick() {
		c.SKU = bs()
	}
	if pick() {
		c.Store = bs()
	}
	if pick() {
		c.Customer = bs()
	}
	if pick() {
		c.Key = bs()
	}
	if pick() {
		c.ID = r.Uint64()
	}
	if pick() {
		c.PickupCode = r.Uint64N(1e12)
	}
	if pick() {
		c.Claim = bs()
	}
	if pick() {
		c.Seq = r.Uint64()
	}
	for _, f := range []*uint16{&c.ItemShard, &c.FromShard, &c.ToShard, (*uint16)(&c.ClaimCode)} {
		if pick() {
			*f = uint16(r.IntN(1 << 16))
		}
	}
	if pick() {
		c.Zone = bs()
	}
	if pick() {
		c.Actor = bs()
	}
	if pick() {
		c.Reason = bs()
	}
	if pick() {
		c.Set = engine.ItemSet(r.IntN(256))
	}
	for _, f := range []*int64{&c.Qty, &c.Window, &c.WindowEnd, &c.Quota, (*int64)(&c.TTL),
		&c.Stock, &c.Limit, &c.OpensAt, &c.ClosesAt, &c.MemberUnits, &c.MemberCutoff, &c.Deadline} {
		if pick() {
			*f = i64()
		}
	}
	if pick() {
		c.MemberTier = uint8(r.IntN(256))
	}
	if pick() {
		c.Tier = uint8(r.IntN(256))
	}
	if r.IntN(4) == 0 {
		c.Items = randomItems(r, bs, i64)
	}
	return c
}

// randomItems returns 1 to 5 bulk put items with each field sometimes
// zero (an empty id included) and sometimes extreme.
func randomItems(r *rand.Rand, bs func() []byte, i64 func() int64) []engine.ItemPut {
	items := make([]engine.ItemPut, 1+r.IntN(5))
	for i := range items {
		p := &items[i]
		if r.IntN(4) > 0 {
			p.SKU = bs()
		}
		if r.IntN(4) > 0 {
			p.Store = bs()
		}
		p.Set = engine.ItemSet(r.IntN(256))
		for _, f := range []*int64{&p.Stock, &p.OpensAt, &p.ClosesAt, &p.MemberUnits, &p.MemberCutoff} {
			if r.IntN(2) == 0 {
				*f = i64()
			}
		}
		p.MemberTier = uint8(r.IntN(3))
	}
	return items
}

// normalize maps empty byte slices to nil, as the decoder yields them.
func normalize(cmds []engine.Command) []engine.Command {
	out := append([]engine.Command(nil), cmds...)
	for i := range out {
		for _, b := range []*[]byte{&out[i].SKU, &out[i].Store, &out[i].Customer, &out[i].Key, &out[i].Claim, &out[i].Zone, &out[i].Actor, &out[i].Reason} {
			if len(*b) == 0 {
				*b = nil
			}
		}
	}
	return out
}

func TestEntryRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var scratch []engine.Command
	for round := 0; round < 300; round++ {
		cmds := make([]engine.Command, 1+r.IntN(40))
		for i := range cmds {
			cmds[i] = randomCommand(r)
		}
		now := r.Int64()
		data, err := EncodeEntry(now, cmds)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := EncodeEntry(now, cmds)
		if !bytes.Equal(data, again) {
			t.Fatal("encoding is not deterministic")
		}
		gotNow, got, err := DecodeEntry(data, scratch)
		if err != nil {
			t.Fatalf("round %d: decode: %v", round, err)
		}
		scratch = got
		if gotNow != now || !reflect.DeepEqual(got, normalize(cmds)) {
			t.Fatalf("round %d: decoded %d/%+v, want %d/%+v", round, gotNow, got, now, cmds)
		}
	}
}

func TestEntryCompact(t *testing.T) {
	// A typical reserve: the size that matters for the log and the WAL.
	c := engine.Command{Op: engine.OpReserve, SKU: []byte("4710088432018"), Store: []byte("S0231"),
		Customer: []byte("member-0012345"), Key: []byte("0b7f6a1c-5d1e-4c3b-9f0a-2e8d7c6b5a49"),
		Qty: 2, TTL: 10 * time.Minute}
	data, err := EncodeEntry(1, []engine.Command{c})
	if err != nil {
		t.Fatal(err)
	}
	payload := len(c.SKU) + len(c.Store) + len(c.Customer) + len(c.Key)
	if overhead := len(data) - entryHeaderLen - payload; overhead > 16 {
		t.Fatalf("reserve costs %d bytes beyond its ids; want <= 16", overhead)
	}
	if data, _ := EncodeEntry(1, []engine.Command{{Op: engine.OpExpire}}); len(data) != entryHeaderLen+2 {
		t.Fatalf("an expire command takes %d bytes", len(data)-entryHeaderLen)
	}
}

func TestEntryRefusals(t *testing.T) {
	if _, err := EncodeEntry(0, nil); err == nil {
		t.Fatal("empty batch encoded")
	}
	if _, err := EncodeEntry(0, []engine.Command{{Op: engine.OpReserve, SKU: make([]byte, MaxFieldBytes+1)}}); !errors.Is(err, ErrFieldTooLarge) {
		t.Fatalf("oversized field: %v", err)
	}
	if _, err := EncodeEntry(0, []engine.Command{{Op: engine.OpPutItems, Items: []engine.ItemPut{{SKU: make([]byte, MaxFieldBytes+1)}}}}); !errors.Is(err, ErrFieldTooLarge) {
		t.Fatalf("oversized item id: %v", err)
	}
	if _, err := EncodeEntry(0, []engine.Command{{Op: engine.OpPutItems, Items: make([]engine.ItemPut, engine.MaxBulkItems+1)}}); !errors.Is(err, ErrFieldTooLarge) {
		t.Fatalf("items past MaxBulkItems: %v", err)
	}
	good, _ := EncodeEntry(5, []engine.Command{{Op: engine.OpReserve, SKU: []byte("A"), Qty: 1}})
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	bad := map[string][]byte{
		"short":        good[:entryHeaderLen-1],
		"version":      mut(func(b []byte) []byte { b[0] = 9; return b }),
		"zero count":   mut(func(b []byte) []byte { b[12] = 0; return b }),
		"count > data": mut(func(b []byte) []byte { b[12] = 200; return b }),
		"huge count":   mut(func(b []byte) []byte { b[9] = 0xFF; return b }),
		"trailing":     append(append([]byte(nil), good...), 0),
		"truncated":    good[:len(good)-1],
		"unknown bit":  append(good[:entryHeaderLen:entryHeaderLen], 1, 0x80, 0x80, 0x80, 0x01),
		"zero qty":     append(good[:entryHeaderLen:entryHeaderLen], 1, 1<<fQty, 0x80, 0x01, 0),
		"empty sku":    append(good[:entryHeaderLen:entryHeaderLen], 1, 1<<fSKU, 0),
		"zero tier":    append(good[:entryHeaderLen:entryHeaderLen], 1, 0x80, 0x80, 0x40, 0),
		"overlong map": append(good[:entryHeaderLen:entryHeaderLen], 1, 0x80, 0),
		"zero items":   withItems(good, 0),
		"items > data": withItems(good, 9, 0, 0, 0, 0),
		"item field":   withItems(good, 1, 1, 0x40, 0, 0),
		"zero stock":   withItems(good, 1, 1, engine.ItemHasStock, 0, 0, 0),
		"wide shard":   append(append(good[:entryHeaderLen:entryHeaderLen], 1), append(binary.AppendUvarint(nil, 1<<fItemShard), binary.AppendUvarint(nil, 1<<16)...)...),
	}
	// A retired field (the claim expiry and proof of docs/adr/0050) is corrupt.
	for _, bit := range []int{fClaimExpiry, fProof} {
		bad[fmt.Sprint("retired ", bit)] = append(append(good[:entryHeaderLen:entryHeaderLen], 1),
			append(binary.AppendUvarint(nil, 1<<bit), 1)...)
	}
	for name, b := range bad {
		if _, _, err := DecodeEntry(b, nil); err == nil {
			t.Errorf("%s: %x decoded without error", name, b)
		}
	}
}

// withItems returns an entry of good's header and one put_items command
// whose items field is b.
func withItems(good []byte, b ...byte) []byte {
	cmd := append([]byte{byte(engine.OpPutItems)}, binary.AppendUvarint(nil, 1<<fItems)...)
	return append(append(good[:entryHeaderLen:entryHeaderLen], cmd...), b...)
}

func TestEntryItemsRefusalsAreItems(t *testing.T) {
	// The refusals above must fail on the items, not on the command: the
	// same header with a good item decodes.
	if _, cmds, err := DecodeEntry(withItems(goodEntry(), 1, 1, engine.ItemHasStock, 1, 'A', 1, 'S', 2), nil); err != nil || len(cmds[0].Items) != 1 || cmds[0].Items[0].Stock != 1 {
		t.Fatalf("a good item: %v %+v", err, cmds)
	}
}

func goodEntry() []byte {
	b, _ := EncodeEntry(5, []engine.Command{{Op: engine.OpReserve, SKU: []byte("A"), Qty: 1}})
	return b
}

func FuzzDecodeEntry(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 8; i++ {
		cmds := make([]engine.Command, 1+r.IntN(4))
		for j := range cmds {
			cmds[j] = randomCommand(r)
		}
		data, _ := EncodeEntry(r.Int64(), cmds)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		now, cmds, err := DecodeEntry(data, nil)
		if err != nil {
			return
		}
		again, err := EncodeEntry(now, cmds)
		if err != nil {
			t.Fatalf("decoded entry does not re-encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("decode → encode changed the bytes:\n in  %x\n out %x", data, again)
		}
	})
}
