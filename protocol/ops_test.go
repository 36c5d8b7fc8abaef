// This file proves that the op and field tables agree with the engine and
// with the spec: every engine op a client may send has the op code 0x10 + op
// and carries exactly the fields engine/command.go lists for it (restated
// here by hand, not derived from requestFields), and docs/PROTOCOL.md lists
// every op code, every error code with its number and every limit.
package protocol

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
)

// opFields restates the Op comments of engine/command.go, plus the
// idempotency key every mutating op may carry (engine.Op.Mutating).
var opFields = map[engine.Op][]string{
	engine.OpReserve:          {"sku", "store", "customer", "qty", "window", "ttl", "key", "claim", "deadline", "prints"},
	engine.OpConfirm:          {"id", "qty", "key"},
	engine.OpExtend:           {"id", "ttl", "key"},
	engine.OpClaim:            {"customer", "sku", "qty", "limit", "claim", "item_shard", "deadline"},
	engine.OpReleaseClaim:     {"customer", "claim", "deadline", "from_shard", "seq"},
	engine.OpAnchorClaim:      {"customer", "claim"},
	engine.OpResolveClaim:     {"claim", "item_shard", "claim_code"},
	engine.OpDelivered:        {"to_shard", "seq"},
	engine.OpGetClaim:         {"customer", "claim"},
	engine.OpGetClaimHold:     {"claim", "item_shard"},
	engine.OpRegisterKey:      {"key", "id", "item_shard"},
	engine.OpCustomerCopy:     {"customer", "tier", "qty", "to_shard", "from_shard", "seq"},
	engine.OpNoShow:           {"customer", "id", "deadline", "from_shard", "seq"},
	engine.OpCancel:           {"id", "key"},
	engine.OpPickup:           {"id", "store", "pickup_code", "key"},
	engine.OpReschedule:       {"id", "window", "key"},
	engine.OpReturn:           {"id", "restock", "key"},
	engine.OpPutItem:          {"sku", "store", "stock", "opens_at", "closes_at", "member_tier", "member_units", "member_cutoff", "key", "reason", "actor"},
	engine.OpPutItems:         {"key", "reason", "actor", "items"},
	engine.OpUpdateItem:       {"sku", "store", "set", "stock", "opens_at", "closes_at", "member_tier", "member_units", "member_cutoff", "key", "reason", "actor"},
	engine.OpPutWindow:        {"sku", "store", "window", "window_end", "quota", "key"},
	engine.OpRestock:          {"sku", "store", "qty", "key", "reason", "actor"},
	engine.OpAdjustStock:      {"sku", "store", "qty", "key", "reason", "actor"},
	engine.OpSetSaleWindow:    {"sku", "store", "opens_at", "closes_at", "key"},
	engine.OpSetLimit:         {"sku", "limit", "key"},
	engine.OpSetMemberShare:   {"sku", "store", "member_tier", "member_units", "member_cutoff", "key"},
	engine.OpBlock:            {"customer", "key"},
	engine.OpUnblock:          {"customer", "key"},
	engine.OpSetTier:          {"customer", "tier", "key"},
	engine.OpUnlock:           {"id", "key"},
	engine.OpGetItem:          {"sku", "store"},
	engine.OpGetWindow:        {"sku", "store", "window"},
	engine.OpGetReservation:   {"id"},
	engine.OpGetCustomer:      {"customer"},
	engine.OpListReservations: {"customer"},
	engine.OpStoresWithStock:  {"sku"},
	engine.OpListItems:        {"sku"},
	engine.OpPutStore:         {"store", "zone", "key"},
	engine.OpPutStoreWindow:   {"store", "window", "window_end", "quota", "key"},
	engine.OpGetStore:         {"store"},
	engine.OpSetMarkRule:      {"sku", "store", "marks", "key"},
	engine.OpGetMarkRule:      {"sku", "store"},
	engine.OpListByMark:       {"marks"},
	engine.OpReleaseReview:    {"id", "key"},
	engine.OpStoreItems:       {"store"},
	engine.OpJoinWaitlist:     {"sku", "store", "customer", "qty", "ttl", "key"},
	engine.OpLeaveWaitlist:    {"sku", "store", "customer", "key"},
	engine.OpGetWaitlist:      {"sku", "store", "customer"},
	engine.OpPutCouponIssue:   {"sku", "store", "stock", "limit", "opens_at", "closes_at", "ttl", "coupon_flags", "key"},
	engine.OpTakeCoupon:       {"sku", "store", "customer", "key"},
	engine.OpRedeemCoupon:     {"id", "pickup_code", "store", "key"},
	engine.OpGetCoupon:        {"id", "pickup_code"},
	engine.OpGetCouponIssue:   {"sku", "store"},
}

func TestOpTable(t *testing.T) {
	for op := engine.Op(0); op < 255; op++ {
		wire := DomainOp(op)
		eop, ok := wire.Engine()
		client := op.Valid() && op != engine.OpExpire
		if ok != client || ok && eop != op {
			t.Errorf("%v: Engine() = %v %v", op, eop, ok)
		}
		if client && uint8(wire) != 0x10+uint8(op) {
			t.Errorf("%v: op code %#x", op, wire)
		}
		if !client {
			if requestFields[op] != 0 {
				t.Errorf("%v: a client may not send it, yet it has fields", op)
			}
			continue
		}
		names, ok := opFields[op]
		if !ok {
			t.Errorf("%v: not in opFields; add the engine's new op to the protocol", op)
			continue
		}
		var want []string
		for f := 0; f < requestFieldCount; f++ {
			if requestFields[op]&(1<<f) != 0 {
				want = append(want, requestFieldNames[f])
			}
		}
		if fmt.Sprint(sorted(names)) != fmt.Sprint(sorted(want)) {
			t.Errorf("%v carries %v; engine/command.go says %v", op, want, names)
		}
		if wire.String() != op.String() || !wire.Known() {
			t.Errorf("%v: wire name %q", op, wire)
		}
	}
	for _, op := range []Op{OpHello, OpPing, OpBatch, OpTopology, OpSubscribe, OpEvent, OpSnapshot, OpStatus, OpError, OpNotLeader} {
		if !op.Known() || op >= opDomainBase {
			t.Errorf("control op %v (%#x)", op, uint8(op))
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestSpecListsEverything(t *testing.T) {
	raw, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Skipf("spec not found: %v", err)
	}
	doc := string(raw)
	has := func(what, s string) {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/PROTOCOL.md does not list %s (%q)", what, s)
		}
	}
	for _, c := range engine.Codes() {
		has("code "+c.String(), fmt.Sprintf("| %d | `%s` |", c, c))
	}
	for op := engine.Op(1); op <= engine.OpLast; op++ {
		if clientOp(op) {
			has("op "+op.String(), fmt.Sprintf("| 0x%02x | `%s` |", uint8(DomainOp(op)), op))
		}
	}
	for _, op := range []Op{OpHello, OpPing, OpBatch, OpTopology, OpSubscribe, OpEvent, OpSnapshot, OpStatus, OpError, OpNotLeader} {
		has("op "+op.String(), fmt.Sprintf("| 0x%02x | `%s` |", uint8(op), op))
	}
	for _, k := range []engine.EventKind{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 21, 22, 23} {
		has("event kind "+k.String(), fmt.Sprintf("| %d | `%s` |", k, k))
	}
	for s := engine.StateHeld; s <= engine.StateReturned; s++ {
		has("state "+s.String(), fmt.Sprintf("| %d | `%s` |", s, s))
	}
	limits := map[string]int{
		"DefaultMaxFrameBytes": DefaultMaxFrameBytes, "MaxFrameBytesLimit": MaxFrameBytesLimit,
		"MaxIDBytes": MaxIDBytes, "MaxKeyBytes": MaxKeyBytes, "MaxBatchOps": MaxBatchOps,
		"MaxWindowsPerItem": MaxWindowsPerItem, "MaxListReservations": MaxListReservations,
		"MaxListStores": MaxListStores, "MaxListItems": MaxListItems, "MaxTokenBytes": MaxTokenBytes,
		"MaxNameBytes": MaxNameBytes, "MaxMessageBytes": MaxMessageBytes, "MaxAddrBytes": MaxAddrBytes,
		"MaxHashNameBytes": MaxHashNameBytes, "MaxNodes": MaxNodes, "MaxShards": MaxShards,
		"MaxReplicas": MaxReplicas, "MaxWindowsPerStore": MaxWindowsPerStore, "MaxZoneBytes": MaxZoneBytes,
	}
	for name, v := range limits {
		has("limit "+name, fmt.Sprintf("| `%s` | %d |", name, v))
	}
	has("the shard vector", "16497104550760900906")
	has("the hash name", "`"+HashName+"`")
}
