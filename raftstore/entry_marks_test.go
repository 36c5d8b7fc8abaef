// The log entry carries a reserve's fingerprints and the marks of
// set_mark_rule and list_by_mark (engine/marks.go): a command with each
// decodes to itself, full-width hashes included, and a marks value past
// 16 bits is refused as corrupt.
package raftstore

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/invsys/inv/engine"
)

func TestEntryCarriesPrintsAndMarks(t *testing.T) {
	cmds := []engine.Command{
		{Op: engine.OpReserve, SKU: []byte("A"), Store: []byte("S"), Customer: []byte("c"), Qty: 1,
			Prints: [engine.NumPrints]uint64{engine.PrintPayment: 1<<64 - 1, engine.PrintAddress: 7}},
		{Op: engine.OpSetMarkRule, SKU: []byte("A"), Store: []byte("S"), Marks: engine.MarkSharedDevice | engine.MarkVelocity},
	}
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
	bad := []byte{byte(engine.OpListByMark)}
	bad = binary.AppendUvarint(bad, 1<<fMarks)
	bad = binary.AppendUvarint(bad, 1<<16)
	var c engine.Command
	if _, err := decodeCommand(bad, &c); !errors.Is(err, ErrEntryCorrupt) {
		t.Fatalf("marks past 16 bits: %v", err)
	}
}
