package peers

// PostgreSQL: one transaction per request. A reserve is one call of the
// PL/pgSQL function reserve() (one round trip, one transaction): it takes a
// unit of window quota (UPDATE ... WHERE used < quota), a unit of stock
// (UPDATE items SET avail = avail - 1 WHERE ... AND avail >= 1), the
// customer's limit (INSERT ... ON CONFLICT DO UPDATE ... WHERE n < limit) and
// inserts the hold; a refusal undoes what it took and returns a code.
// Confirm is one UPDATE; cancel is cancel_hold(). synchronous_commit = on, so a
// reply comes after the commit record is fsync'd. Row locks on the item
// serialize reserves of one item until commit.

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invsys/inv/bench"
)

const pgSchema = `
DROP TABLE IF EXISTS items, windows, cust_limits, holds CASCADE;
CREATE TABLE items (sku int, store int, stock int NOT NULL, avail int NOT NULL,
  PRIMARY KEY (sku, store));
CREATE TABLE windows (sku int, store int, win smallint, quota int NOT NULL, used int NOT NULL,
  PRIMARY KEY (sku, store, win));
CREATE TABLE cust_limits (cust bigint, sku int, n int NOT NULL, PRIMARY KEY (cust, sku));
CREATE TABLE holds (id bigint PRIMARY KEY, sku int NOT NULL, store int NOT NULL,
  cust bigint NOT NULL, win smallint NOT NULL,
  state smallint NOT NULL, -- 0 held, 1 confirmed, 2 cancelled
  expires_at timestamptz);

-- 0 ok, 1 sold out, 2 window full, 3 limit exceeded
CREATE OR REPLACE FUNCTION reserve(p_id bigint, p_sku int, p_store int, p_cust bigint,
    p_win smallint, p_limit int, p_ttl int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF p_win >= 0 THEN
    UPDATE windows SET used = used + 1
      WHERE sku = p_sku AND store = p_store AND win = p_win AND used < quota;
    IF NOT FOUND THEN RETURN 2; END IF;
  END IF;
  UPDATE items SET avail = avail - 1 WHERE sku = p_sku AND store = p_store AND avail >= 1;
  IF NOT FOUND THEN
    IF p_win >= 0 THEN
      UPDATE windows SET used = used - 1 WHERE sku = p_sku AND store = p_store AND win = p_win;
    END IF;
    RETURN 1;
  END IF;
  INSERT INTO cust_limits AS c (cust, sku, n) VALUES (p_cust, p_sku, 1)
    ON CONFLICT (cust, sku) DO UPDATE SET n = c.n + 1 WHERE c.n < p_limit;
  IF NOT FOUND THEN
    UPDATE items SET avail = avail + 1 WHERE sku = p_sku AND store = p_store;
    IF p_win >= 0 THEN
      UPDATE windows SET used = used - 1 WHERE sku = p_sku AND store = p_store AND win = p_win;
    END IF;
    RETURN 3;
  END IF;
  INSERT INTO holds VALUES (p_id, p_sku, p_store, p_cust, p_win, 0, now() + make_interval(secs => p_ttl));
  RETURN 0;
END $$;

-- 0 ok, 4 not held
CREATE OR REPLACE FUNCTION cancel_hold(p_id bigint) RETURNS int LANGUAGE plpgsql AS $$
DECLARE h holds%ROWTYPE;
BEGIN
  UPDATE holds SET state = 2 WHERE id = p_id AND state = 0 RETURNING * INTO h;
  IF NOT FOUND THEN RETURN 4; END IF;
  IF h.win >= 0 THEN
    UPDATE windows SET used = used - 1 WHERE sku = h.sku AND store = h.store AND win = h.win;
  END IF;
  UPDATE items SET avail = avail + 1 WHERE sku = h.sku AND store = h.store;
  UPDATE cust_limits SET n = n - 1 WHERE cust = h.cust AND sku = h.sku;
  RETURN 0;
END $$;
`

// PGTarget is the PostgreSQL peer: user postgres, database postgres, trust
// authentication on loopback (as bench/peers.sh sets the server up).
type PGTarget struct {
	pool *pgxpool.Pool
	cat  *bench.Catalog
}

// NewPG returns the PostgreSQL peer at addr with a pool of conns
// connections.
func NewPG(ctx context.Context, addr string, conns int) (*PGTarget, error) {
	cfg, err := pgxpool.ParseConfig(fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable&connect_timeout=10", addr))
	if err != nil {
		return nil, err
	}
	cfg.MaxConns, cfg.MinConns = int32(conns), int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &PGTarget{pool: pool}, nil
}

// Load checks fsync and synchronous_commit, recreates the tables and
// functions, and inserts every item and window.
func (p *PGTarget) Load(ctx context.Context, cat *bench.Catalog) error {
	p.cat = cat
	var sc, fs string
	if err := p.pool.QueryRow(ctx, "SELECT current_setting('synchronous_commit'), current_setting('fsync')").Scan(&sc, &fs); err != nil {
		return err
	}
	if sc != "on" || fs != "on" {
		return fmt.Errorf("server runs synchronous_commit=%s fsync=%s, want on/on", sc, fs)
	}
	stmts := []string{pgSchema,
		fmt.Sprintf(`INSERT INTO items SELECT s, t, %d, %d FROM generate_series(0, %d) s, generate_series(0, %d) t`,
			cat.StockUnits, cat.StockUnits, cat.SKUs-1, cat.Stores-1),
	}
	if cat.Windows > 0 {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO windows SELECT s, t, v, %d, 0
			FROM generate_series(0, %d) s, generate_series(0, %d) t, generate_series(0, %d) v`,
			cat.QuotaUnits, cat.SKUs-1, cat.Stores-1, cat.Windows-1))
	}
	stmts = append(stmts, "VACUUM ANALYZE", "CHECKPOINT")
	for _, s := range stmts {
		if _, err := p.pool.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

type pgConn struct{ p *PGTarget }

// Connect returns n handles on the one pool of the target's connections;
// the driver runs its in-flight requests on each, so conns x inflight
// requests queue for the pool's connections (a PostgreSQL connection runs
// one transaction at a time; the wait is part of the latency).
func (p *PGTarget) Connect(ctx context.Context, n int) ([]bench.Conn, error) {
	cs := make([]bench.Conn, n)
	for i := range cs {
		cs[i] = pgConn{p}
	}
	return cs, p.pool.Ping(ctx)
}

func (c pgConn) do(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	o, err := opOf(r)
	if err != nil {
		return bench.OutcomeError, err
	}
	p := c.p
	switch o.kind {
	case bench.KindReserve:
		var code int64
		err := p.pool.QueryRow(ctx, "SELECT reserve($1, $2, $3, $4, $5, $6, $7)",
			o.id, o.sku, o.store, o.cust, int16(o.win), p.cat.LimitUnits, int64(p.cat.HoldTTL/time.Second)).Scan(&code)
		if err != nil {
			return bench.OutcomeError, err
		}
		return codeOutcome(code)
	case bench.KindConfirm:
		tag, err := p.pool.Exec(ctx, "UPDATE holds SET state = 1 WHERE id = $1 AND state = 0", o.id)
		switch {
		case err != nil:
			return bench.OutcomeError, err
		case tag.RowsAffected() == 0:
			return bench.OutcomeNotFound, nil
		}
		return bench.OutcomeOK, nil
	default:
		var code int64
		if err := p.pool.QueryRow(ctx, "SELECT cancel_hold($1)", o.id).Scan(&code); err != nil {
			return bench.OutcomeError, err
		}
		return codeOutcome(code)
	}
}

func (c pgConn) Reserve(ctx context.Context, r *bench.Request) (bench.Outcome, uint64, error) {
	out, err := c.do(ctx, r)
	if out != bench.OutcomeOK || err != nil {
		return out, 0, err
	}
	return out, uint64(r.Order + 1), nil
}

func (c pgConn) Confirm(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	return c.do(ctx, r)
}

func (c pgConn) Cancel(ctx context.Context, r *bench.Request) (bench.Outcome, error) {
	return c.do(ctx, r)
}

// Dump reads the four tables: items, windows, customer counters, and the
// holds held or confirmed.
func (p *PGTarget) Dump(ctx context.Context, cat *bench.Catalog, _ []uint64) (*bench.State, error) {
	s := newSnapshot()
	s.stock, s.quota = map[itemNum]int64{}, map[winNum]int64{}
	var ik itemNum
	var wk winNum
	var ck custNum
	var h hold
	var n, m int64
	var st int16
	for _, q := range []struct {
		sql  string
		dest []any
		f    func()
	}{
		{"SELECT sku, store, stock, avail FROM items", []any{&ik.sku, &ik.store, &m, &n},
			func() { s.stock[ik], s.avail[ik] = m, n }},
		{"SELECT sku, store, win, quota, used FROM windows", []any{&wk.sku, &wk.store, &wk.win, &m, &n},
			func() { s.quota[wk], s.winUsed[wk] = m, n }},
		{"SELECT cust, sku, n FROM cust_limits", []any{&ck.cust, &ck.sku, &n}, func() { s.cust[ck] = n }},
		{"SELECT id, cust, sku, store, win, state FROM holds WHERE state IN (0, 1)",
			[]any{&h.id, &h.cust, &h.sku, &h.store, &h.win, &st},
			func() { h.confirmed = st == 1; s.holds = append(s.holds, h) }},
	} {
		rows, err := p.pool.Query(ctx, q.sql)
		if err != nil {
			return nil, err
		}
		_, err = pgx.ForEachRow(rows, q.dest, func() error { q.f(); return nil })
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.sql, err)
		}
	}
	return s.state(cat), nil
}

// Close closes the pool.
func (p *PGTarget) Close() error {
	p.pool.Close()
	return nil
}
