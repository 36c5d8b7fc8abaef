package peers

// etcd: optimistic compare-and-swap transactions. Keys as in redis.go with
// "/" separators: i/{sku}/{store}, w/{sku}/{store}/{win}, c/{cust}/{sku},
// h/{id}. A reserve reads the item, customer (and window) counters, then
// commits one Txn: If(every read key's ModRevision unchanged) Then(write the
// new counters, put the hold under a lease of TTL 600 s) Else(read them
// again), and retries with the fresh values until it succeeds or is refused.
// Each connection holds one lease that its holds are attached to, rather
// than one lease per hold (which would double the writes).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/grpclog"

	"github.com/invsys/inv/bench"
)

// gRPC logs reconnect attempts as warnings; keep only its errors.
func init() { grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, os.Stderr)) }

// etcdMaxRetries bounds one request's CAS loop (the deadline bounds it too).
const etcdMaxRetries = 100_000

// EtcdTarget is the etcd peer.
type EtcdTarget struct {
	txns, conflicts atomic.Int64 // write Txns sent, and those whose compare failed
	ep              string
	cli             *clientv3.Client // load and dump
	mu              sync.Mutex
	cs              []*clientv3.Client
	cat             *bench.Catalog
}

func newEtcdClient(ep string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints: []string{ep}, DialTimeout: 10 * time.Second,
		MaxCallRecvMsgSize: 256 << 20, Logger: zap.NewNop(),
	})
}

// NewEtcd returns the etcd peer at the client address ep.
func NewEtcd(ep string) (*EtcdTarget, error) {
	cli, err := newEtcdClient(ep)
	if err != nil {
		return nil, err
	}
	return &EtcdTarget{ep: ep, cli: cli}, nil
}

func eItem(sku, store int32) string { return fmt.Sprintf("i/%d/%d", sku, store) }
func eWin(sku, store int32, win int8) string {
	return fmt.Sprintf("w/%d/%d/%d", sku, store, win)
}
func eCust(cust int64, sku int32) string { return fmt.Sprintf("c/%d/%d", cust, sku) }
func eHold(id int64) string              { return "h/" + strconv.FormatInt(id, 10) }

// Load deletes every key and puts every item's units, 128 puts per Txn
// (the server's default limit), 16 Txns at a time.
func (p *EtcdTarget) Load(ctx context.Context, cat *bench.Catalog) error {
	p.cat = cat
	if _, err := p.cli.Delete(ctx, "", clientv3.WithFromKey()); err != nil {
		return err
	}
	type batch []clientv3.Op
	ch := make(chan batch)
	errc := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				if _, err := p.cli.Txn(ctx).Then(b...).Commit(); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		}()
	}
	var b batch
	stock := strconv.FormatInt(cat.StockUnits, 10)
	for sku := range int32(cat.SKUs) {
		for st := range int32(cat.Stores) {
			b = append(b, clientv3.OpPut(eItem(sku, st), stock))
			if len(b) == 128 {
				ch <- b
				b = nil
			}
		}
	}
	if len(b) > 0 {
		ch <- b
	}
	close(ch)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

type etcdConn struct {
	p     *EtcdTarget
	cli   *clientv3.Client
	lease clientv3.LeaseID
}

// Connect makes n clients, each its own gRPC connection, each with one
// lease (TTL = hold TTL) that its holds are attached to. The driver runs
// its in-flight requests on each concurrently (gRPC multiplexes them).
func (p *EtcdTarget) Connect(ctx context.Context, n int) ([]bench.Conn, error) {
	cs := make([]bench.Conn, n)
	for i := range cs {
		cli, err := newEtcdClient(p.ep)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.cs = append(p.cs, cli)
		p.mu.Unlock()
		l, err := cli.Grant(ctx, int64(p.cat.HoldTTL/time.Second))
		if err != nil {
			return nil, err
		}
		cs[i] = &etcdConn{p: p, cli: cli, lease: l.ID}
	}
	return cs, nil
}

type cur struct {
	val int64
	rev int64 // ModRevision, 0 if absent
	ok  bool  // key exists
}

func parseRanges(resps []*pb.ResponseOp) []cur {
	out := make([]cur, len(resps))
	for i, r := range resps {
		if kvs := r.GetResponseRange().GetKvs(); len(kvs) > 0 {
			v, _ := strconv.ParseInt(string(kvs[0].Value), 10, 64)
			out[i] = cur{val: v, rev: kvs[0].ModRevision, ok: true}
		}
	}
	return out
}

var errRetries = errors.New("compare-and-swap retries exhausted")

func (c *etcdConn) do(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	o, err := opOf(r)
	if err != nil {
		return bench.OutcomeError, err
	}
	cat := c.p.cat
	item, cust, hold := eItem(o.sku, o.store), eCust(o.cust, o.sku), eHold(o.id)
	keys := []string{item, cust}
	if o.win >= 0 {
		keys = append(keys, eWin(o.sku, o.store, o.win))
	}
	if o.kind == bench.KindConfirm {
		h := holdVal(&o)
		r, err := c.cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(hold), "=", h)).
			Then(clientv3.OpPut(hold, "C"+h[1:])).Commit()
		switch {
		case err != nil:
			return bench.OutcomeError, err
		case !r.Succeeded:
			return bench.OutcomeNotFound, nil
		}
		return bench.OutcomeOK, nil
	}
	if o.kind == bench.KindCancel {
		keys = append(keys, hold)
	}
	gets := make([]clientv3.Op, len(keys))
	for i, k := range keys {
		gets[i] = clientv3.OpGet(k)
	}
	resp, err := c.cli.Txn(ctx).Then(gets...).Commit()
	for range etcdMaxRetries {
		if err != nil {
			return bench.OutcomeError, err
		}
		v := parseRanges(resp.Responses)
		cmps := make([]clientv3.Cmp, 0, len(keys))
		for i, k := range keys {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", v[i].rev))
		}
		var puts []clientv3.Op
		if o.kind == bench.KindReserve {
			switch {
			case !v[0].ok:
				return bench.OutcomeError, errUnknownItem
			case v[0].val < 1:
				return bench.OutcomeSoldOut, nil
			case o.win >= 0 && v[2].val >= cat.QuotaUnits:
				return bench.OutcomeWindowFull, nil
			case v[1].val >= cat.LimitUnits:
				return bench.OutcomeLimitExceeded, nil
			}
			puts = []clientv3.Op{
				clientv3.OpPut(item, strconv.FormatInt(v[0].val-1, 10)),
				clientv3.OpPut(cust, strconv.FormatInt(v[1].val+1, 10)),
				clientv3.OpPut(hold, holdVal(&o), clientv3.WithLease(c.lease)),
			}
			if o.win >= 0 {
				puts = append(puts, clientv3.OpPut(keys[2], strconv.FormatInt(v[2].val+1, 10)))
			}
		} else { // cancel: only a HELD hold
			hv := resp.Responses[len(keys)-1].GetResponseRange().GetKvs()
			if len(hv) == 0 || string(hv[0].Value) != holdVal(&o) {
				return bench.OutcomeNotFound, nil
			}
			puts = []clientv3.Op{
				clientv3.OpPut(item, strconv.FormatInt(v[0].val+1, 10)),
				clientv3.OpPut(cust, strconv.FormatInt(v[1].val-1, 10)),
				clientv3.OpDelete(hold),
			}
			if o.win >= 0 {
				puts = append(puts, clientv3.OpPut(keys[2], strconv.FormatInt(v[2].val-1, 10)))
			}
		}
		var tr *clientv3.TxnResponse
		tr, err = c.cli.Txn(ctx).If(cmps...).Then(puts...).Else(gets...).Commit()
		c.p.txns.Add(1)
		if err == nil && tr.Succeeded {
			return bench.OutcomeOK, nil
		}
		if err == nil {
			c.p.conflicts.Add(1)
			resp = tr
		}
	}
	return bench.OutcomeError, errRetries
}

func (c *etcdConn) Reserve(ctx context.Context, r *bench.Request) (bench.Outcome, uint64, error) {
	out, err := c.do(ctx, r)
	if out != bench.OutcomeOK || err != nil {
		return out, 0, err
	}
	return out, uint64(r.Order + 1), nil
}

func (c *etcdConn) Confirm(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	return c.do(ctx, r)
}

func (c *etcdConn) Cancel(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	return c.do(ctx, r)
}

// Dump reads every key in pages of 10,000.
func (p *EtcdTarget) Dump(ctx context.Context, cat *bench.Catalog, _ []uint64) (*bench.State, error) {
	s := newSnapshot()
	err := p.scan(ctx, func(k, v string) error {
		n, _ := strconv.ParseInt(v, 10, 64)
		var err error
		switch k[0] {
		case 'i':
			var ik itemNum
			_, err = fmt.Sscanf(k, "i/%d/%d", &ik.sku, &ik.store)
			s.avail[ik] = n
		case 'w':
			var wk winNum
			_, err = fmt.Sscanf(k, "w/%d/%d/%d", &wk.sku, &wk.store, &wk.win)
			s.winUsed[wk] = n
		case 'c':
			var ck custNum
			_, err = fmt.Sscanf(k, "c/%d/%d", &ck.cust, &ck.sku)
			s.cust[ck] = n
		case 'h':
			id, _ := strconv.ParseInt(k[2:], 10, 64)
			var h hold
			if h, err = parseHold(id, v); err == nil {
				s.holds = append(s.holds, h)
			}
		default:
			err = fmt.Errorf("unexpected key %q", k)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.state(cat), nil
}

// scan reads every key in pages of 10,000 (bounded by the page count).
func (p *EtcdTarget) scan(ctx context.Context, fn func(k, v string) error) error {
	key := "\x00"
	for range 100_000 {
		r, err := p.cli.Get(ctx, key, clientv3.WithFromKey(), clientv3.WithLimit(10_000))
		if err != nil {
			return err
		}
		for _, kv := range r.Kvs {
			if err := fn(string(kv.Key), string(kv.Value)); err != nil {
				return err
			}
		}
		if !r.More || len(r.Kvs) == 0 {
			return nil
		}
		key = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
	}
	return errors.New("scan: too many pages")
}

// Note says how many write transactions were sent and how many of them
// lost their compare to another client's write.
func (p *EtcdTarget) Note() string {
	return fmt.Sprintf("cas_txns=%d cas_conflicts=%d", p.txns.Load(), p.conflicts.Load())
}

// Close closes every client.
func (p *EtcdTarget) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.cs {
		c.Close()
	}
	p.cs = nil
	return p.cli.Close()
}
