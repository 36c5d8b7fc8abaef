package client

import (
	"context"
	"errors"
	"strconv"

	"github.com/invsys/inv/engine"
)

// ReserveMany reserves the lines of a cart (several SKUs, one store, one
// customer) all or nothing: it returns one Result per line, or a
// *CartError naming the line that was refused, with nothing held.
//
// Lines whose items live in one shard are sent as one linked chain, which
// the engine applies atomically. A cart whose items span shards cannot be
// one chain (the server refuses chains across shards), so the client holds
// each shard's lines as a chain and, if a later shard refuses, cancels the
// lines it already holds. In that case the refusal is final but, for a
// moment, other customers may have seen those units held.
//
// Every line carries a key derived from the cart's key (req.Key, or one
// made up), and so does every compensating cancel: repeating the call with
// the same Key after an ErrUnknownOutcome error finishes the same cart,
// never a second one. Holds the client could not release (the process
// died in between) expire with their TTL.
func (c *Client) ReserveMany(ctx context.Context, req CartRequest) ([]Result, error) {
	cmds, err := cartCommands(&req)
	if err != nil {
		return nil, err
	}
	if req.Key == "" {
		req.Key = c.NewKey()
	}
	for i := range cmds {
		cmds[i].Key = derivedKey(req.Key, "l", i)
	}
	groups := c.cartGroups(cmds)
	out := make([]Result, len(cmds))
	var held [][]int // the groups held so far, to release if a later one is refused
	for _, g := range groups {
		results, err := c.reserveChain(ctx, cmds, g)
		if err != nil {
			return nil, err
		}
		if line, code := chainRefusal(results); code != engine.OK {
			if err := c.releaseGroups(ctx, req.Key, out, held); err != nil {
				return nil, err
			}
			return nil, &CartError{Line: g[line], Err: errorOf(code)}
		}
		for j, i := range g {
			out[i] = resultOf(&results[j])
		}
		held = append(held, g)
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
	store, customer := []byte(req.Store), []byte(req.Customer)
	cmds := make([]engine.Command, len(req.Lines))
	for i, l := range req.Lines {
		if err := checkIDs(l.SKU); err != nil {
			return nil, &CartError{Line: i, Err: err}
		}
		cmds[i] = engine.Command{Op: engine.OpReserve, SKU: []byte(l.SKU), Store: store,
			Customer: customer, Qty: units(l.Qty), Window: nanos(l.Window), TTL: req.TTL}
	}
	return cmds, nil
}

// cartGroups splits a cart's lines by shard, in order of first appearance.
// Without a map the client can compute (no shard count, an unknown hash)
// the cart stays one chain and the server decides.
func (c *Client) cartGroups(cmds []engine.Command) [][]int {
	rt := c.route.Load()
	var groups [][]int
	shardOf := make(map[int]int) // shard -> index in groups
	for i := range cmds {
		s := rt.shardOf(&cmds[i])
		g, ok := shardOf[s]
		if !ok {
			g = len(groups)
			shardOf[s] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// reserveChain sends the lines g of cmds as one linked chain.
func (c *Client) reserveChain(ctx context.Context, cmds []engine.Command, g []int) ([]engine.Result, error) {
	chain := make([]engine.Command, len(g))
	for j, i := range g {
		chain[j] = cmds[i]
		chain[j].Linked = j < len(g)-1
	}
	r := request{kind: kindCart, cmds: chain}
	if err := c.exec(ctx, &r); err != nil {
		return nil, err
	}
	if len(r.results) != len(chain) {
		return nil, errMissing("cart lines")
	}
	return r.results, nil
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

// releaseGroups cancels the lines of the groups already held. A line that
// is already gone (expired, cancelled) needs nothing more.
func (c *Client) releaseGroups(ctx context.Context, key string, out []Result, held [][]int) error {
	for _, g := range held {
		for _, i := range g {
			_, err := c.Cancel(ctx, CancelRequest{ID: out[i].ID, Key: string(derivedKey(key, "x", i))})
			if err != nil && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrWrongState) {
				return err
			}
		}
	}
	return nil
}
