package client

import (
	"context"
	"strconv"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// ItemUpdate changes the settings of an item it names and leaves the others
// as they are (docs/adr/0100): unlike PutItem, an update that gives only
// the stock keeps the sale window and the member share. A named setting
// whose value is zero is cleared (SetOpens with a zero time: open since
// forever; SetCloses: never closes; SetShare with zero units: no share).
// An item that does not exist yet is created, with stock 0 unless
// SetStock.
type ItemUpdate struct {
	SKU, Store string

	SetStock bool
	Stock    int64

	SetOpens  bool
	OpensAt   time.Time
	SetCloses bool
	ClosesAt  time.Time

	SetShare     bool
	MemberTier   uint8
	MemberUnits  int64
	MemberCutoff time.Time

	Reason string // why, kept in the change's event with the token's name (at most protocol.MaxReasonBytes)
	Key    string
}

// UpdateItem applies an ItemUpdate. An update naming nothing, a sale window
// that would close before it opens, or a share larger than the resulting
// stock is refused (ErrBadRequest); lowering the
// stock below what is promised is refused (ErrBelowPromised).
func (c *Client) UpdateItem(ctx context.Context, u ItemUpdate) error {
	if err := checkReason(u.Reason); err != nil {
		return err
	}
	p := itemPutOf(&u) // the settings u names, as a bulk put's item carries them
	cmd := engine.Command{Op: engine.OpUpdateItem, Reason: []byte(u.Reason), Set: p.Set, Stock: p.Stock,
		OpensAt: p.OpensAt, ClosesAt: p.ClosesAt, MemberTier: p.MemberTier, MemberUnits: p.MemberUnits, MemberCutoff: p.MemberCutoff}
	r := request{kind: kindOp, sku: u.SKU, store: u.Store, key: u.Key, cmd: cmd}
	return c.operate(ctx, &r)
}

// checkReason refuses a reason longer than the protocol carries, before
// anything is sent.
func checkReason(reason string) error {
	if len(reason) > protocol.MaxReasonBytes {
		return &ServerError{Code: engine.CodeBadRequest,
			Message: "a reason of " + strconv.Itoa(len(reason)) + " bytes (at most " +
				strconv.Itoa(protocol.MaxReasonBytes) + ")"}
	}
	return nil
}
