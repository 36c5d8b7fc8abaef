package client

import (
	"context"
	"strconv"

	"github.com/invsys/inv/engine"
)

// ReserveMany reserves the lines of a cart (several SKUs, at the cart's
// store or each line's own, for one customer) all or nothing: it returns
// one Result per line, or a *CartError naming the line that was refused,
// with nothing held.
//
// The cart goes as one linked chain. Lines whose items live in one shard
// are applied atomically by the engine; a cart whose items span shards is
// held shard by shard by the server that receives it, which cancels what
// it held if a later shard refuses (docs/adr/0050): the refusal is final
// but, for a moment, other customers may have seen those units held.
//
// Every line carries a key derived from the cart's key (req.Key, or one
// made up) and homed on the store's shard, so no line registers its key
// elsewhere (docs/adr/0073): repeating the call with the same Key after an
// ErrUnknownOutcome error finishes the same cart, never a second one.
// Holds a server could not release (it died in between) expire with their
// TTL.
func (c *Client) ReserveMany(ctx context.Context, req CartRequest) ([]Result, error) {
	cmds, err := cartCommands(&req)
	if err != nil {
		return nil, err
	}
	if req.Key == "" {
		req.Key = c.NewKey()
	}
	home := c.storeShard(cmds[0].Store) // one store: every line's shard
	for i := range cmds {
		cmds[i].Key = derivedKey(req.Key, "l", i, home)
		cmds[i].Linked = i < len(cmds)-1
	}
	r := request{kind: kindCart, cmds: cmds}
	if err := c.exec(ctx, &r); err != nil {
		return nil, err
	}
	if len(r.results) != len(cmds) {
		return nil, errMissing("cart lines")
	}
	if line, code := chainRefusal(r.results); code != engine.OK {
		return nil, &CartError{Line: line, Err: errorOf(code)}
	}
	out := make([]Result, len(cmds))
	for i := range r.results {
		out[i] = resultOf(&r.results[i])
	}
	return out, nil
}

// cartCommands checks a cart and builds its reserve commands.
func cartCommands(req *CartRequest) ([]engine.Command, error) {
	if len(req.Lines) == 0 || len(req.Lines) > maxCartLines {
		return nil, &ServerError{Code: engine.CodeBadRequest,
			Message: "a cart of " + strconv.Itoa(len(req.Lines)) + " lines (1 to " + strconv.Itoa(maxCartLines) + ")"}
	}
	if err := checkIDs(req.Store, req.Customer, req.Key); err != nil {
		return nil, err
	}
	customer := []byte(req.Customer)
	cmds := make([]engine.Command, len(req.Lines))
	for i, l := range req.Lines {
		store := l.Store
		if store == "" {
			store = req.Store
		}
		if err := checkIDs(l.SKU, store); err != nil {
			return nil, &CartError{Line: i, Err: err}
		}
		if store == "" {
			return nil, &CartError{Line: i, Err: &ServerError{Code: engine.CodeBadRequest,
				Message: "a line without a store: give the cart's Store or the line's"}}
		}
		cmds[i] = engine.Command{Op: engine.OpReserve, SKU: []byte(l.SKU), Store: []byte(store),
			Customer: customer, Qty: units(l.Qty), Window: nanos(l.Window), TTL: req.TTL}
	}
	return cmds, nil
}

// chainRefusal returns the line of a chain that was refused and its code
// (the other lines say link_failed), or OK when every line is held.
func chainRefusal(results []engine.Result) (int, engine.Code) {
	failed := -1
	for j := range results {
		switch code := results[j].Code; {
		case code == engine.OK:
		case code == engine.CodeLinkFailed:
			if failed < 0 {
				failed = j
			}
		default:
			return j, code
		}
	}
	if failed >= 0 {
		return failed, engine.CodeLinkFailed
	}
	return 0, engine.OK
}
