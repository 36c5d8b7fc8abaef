// Table cases of the claims on a customer's home (claim.go) and of the
// outbox's receiving side (outbox.go), run by TestEngineTable with the
// others and counted by TestEngineTableCoverage; the item shard's side is
// in table_holds_test.go.
//
// What they prove: a claim is answered once and every later claim with its
// key gets that answer (accepted, or refused limit_exceeded, blocked or
// expired, kept though units come free, aged out with the retention); it
// counts with the customer's own holds in its home; it is anchored,
// released and read as documented, and the home's sweep finds the pending
// ones past a time in a fixed order; a delivered outbox message applies
// once and in order per sending shard, a duplicate changes nothing and a
// gap is refused out_of_order.
package engine

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tbShards is the cluster size of the claim cases: the table's engine is
// shard tbShard of it.
const tbShards = 4

// tbItemShard is the item shard the home's claims name.
const tbItemShard = 1

// tbFar is a customer whose home is another shard; tbNear and tbNear2 are
// customers whose home is the table's shard.
var (
	tbFar   = tbCustomerIn(false, 0)
	tbNear  = tbCustomerIn(true, 0)
	tbNear2 = tbCustomerIn(true, 1)
	tbHome  = uint16(CustomerShard([]byte(tbFar), tbShards)) // tbFar's home
)

func tbCustomerIn(home bool, skip int) string {
	for i := 0; ; i++ {
		c := fmt.Sprintf("cust-%d", i)
		if (CustomerShard([]byte(c), tbShards) == tbShard) == home {
			if skip == 0 {
				return c
			}
			skip--
		}
	}
}

func tbClaimCfg(c *Config) { c.Shards = tbShards }

// claim asks for qty units of cust's limit for sku under key, with the
// deadline at the offset dl.
func (o tbOps) claim(cust, sku string, qty, limit int64, key, dl string) tbStep {
	return o.cmd(Command{Op: OpClaim, Customer: []byte(cust), SKU: []byte(sku), Qty: qty, Limit: limit,
		Claim: []byte(key), ItemShard: tbItemShard, Deadline: tbAbs(dl)})
}
func (o tbOps) releaseClaim(key string) tbStep {
	return o.cmd(Command{Op: OpReleaseClaim, Claim: []byte(key)})
}
func (o tbOps) anchor(key string) tbStep {
	return o.cmd(Command{Op: OpAnchorClaim, Claim: []byte(key)})
}
func (o tbOps) getClaim(key string) tbStep {
	return o.cmd(Command{Op: OpGetClaim, Claim: []byte(key)})
}

// msg is a delivered release_claim message.
func (o tbOps) msg(key string, from uint16, seq uint64) tbStep {
	return o.cmd(Command{Op: OpReleaseClaim, Claim: []byte(key), FromShard: from, Seq: seq})
}

// tbReleasedBy is a release of key by its hold's end, as the outbox and
// the home's sweep send it: with the customer, without a deadline.
func tbReleasedBy(key, cust string) tbStep {
	return do.releaseClaim(key).withCmd(func(c *Command) { c.Customer = []byte(cust) })
}

func (s tbStep) itemShard(n uint16) tbStep { s.cmd.ItemShard = n; return s }
func (s tbStep) dl(off string) tbStep      { s.cmd.Deadline = tbAbs(off); return s }

// tbFmtClaim renders a claim's answer: "accepted qty=2 pending until=5s",
// "accepted qty=2" (anchored, or released by its hold's end),
// "refused limit_exceeded qty=1".
func tbFmtClaim(r Result) string {
	if r.Code != OK {
		if r.Qty != 0 {
			return fmt.Sprintf("refused %v qty=%d", r.Code, r.Qty)
		}
		return "refused " + r.Code.String()
	}
	if r.ExpiresAt != 0 {
		return fmt.Sprintf("accepted qty=%d pending until=%s", r.Qty, tbAt(r.ExpiresAt))
	}
	return fmt.Sprintf("accepted qty=%d", r.Qty)
}

func (s tbStep) claimIs(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string { return tbDiff("claim", tbFmtClaim(r), want) })
}

func (s tbStep) qtyIs(n int64) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Qty != n {
			return fmt.Sprintf("qty %d, want %d", r.Qty, n)
		}
		return ""
	})
}

// claimsDue checks Engine.ClaimsDue(until, max): the keys in order.
func (s tbStep) claimsDue(until string, max int, want string) tbStep {
	return s.chk(func(e *Engine, _ Result) string {
		var got []string
		for _, c := range e.ClaimsDue(tbAbs(until), max) {
			if c.ItemShard != tbItemShard || c.Qty <= 0 {
				return fmt.Sprintf("due claim %+v", c)
			}
			got = append(got, c.Key)
		}
		return tbDiff("claims due", strings.Join(got, " "), want)
	})
}

// marks checks the inbox marks of shards 0..3: "0 1 2 0".
func (s tbStep) marks(want string) tbStep {
	return s.chk(func(e *Engine, _ Result) string {
		var got []string
		for i := uint16(0); i < tbShards; i++ {
			got = append(got, fmt.Sprint(e.InboxMark(i)))
		}
		return tbDiff("inbox marks", strings.Join(got, " "), want)
	})
}

func tbClaimTable() []tbCase {
	return append(append(append(tbHomeCases(), tbMessageCases()...), tbHoldCases()...), tbWaitClaimCases()...)
}

func tbHomeCases() []tbCase {
	R := do.reserve
	near, near2, far := tbNear, tbNear2, tbFar
	c := func(name string, steps ...tbStep) tbCase { return tcc(name, tbClaimCfg, steps...) }
	return []tbCase{
		c("claim: counts against the limit, pending until its deadline",
			do.claim(near, "L", 2, 2, "k1", "5s").claimIs("accepted qty=2 pending until=5s").events("claimed L/ "+near+" qty=2").due("none"),
			do.claim(near, "L", 1, 2, "k2", "5s").is(CodeLimitExceeded).claimIs("refused limit_exceeded qty=1").events(),
			do.getClaim("k1").claimIs("accepted qty=2 pending until=5s")),
		c("claim: the customer's own holds in its home count", R("L", "S1", near, 1),
			do.claim(near, "L", 2, 2, "k1", "5s").is(CodeLimitExceeded),
			do.claim(near, "L", 1, 2, "k2", "5s").claimIs("accepted qty=1 pending until=5s")),
		c("reserve: accepted claims count in the customer's home", do.claim(near, "L", 2, 2, "k1", "5s"),
			R("L", "S1", near, 1).is(CodeLimitExceeded), do.releaseClaim("k1"), R("L", "S1", near, 2).res("held id=1 qty=2 expires=10m")),
		c("claim: other SKUs and customers are apart", do.claim(near, "L", 2, 2, "k1", "5s"),
			do.claim(near, "X", 2, 2, "k2", "5s").claimIs("accepted qty=2 pending until=5s"),
			do.claim(near2, "L", 2, 2, "k3", "5s").claimIs("accepted qty=2 pending until=5s")),
		c("claim: a retry with the same key gets the first answer and counts once", do.claim(near, "L", 1, 2, "k1", "5s"),
			do.claim(near, "L", 1, 2, "k1", "5s").at("1s").claimIs("accepted qty=1 pending until=5s").events(),
			do.claim(near, "L", 1, 2, "k2", "6s").claimIs("accepted qty=1 pending until=6s"),
			do.claim(near, "L", 1, 2, "k3", "6s").is(CodeLimitExceeded)),
		c("claim: a retry with a later deadline moves the sweep's, never earlier", do.claim(near, "L", 1, 2, "k1", "5s"),
			do.claim(near, "L", 1, 2, "k1", "1m5s").at("1m").claimIs("accepted qty=1 pending until=1m5s").events().claimsDue("1m", 10, ""),
			do.claim(near, "L", 1, 2, "k1", "1m3s").claimIs("accepted qty=1 pending until=1m5s").claimsDue("1m5s", 10, "k1"),
			do.anchor("k1"), do.claim(near, "L", 1, 2, "k1", "1m9s").claimIs("accepted qty=1")),
		c("claim: a refusal stands after the deadline", do.claim(near, "L", 3, 2, "k1", "5s").is(CodeLimitExceeded),
			do.claim(near, "L", 3, 2, "k1", "1m5s").at("1m").is(CodeLimitExceeded).claimIs("refused limit_exceeded qty=3")),
		c("claim: a refusal is kept for its key though units come free", do.claim(near, "L", 2, 2, "k1", "5s"),
			do.claim(near, "L", 1, 2, "k2", "5s").is(CodeLimitExceeded), do.releaseClaim("k1"),
			do.claim(near, "L", 1, 2, "k2", "5s").is(CodeLimitExceeded).claimIs("refused limit_exceeded qty=1").events(),
			do.claim(near, "L", 1, 2, "k3", "5s").claimIs("accepted qty=1 pending until=5s")),
		c("claim: the same key for another claim", do.claim(near, "L", 1, 2, "k1", "5s"),
			do.claim(near, "L", 2, 2, "k1", "5s").is(CodeKeyConflict), do.claim(near2, "L", 1, 2, "k1", "5s").is(CodeKeyConflict),
			do.claim(near, "A", 1, 2, "k1", "5s").is(CodeKeyConflict), do.claim(near, "L", 1, 2, "k1", "5s").itemShard(2).is(CodeKeyConflict),
			do.claim(near, "L", 1, 9, "k1", "5s").claimIs("accepted qty=1 pending until=5s")), // the limit is not the claim's
		c("claim: a blocked customer, refused for the key", do.block(near), do.claim(near, "L", 1, 2, "k1", "5s").is(CodeBlocked),
			do.unblock(near), do.claim(near, "L", 1, 2, "k1", "5s").is(CodeBlocked), do.claim(near, "L", 1, 2, "k2", "5s").claimIs("accepted qty=1 pending until=5s")),
		c("claim: past its deadline, refused expired for the key", do.claim(near, "L", 1, 2, "k1", "0").is(CodeExpired).claimIs("refused expired qty=1"),
			do.claim(near, "L", 1, 2, "k2", "5s").at("5s").is(CodeExpired), do.claim(near, "L", 1, 2, "k2", "10s").at("6s").is(CodeExpired),
			do.claim(near, "L", 2, 2, "k3", "10s").claimIs("accepted qty=2 pending until=10s")),
		c("claim: bad requests", do.claim(near, "L", 1, 2, "", "5s").is(CodeBadRequest), do.claim(near, "L", 0, 2, "k", "5s").is(CodeBadRequest),
			do.claim(near, "L", 1, 0, "k", "5s").is(CodeBadRequest), do.claim(near, "L", 1, 2, "k", "none").is(CodeBadRequest),
			do.claim(near, "L", 1, 2, "k", "1m1ns").is(CodeBadRequest), do.claim(near, "L", 1, 2, "k", "5s").itemShard(tbShard).is(CodeBadRequest),
			do.claim(near, "L", 1, 2, "k", "5s").itemShard(tbShards).is(CodeBadRequest), do.claim(far, "L", 1, 2, "k", "5s").is(CodeBadRequest),
			do.claim("", "L", 1, 2, "k", "5s").is(CodeBadRequest), do.claim(near, "", 1, 2, "k", "5s").is(CodeBadRequest),
			do.claim(near, "L", 1, 2, "k", "1m").claimIs("accepted qty=1 pending until=1m")),
		tc("claim: a single shard takes none", do.claim(near, "L", 1, 2, "k", "5s").is(CodeBadRequest)),
		tcc("claim: refusals age out with the idempotency retention", func(c *Config) { tbClaimCfg(c); c.IdempotencyRetention = time.Hour },
			do.claim(near, "L", 2, 2, "k1", "5s"), do.claim(near, "L", 1, 2, "k2", "5s").is(CodeLimitExceeded), do.releaseClaim("k1"),
			do.claim(near, "L", 1, 2, "k2", "59m5s").at("59m59s").is(CodeLimitExceeded),
			do.getClaim("k2").at("1h").is(CodeNotFound), do.claim(near, "L", 1, 2, "k2", "1h5s").claimIs("accepted qty=1 pending until=1h5s")),

		c("release_claim: frees the units; the key still answers accepted", do.claim(near, "L", 2, 2, "k1", "5s"),
			do.releaseClaim("k1").res("ok").qtyIs(2).events("claim_ended L/ "+near+" qty=2"), do.getClaim("k1").claimIs("accepted qty=2"),
			do.claim(near, "L", 2, 2, "k1", "6s").claimIs("accepted qty=2").events(), do.releaseClaim("k1").qtyIs(0).events(),
			do.anchor("k1").is(CodeWrongState), do.claim(near, "L", 2, 2, "k2", "5s").claimIs("accepted qty=2 pending until=5s")),
		tcc("release_claim: a released claim's answer ages out with the retentions", func(c *Config) {
			tbClaimCfg(c)
			c.IdempotencyRetention, c.FinishedRetention = 2*time.Hour, time.Hour
		}, do.claim(near, "L", 2, 2, "k1", "5s"), do.releaseClaim("k1").at("1m"), do.getClaim("k1").at("1h59s").claimIs("accepted qty=2"),
			do.getClaim("k1").at("1h1m").is(CodeNotFound)),
		c("release_claim: an unknown key is done", do.releaseClaim("nope").res("ok").qtyIs(0).events()),
		c("release_claim: a key its hold's end released before its claim came counts nothing when the claim comes",
			tbReleasedBy("k1", near).res("ok").qtyIs(0).events(),
			do.claim(near, "L", 2, 2, "k1", "5s").claimIs("accepted qty=2").events(), do.getClaim("k1").claimIs("accepted qty=2"),
			do.anchor("k1").is(CodeWrongState), do.claim(near, "L", 2, 2, "k1", "6s").claimIs("accepted qty=2"),
			do.claim(near, "L", 1, 2, "k1", "6s").is(CodeKeyConflict), do.claim(near2, "L", 1, 2, "k1", "6s").is(CodeKeyConflict),
			do.claim(near, "L", 2, 2, "k2", "5s").claimIs("accepted qty=2 pending until=5s").events("claimed L/ "+near+" qty=2"),
			tbReleasedBy("k3", near2), do.claim(near, "L", 1, 2, "k3", "5s").is(CodeKeyConflict)),
		c("release_claim: a refused key is done and stays refused", do.claim(near, "L", 2, 2, "k1", "5s"),
			do.claim(near, "L", 1, 2, "k2", "5s").is(CodeLimitExceeded), do.releaseClaim("k2").qtyIs(0).events(),
			do.getClaim("k2").is(CodeLimitExceeded), do.claim(near, "L", 1, 2, "k3", "5s").is(CodeLimitExceeded)),
		c("release_claim: no key", do.releaseClaim("").is(CodeBadRequest), do.releaseClaim("k").withCmd(func(c *Command) { c.Deadline = -1 }).is(CodeBadRequest)),
		c("release_claim: with a deadline, only the pending claim judged at it", do.claim(near, "L", 1, 2, "k1", "5s"),
			do.claim(near, "L", 1, 2, "k2", "5s"), do.anchor("k2"),
			do.releaseClaim("k1").dl("4s").qtyIs(0).events(), do.releaseClaim("k2").dl("5s").qtyIs(0).events(),
			do.getClaim("k1").claimIs("accepted qty=1 pending until=5s"), do.getClaim("k2").claimIs("accepted qty=1"),
			do.releaseClaim("k1").dl("5s").qtyIs(1).events("claim_ended L/ "+near+" qty=1"), do.getClaim("k1").is(CodeNotFound),
			do.releaseClaim("k2").qtyIs(1)),

		c("anchor_claim: a pending claim counts until released", do.claim(near, "L", 2, 2, "k1", "5s"),
			do.anchor("k1").claimIs("accepted qty=2").events("claim_anchored L/ "+near+" qty=2"),
			do.anchor("k1").at("1m").claimIs("accepted qty=2").events().claimsDue("1m", 10, ""),
			do.claim(near, "L", 1, 2, "k2", "1m5s").is(CodeLimitExceeded), do.releaseClaim("k1").qtyIs(2)),
		c("anchor_claim: unknown, refused, no key", do.anchor("nope").is(CodeNotFound), do.claim(near, "L", 2, 2, "k1", "5s"),
			do.claim(near, "L", 1, 2, "k2", "5s").is(CodeLimitExceeded), do.anchor("k2").is(CodeWrongState), do.anchor("").is(CodeBadRequest)),

		c("get_claim: pending, anchored, refused, unknown", do.claim(near, "L", 1, 2, "k1", "5s"), do.claim(near, "L", 1, 2, "k2", "5s"),
			do.claim(near, "L", 1, 2, "k3", "5s").is(CodeLimitExceeded), do.anchor("k2"),
			do.getClaim("k1").claimIs("accepted qty=1 pending until=5s"), do.getClaim("k2").claimIs("accepted qty=1"),
			do.getClaim("k3").is(CodeLimitExceeded).claimIs("refused limit_exceeded qty=1"), do.getClaim("k4").is(CodeNotFound),
			do.getClaim("").is(CodeBadRequest)),
		c("claims due: pending ones past a time, by deadline then key, at most max",
			do.claim(near, "L", 1, 9, "kb", "10s"), do.claim(near, "L", 1, 9, "ka", "10s"), do.claim(near, "L", 1, 9, "kc", "3s"),
			do.claim(near, "X", 1, 9, "kd", "20s").claimsDue("10s", 10, "kc ka kb").claimsDue("10s", 2, "kc ka").claimsDue("2s", 10, ""),
			do.anchor("ka").claimsDue("1m", 10, "kc kb kd"), do.releaseClaim("kc").at("30s").claimsDue("1m", 10, "kb kd")),
	}
}

func tbMessageCases() []tbCase {
	near := tbNear
	c := func(name string, steps ...tbStep) tbCase { return tcc(name, tbClaimCfg, steps...) }
	return []tbCase{
		c("release_claim message: applied once and in order per sending shard", do.claim(near, "L", 2, 2, "k1", "5s"),
			do.msg("k1", 1, 1).res("ok").qtyIs(2).events("claim_ended L/ "+near+" qty=2").marks("0 1 0 0"),
			do.claim(near, "L", 2, 2, "k2", "5s").claimIs("accepted qty=2 pending until=5s"),
			do.msg("k2", 1, 1).res("ok").qtyIs(0).events().marks("0 1 0 0"), do.getClaim("k2").claimIs("accepted qty=2 pending until=5s"),
			do.msg("k2", 1, 3).is(CodeOutOfOrder).events().marks("0 1 0 0"),
			do.msg("k2", 2, 1).qtyIs(2).marks("0 1 1 0"), do.msg("k9", 1, 2).qtyIs(0).marks("0 2 1 0")),
		c("release_claim message: a malformed one still takes its number", do.msg("", 1, 1).is(CodeBadRequest).marks("0 1 0 0"),
			do.msg("k1", 1, 1).res("ok"), do.msg("k1", 1, 2).res("ok").marks("0 2 0 0")),
		c("messages: only message kinds, from another shard", do.anchor("k1").withCmd(func(c *Command) { c.FromShard, c.Seq = 1, 1 }).is(CodeBadRequest),
			do.msg("k1", tbShard, 1).is(CodeBadRequest), do.msg("k1", tbShards, 1).is(CodeBadRequest), do.expire().marks("0 0 0 0")),
		tc("messages: a single shard receives none", do.msg("k1", 1, 1).is(CodeBadRequest)),
		c("retired ops are refused", do.cmd(Command{Op: OpSettleClaim, Claim: []byte("k")}).is(CodeBadRequest),
			do.cmd(Command{Op: OpExtendClaim, Claim: []byte("k"), TTL: time.Minute}).is(CodeBadRequest),
			do.cmd(Command{Op: OpClaimReleased, ID: id(1)}).is(CodeBadRequest)),
		c("claims, holds and the outbox survive a snapshot", do.claim(near, "L", 1, 2, "k1", "5s"), do.claim(near, "L", 1, 2, "k2", "5s"),
			do.claim(near, "L", 1, 2, "k3", "5s").is(CodeLimitExceeded), do.anchor("k2"), do.msg("k9", 2, 1),
			do.reserve("L", "S1", tbFar, 1).key("r1").claimed("h1", "5s"), do.reserve("L", "S1", tbFar, 1).claimed("h2", "6s"),
			do.resolve("h2", OK), do.reserve("L", "S2", tbFar, 1).claimed("h3", "5s"), do.cancel(3),
			do.reserve("L", "S2", tbFar, 1).claimed("h4", "5s"), do.resolve("h4", CodeLimitExceeded),
			tbReleasedBy("k8", near), tbReleasedBy("k7", near), do.claim(near, "L", 1, 2, "k7", "5s"),
			do.expire().chk(tbSnapshotRoundTrip)),
	}
}

// tbSnapshotRoundTrip restores a snapshot of the engine and compares the
// restored engine's snapshot and cross-shard reads with the original's.
func tbSnapshotRoundTrip(e *Engine, _ Result) string {
	a := tbSnapBytes(e)
	r, err := Restore(e.Config(), bytes.NewReader(a))
	if err != nil {
		return "restore: " + err.Error()
	}
	if b := tbSnapBytes(r); string(a) != string(b) {
		return "the restored engine's snapshot differs"
	}
	reads := func(x *Engine) string {
		return fmt.Sprint(x.OutboxPending(), x.Outbox(tbHome, 10), x.ClaimsDue(1<<62, 10), x.ProvisionalDue(1<<62, 10),
			x.InboxMark(2), x.NextDue())
	}
	if reads(r) != reads(e) {
		return "the restored engine's claims differ:\n" + reads(r) + "\n" + reads(e)
	}
	return ""
}

func tbSnapBytes(e *Engine) []byte {
	var b bytes.Buffer
	if err := e.Snapshot(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// TestClaimRefusalsBounded: past its bound the home forgets the oldest
// refusal first (a retry of it is decided anew), and the bound holds
// across a snapshot.
func TestClaimRefusalsBounded(t *testing.T) {
	cfg := Config{ShardID: tbShard, Shards: tbShards, PickupSecret: tbSecret}
	e := New(cfg)
	e.st.claims.answersMax = 3
	claim := func(key string, qty int64) Result {
		return refApply(e, tbT0, Command{Op: OpClaim, Customer: []byte(tbNear), SKU: []byte("L"), Qty: qty, Limit: 2,
			Claim: []byte(key), ItemShard: tbItemShard, Deadline: tbT0 + int64(time.Second)})[0]
	}
	claim("k0", 2)
	for i := 1; i <= 4; i++ {
		if r := claim(fmt.Sprint("r", i), 1); r.Code != CodeLimitExceeded {
			t.Fatalf("r%d: %v", i, r.Code)
		}
	}
	if err := e.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(cfg, bytes.NewReader(tbSnapBytes(e)))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Engine{e, r} {
		x.st.claims.answersMax = 3
		var got []string
		for i := 1; i <= 4; i++ {
			got = append(got, x.Read(&Command{Op: OpGetClaim, Claim: []byte(fmt.Sprint("r", i))}).Code.String())
		}
		if fmt.Sprint(got) != "[not_found limit_exceeded limit_exceeded limit_exceeded]" {
			t.Fatalf("refusals kept: %v", got)
		}
	}
}
