package peers

// Redis: one Lua script per request (EVALSHA), pipelined per connection.
// Keys: i:{sku}:{store} = available units, w:{sku}:{store}:{win} = units used
// in a pickup window, c:{cust}:{sku} = units the customer holds/owns of the SKU,
// h:{id} = the hold, "H|sku|store|cust|win" (held, TTL) or "C|..." (confirmed).
// Scripts run atomically; with appendfsync always Redis fsyncs the AOF
// before it writes the replies of an event-loop iteration (group commit).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invsys/inv/bench"
)

// KEYS: item, customer, hold[, window]  ARGV: limit, ttl, hold value[, quota]
const luaReserve = `
local a = tonumber(redis.call('GET', KEYS[1]))
if a == nil then return 5 end
if a < 1 then return 1 end
if KEYS[4] and tonumber(redis.call('GET', KEYS[4]) or '0') >= tonumber(ARGV[4]) then return 2 end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[1]) then return 3 end
redis.call('DECR', KEYS[1])
redis.call('INCR', KEYS[2])
if KEYS[4] then redis.call('INCR', KEYS[4]) end
redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[2])
return 0`

// KEYS: hold
const luaConfirm = `
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 1) ~= 'H' then return 4 end
redis.call('SET', KEYS[1], 'C' .. string.sub(v, 2))
return 0`

// KEYS: hold, item, customer[, window]
const luaCancel = `
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 1) ~= 'H' then return 4 end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('DECR', KEYS[3])
if KEYS[4] then redis.call('DECR', KEYS[4]) end
return 0`

// RedisTarget is the Redis peer. It is also a bench.CPUMeter: Redis's own
// CPU seconds (INFO cpu, used_cpu_sys + used_cpu_user).
type RedisTarget struct {
	rdb  *redis.Client
	mode string // the appendfsync the server must run with
	sha  [3]string
	cat  *bench.Catalog
}

// NewRedis returns the Redis peer at addr, whose server must run with
// appendonly yes and appendfsync mode ("always" or "everysec"), with a
// pool of conns connections.
func NewRedis(addr, mode string, conns int) *RedisTarget {
	rdb := redis.NewClient(&redis.Options{
		Addr: addr, Protocol: 2, DisableIdentity: true,
		PoolSize: conns, MinIdleConns: conns, MaxRetries: -1,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, PoolTimeout: 30 * time.Second,
	})
	return &RedisTarget{rdb: rdb, mode: mode}
}

func itemKey(sku, store int32) string { return fmt.Sprintf("i:%d:%d", sku, store) }
func winKey(sku, store int32, win int8) string {
	return fmt.Sprintf("w:%d:%d:%d", sku, store, win)
}
func custKey(cust int64, sku int32) string { return fmt.Sprintf("c:%d:%d", cust, sku) }
func holdKey(id int64) string              { return "h:" + strconv.FormatInt(id, 10) }

// Load checks the server's durability settings against the peer's name,
// empties it (FLUSHALL), loads the scripts and sets every item's units.
func (p *RedisTarget) Load(ctx context.Context, cat *bench.Catalog) error {
	p.cat = cat
	got, err := p.rdb.ConfigGet(ctx, "appendfsync").Result()
	if err != nil {
		return err
	}
	if got["appendfsync"] != p.mode {
		return fmt.Errorf("server runs appendfsync=%q, peer name says %q", got["appendfsync"], p.mode)
	}
	if aof, _ := p.rdb.ConfigGet(ctx, "appendonly").Result(); aof["appendonly"] != "yes" {
		return fmt.Errorf("server runs appendonly=%q", aof["appendonly"])
	}
	if err := p.rdb.FlushAll(ctx).Err(); err != nil {
		return err
	}
	for i, s := range []string{luaReserve, luaConfirm, luaCancel} {
		if p.sha[i], err = p.rdb.ScriptLoad(ctx, s).Result(); err != nil {
			return err
		}
	}
	args := make([]any, 0, 2000)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		err := p.rdb.MSet(ctx, args...).Err()
		args = args[:0]
		return err
	}
	for sku := range int32(cat.SKUs) {
		for st := range int32(cat.Stores) {
			args = append(args, itemKey(sku, st), cat.StockUnits)
			if len(args) == cap(args) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// evalArgs returns the script, keys and arguments of one request.
func (p *RedisTarget) evalArgs(o *op) (sha string, keys []string, args []any) {
	item, hold := itemKey(o.sku, o.store), holdKey(o.id)
	switch o.kind {
	case bench.KindReserve:
		keys = []string{item, custKey(o.cust, o.sku), hold}
		args = []any{p.cat.LimitUnits, int64(p.cat.HoldTTL / time.Second), holdVal(o)}
		if o.win >= 0 {
			keys = append(keys, winKey(o.sku, o.store, o.win))
			args = append(args, p.cat.QuotaUnits)
		}
		return p.sha[0], keys, args
	case bench.KindConfirm:
		return p.sha[1], []string{hold}, nil
	default:
		keys = []string{hold, item, custKey(o.cust, o.sku)}
		if o.win >= 0 {
			keys = append(keys, winKey(o.sku, o.store, o.win))
		}
		return p.sha[2], keys, nil
	}
}

// Connect returns n connections, each pipelining its callers' requests.
func (p *RedisTarget) Connect(ctx context.Context, n int) ([]bench.Conn, error) {
	if err := p.rdb.Ping(ctx).Err(); err != nil {
		return nil, err
	}
	cs := make([]bench.Conn, n)
	for i := range cs {
		c := &redisConn{p: p, queue: make(chan *redisCall), done: make(chan struct{})}
		c.wg.Add(1)
		go c.loop()
		cs[i] = c
	}
	return cs, nil
}

// redisConn is one connection of the pool as the driver sees it: the
// requests its slots queue go out together, as one pipeline, while no
// pipeline of this connection is in flight. The queue is unbuffered, so a
// call the loop took is always answered, and one it did not take waits
// for the next pipeline.
type redisConn struct {
	p     *RedisTarget
	queue chan *redisCall
	done  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

type redisCall struct {
	ctx   context.Context
	op    op
	reply chan redisReply
}

type redisReply struct {
	code int64
	err  error
}

// maxPipeline bounds one pipeline: the slots of a connection (the driver's
// in-flight depth) fit in it.
const maxPipeline = 1024

var callPool = sync.Pool{New: func() any { return &redisCall{reply: make(chan redisReply, 1)} }}

var errConnClosed = errors.New("peers: connection closed")

func (c *redisConn) do(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	o, err := opOf(r)
	if err != nil {
		return bench.OutcomeError, err
	}
	call := callPool.Get().(*redisCall)
	call.ctx, call.op = ctx, o
	select {
	case c.queue <- call:
	case <-c.done:
		return bench.OutcomeError, errConnClosed
	case <-ctx.Done():
		return bench.OutcomeError, ctx.Err()
	}
	rep := <-call.reply // the loop always answers a call it took
	call.ctx = nil
	callPool.Put(call)
	if rep.err != nil {
		return bench.OutcomeError, rep.err
	}
	return codeOutcome(rep.code)
}

func (c *redisConn) loop() {
	defer c.wg.Done()
	batch := make([]*redisCall, 0, 64)
	cmds := make([]*redis.Cmd, 0, 64)
	for {
		select {
		case call := <-c.queue:
			batch = append(batch[:0], call)
		case <-c.done:
			return
		}
	more:
		for len(batch) < maxPipeline {
			select {
			case call := <-c.queue:
				batch = append(batch, call)
			default:
				break more
			}
		}
		cmds = cmds[:0]
		_, _ = c.p.rdb.Pipelined(batch[0].ctx, func(pipe redis.Pipeliner) error {
			for _, call := range batch {
				sha, keys, args := c.p.evalArgs(&call.op)
				cmds = append(cmds, pipe.EvalSha(call.ctx, sha, keys, args...))
			}
			return nil
		})
		for i, cmd := range cmds {
			v, err := cmd.Int64()
			batch[i].reply <- redisReply{code: v, err: err}
		}
	}
}

func (c *redisConn) Reserve(ctx context.Context, r *bench.Request) (bench.Outcome, uint64, error) {
	out, err := c.do(ctx, r)
	if out != bench.OutcomeOK || err != nil {
		return out, 0, err
	}
	return out, uint64(r.Order + 1), nil
}

func (c *redisConn) Confirm(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	return c.do(ctx, r)
}

func (c *redisConn) Cancel(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	return c.do(ctx, r)
}

// Close stops the connection's pipelining goroutine.
func (c *redisConn) Close() error {
	c.once.Do(func() { close(c.done) })
	c.wg.Wait()
	return nil
}

var _ io.Closer = (*redisConn)(nil)

// Dump reads every key (SCAN and MGET in pages of 5,000).
func (p *RedisTarget) Dump(ctx context.Context, cat *bench.Catalog, _ []uint64) (*bench.State, error) {
	kv := map[string]string{}
	for _, pattern := range []string{"h:*", "c:*", "w:*", "i:*"} {
		if err := p.scan(ctx, pattern, func(k, v string) { kv[k] = v }); err != nil {
			return nil, err
		}
	}
	s, err := redisSnapshot(kv)
	if err != nil {
		return nil, err
	}
	return s.state(cat), nil
}

// redisSnapshot reads the peer's keys and values.
func redisSnapshot(kv map[string]string) (*snapshot, error) {
	s := newSnapshot()
	for k, v := range kv {
		n, _ := strconv.ParseInt(v, 10, 64)
		var err error
		switch {
		case strings.HasPrefix(k, "h:"):
			id, _ := strconv.ParseInt(k[2:], 10, 64)
			var h hold
			if h, err = parseHold(id, v); err == nil {
				s.holds = append(s.holds, h)
			}
		case strings.HasPrefix(k, "c:"):
			var ck custNum
			_, err = fmt.Sscanf(k, "c:%d:%d", &ck.cust, &ck.sku)
			s.cust[ck] = n
		case strings.HasPrefix(k, "w:"):
			var wk winNum
			_, err = fmt.Sscanf(k, "w:%d:%d:%d", &wk.sku, &wk.store, &wk.win)
			s.winUsed[wk] = n
		case strings.HasPrefix(k, "i:"):
			var ik itemNum
			_, err = fmt.Sscanf(k, "i:%d:%d", &ik.sku, &ik.store)
			s.avail[ik] = n
		default:
			err = fmt.Errorf("unexpected key %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
	}
	return s, nil
}

// scan calls fn for every key matching pattern (bounded by the key count).
func (p *RedisTarget) scan(ctx context.Context, pattern string, fn func(k, v string)) error {
	var cursor uint64
	for range 100_000_000 {
		keys, next, err := p.rdb.Scan(ctx, cursor, pattern, 5000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			vals, err := p.rdb.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			for j, v := range vals {
				if s, ok := v.(string); ok {
					fn(keys[j], s)
				}
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
	return fmt.Errorf("scan %s: too many iterations", pattern)
}

// ServerCPUSeconds implements bench.CPUMeter: Redis's INFO cpu,
// used_cpu_sys + used_cpu_user.
func (p *RedisTarget) ServerCPUSeconds(ctx context.Context) (float64, error) {
	info, err := p.rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, err
	}
	return redisCPU(info)
}

// redisCPU sums used_cpu_sys and used_cpu_user of an INFO cpu reply.
func redisCPU(info string) (float64, error) {
	var sum float64
	found := 0
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "used_cpu_sys" && k != "used_cpu_user") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("INFO cpu %s: %w", k, err)
		}
		sum += f
		found++
	}
	if found != 2 {
		return 0, errors.New("INFO cpu lacks used_cpu_sys or used_cpu_user")
	}
	return sum, nil
}

// Close closes the client.
func (p *RedisTarget) Close() error { return p.rdb.Close() }
