// What this file proves: cmdBytesMax, the bound the writer packs BATCH
// frames by, holds for a bulk put: a put_items of MaxBulkItems items of
// the largest encoding takes no more bytes as a BATCH entry than the bound
// says, so BATCH frames of bulk puts stay under the frame limit (a bound
// without the items let 1.9 MB frames out, refused too_large). Also for
// the commands without items, with every field at its longest.
package client

import (
	"bytes"
	"math"
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestCmdBytesMaxBoundsBulkPuts(t *testing.T) {
	id := bytes.Repeat([]byte("x"), protocol.MaxIDBytes)
	items := make([]engine.ItemPut, protocol.MaxBulkItems)
	for i := range items {
		items[i] = engine.ItemPut{SKU: id, Store: id, Set: engine.ItemSetAll, Stock: math.MaxInt64,
			OpensAt: 1, ClosesAt: 2, MemberTier: 1, MemberUnits: 3, MemberCutoff: 4}
	}
	for name, cmd := range map[string]engine.Command{
		"put_items": {Op: engine.OpPutItems, Items: items, Key: bytes.Repeat([]byte("k"), protocol.MaxKeyBytes),
			Reason: bytes.Repeat([]byte("r"), protocol.MaxReasonBytes)},
		"update_item": {Op: engine.OpUpdateItem, SKU: id, Store: id, Key: id, Set: engine.ItemSetAll, Stock: -1,
			OpensAt: -1, ClosesAt: -1, MemberTier: 255, MemberUnits: -1, MemberCutoff: -1,
			Reason: bytes.Repeat([]byte("r"), protocol.MaxReasonBytes)},
	} {
		empty := len(protocol.AppendBatchRequest(nil, 1, []engine.Command{{Op: engine.OpGetItem}}))
		one := len(protocol.AppendBatchRequest(nil, 1, []engine.Command{{Op: engine.OpGetItem}, cmd}))
		if got, bound := one-empty, cmdBytesMax(&cmd); got > bound {
			t.Errorf("%s: a BATCH entry of %d bytes over its bound %d", name, got, bound)
		}
	}
}
