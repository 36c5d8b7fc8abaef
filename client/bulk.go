package client

import (
	"context"
	"strconv"
	"sync"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Bulk puts (docs/adr/0121): a catalogue loads as put_items commands of up
// to protocol.MaxBulkItems items of one shard each, not one request an
// item. PutItems splits the items by shard (items are placed by store,
// docs/adr/0071) and sends the bulk puts of a call concurrently.

// bulkInFlightMax bounds the bulk puts one PutItems call has in flight:
// enough to keep every shard of a node busy (a bulk put is one log entry;
// a shard applies one entry at a time) while the memory a call holds stays
// a few MiB of frames.
const bulkInFlightMax = 16

// BulkError is a bulk put's refusal. The bulk put that held the item
// changed nothing; the others of the same PutItems call may have been
// applied (each is all or none, the call is not): putting the same items
// again is safe. errors.Is(err, ErrBelowPromised) and the like see the
// refusal's code.
type BulkError struct {
	Index      int    // the refused item's place in the call's list, from 0; -1: the bulk put as a whole
	SKU, Store string // the refused item
	Err        error  // the refusal
}

func (e *BulkError) Error() string {
	if e.Index < 0 {
		return "put_items: " + e.Err.Error()
	}
	return "put_items: item " + strconv.Itoa(e.Index) + " (" + e.SKU + " at " + e.Store + "): " + e.Err.Error()
}

func (e *BulkError) Unwrap() error { return e.Err }

// AsUpdate returns the update that puts every setting of spec, as PutItem
// does: for a bulk put of whole items.
func (spec ItemSpec) AsUpdate() ItemUpdate {
	return ItemUpdate{SKU: spec.SKU, Store: spec.Store, SetStock: true, Stock: spec.Stock,
		SetOpens: true, OpensAt: spec.OpensAt, SetCloses: true, ClosesAt: spec.ClosesAt,
		SetShare: true, MemberTier: spec.MemberTier, MemberUnits: spec.MemberUnits, MemberCutoff: spec.MemberCutoff}
}

// PutItems applies every update of items (each as UpdateItem would) in
// bulk puts, reason kept in every item's event, and returns how many items
// were put. An item that carries its own Reason or Key is refused before
// anything is sent: a bulk put's reason is the call's, and each bulk put
// gets its own key (its retries are answered once). The first refusal is
// returned as a *BulkError naming the item.
func (c *Client) PutItems(ctx context.Context, items []ItemUpdate, reason string) (int, error) {
	if err := checkReason(reason); err != nil {
		return 0, err
	}
	for i := range items {
		if err := checkBulkItem(&items[i]); err != nil {
			return 0, &BulkError{Index: i, SKU: items[i].SKU, Store: items[i].Store, Err: err}
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		put   int
		first error
		slots = make(chan struct{}, bulkInFlightMax)
	)
	for _, chunk := range c.bulkChunks(items) {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			n, err := c.putChunk(ctx, items, chunk, reason)
			mu.Lock()
			defer mu.Unlock()
			put += n
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return put, first
}

func checkBulkItem(u *ItemUpdate) error {
	if u.Reason != "" || u.Key != "" {
		return &ServerError{Code: engine.CodeBadRequest, Message: "a bulk put's reason and key are the call's, not an item's"}
	}
	return checkIDs(u.SKU, u.Store)
}

// bulkChunks splits the places of items into lists of one shard each, of
// at most protocol.MaxBulkItems, in the order of items within each. With
// the shard count unknown, every item is taken for one shard's (a node's
// engine refuses an item of another: BulkError).
func (c *Client) bulkChunks(items []ItemUpdate) [][]int {
	shards := c.route.Load().shards
	byShard := map[int][]int{}
	var order []int
	for i := range items {
		sh := 0
		if shards > 0 {
			sh = protocol.ShardOfStore(unsafeBytes(items[i].Store), shards)
		}
		if _, ok := byShard[sh]; !ok {
			order = append(order, sh)
		}
		byShard[sh] = append(byShard[sh], i)
	}
	var chunks [][]int
	for _, sh := range order {
		for all := byShard[sh]; len(all) > 0; {
			n := min(len(all), protocol.MaxBulkItems)
			chunks = append(chunks, all[:n])
			all = all[n:]
		}
	}
	return chunks
}

// putChunk sends one bulk put of the items at places chunk.
func (c *Client) putChunk(ctx context.Context, items []ItemUpdate, chunk []int, reason string) (int, error) {
	cmd := engine.Command{Op: engine.OpPutItems, Reason: []byte(reason), Items: make([]engine.ItemPut, len(chunk))}
	for k, i := range chunk {
		cmd.Items[k] = itemPutOf(&items[i])
	}
	r := request{kind: kindOp, cmd: cmd}
	if err := c.exec(ctx, &r); err != nil {
		return 0, &BulkError{Index: -1, Err: err}
	}
	if r.res.Code == engine.OK {
		return int(r.res.Qty), nil
	}
	err := &BulkError{Index: -1, Err: errorOf(r.res.Code)}
	if at := int(r.res.Qty) - 1; at >= 0 && at < len(chunk) {
		i := chunk[at]
		err.Index, err.SKU, err.Store = i, items[i].SKU, items[i].Store
	}
	return 0, err
}

// itemPutOf is the engine's form of u; its ids view u's strings, which
// the encoder only reads.
func itemPutOf(u *ItemUpdate) engine.ItemPut {
	p := engine.ItemPut{SKU: unsafeBytes(u.SKU), Store: unsafeBytes(u.Store)}
	if u.SetStock {
		p.Set |= engine.SetStock
		p.Stock = u.Stock
	}
	if u.SetOpens {
		p.Set |= engine.SetOpensAt
		p.OpensAt = nanos(u.OpensAt)
	}
	if u.SetCloses {
		p.Set |= engine.SetClosesAt
		p.ClosesAt = nanos(u.ClosesAt)
	}
	if u.SetShare {
		p.Set |= engine.SetMemberShare
		p.MemberTier, p.MemberUnits, p.MemberCutoff = u.MemberTier, u.MemberUnits, nanos(u.MemberCutoff)
	}
	return p
}
