// What this file proves: the table of frame ops (frames.go) serves what
// serveFrame's switch served: every control op a client may send has a
// row with its checks (the operator's role for SUBSCRIBE, SNAPSHOT,
// STATUS, ADMIN and SHARD_CALL; no payload for TOPOLOGY, SNAPSHOT and
// STATUS; a request in flight for SNAPSHOT, ADMIN, SHARD_CALL, BATCH and
// every domain op), every domain op a client may send is served as one,
// and every other op code (replies' ops, expire, the claim ops, codes no
// op has) is unknown.
//
// How: frameOpOf is asked for all 256 op codes and each answer compared
// with the expected row.
package server

import (
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestFrameOpTable(t *testing.T) {
	type row struct{ control, noPayload, admit bool }
	want := map[protocol.Op]row{
		protocol.OpHello:     {},
		protocol.OpPing:      {},
		protocol.OpTopology:  {noPayload: true},
		protocol.OpSubscribe: {control: true},
		protocol.OpSnapshot:  {control: true, noPayload: true, admit: true},
		protocol.OpStatus:    {control: true, noPayload: true},
		protocol.OpAdmin:     {control: true, admit: true},
		protocol.OpShardCall: {control: true, admit: true},
		protocol.OpBatch:     {admit: true},
	}
	for code := 0; code < 256; code++ {
		op := protocol.Op(code)
		got := frameOpOf(op)
		eop, domain := op.Engine()
		w, control := want[op]
		switch {
		case domain:
			if got != &domainOp || eop == engine.OpExpire {
				t.Errorf("%v: not served as a domain op", op)
			}
		case control:
			if got == nil || (row{got.control, got.noPayload, got.admit}) != w || (got.control && got.denied == "") {
				t.Errorf("%v: row %+v, want %+v", op, got, w)
			}
		case got != nil:
			t.Errorf("%v (0x%02x): served, want unknown", op, code)
		}
	}
}
