// Table cases of the claims (claim.go, docs/adr/0050), run by
// TestEngineTable with the others and counted by TestEngineTableCoverage.
//
// What they prove: on a customer's shard, claims count against the limit
// together with the customer's own holds there, are idempotent by key,
// expire, settle, extend and release as documented; on an item's shard, a
// limited reserve of a customer of another shard is refused claim_required
// (with the limit) until it carries a claim whose proof checks, the hold
// then ends ClaimMargin before the claim, confirm and extend need the
// claim's new state, and a finished claimed reservation queues the release
// of its claim until claim_released. The proof is recomputed here from its
// documented derivation (tbProof), so a result carrying it proves it.
package engine

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// tbShards is the cluster size of the claim cases: the table's engine is
// shard tbShard of it.
const tbShards = 4

// tbFar and tbNear are customers whose counters live in another shard and
// in the table's shard.
var tbFar, tbNear = tbCustomerIn(false), tbCustomerIn(true)

func tbCustomerIn(home bool) string {
	for i := 0; ; i++ {
		c := fmt.Sprintf("cust-%d", i)
		if (CustomerShard([]byte(c), tbShards) == tbShard) == home {
			return c
		}
	}
}

func tbClaimCfg(c *Config) { c.Shards = tbShards }

// tbProof recomputes a claim's proof as documented: HMAC-SHA256 under the
// pickup secret over "inv-claim", then customer, SKU and key each after its
// length byte, units (u32) and expiry (u64) big-endian; the first 8 bytes,
// lowest bit set.
func tbProof(customer, sku string, units int64, key string, exp int64) uint64 {
	b := []byte("inv-claim")
	for _, f := range []string{customer, sku, key} {
		b = append(b, byte(len(f)))
		b = append(b, f...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(units))
	b = binary.BigEndian.AppendUint64(b, uint64(exp))
	m := hmac.New(sha256.New, tbSecret)
	m.Write(b)
	return binary.BigEndian.Uint64(m.Sum(nil)[:8]) | 1
}

func (o tbOps) claim(cust, sku string, qty, limit int64, key string) tbStep {
	return o.cmd(Command{Op: OpClaim, Customer: []byte(cust), SKU: []byte(sku), Qty: qty, Limit: limit, Claim: []byte(key)})
}
func (o tbOps) releaseClaim(key string) tbStep {
	return o.cmd(Command{Op: OpReleaseClaim, Claim: []byte(key)})
}
func (o tbOps) settle(key string, qty int64) tbStep {
	return o.cmd(Command{Op: OpSettleClaim, Claim: []byte(key), Qty: qty})
}
func (o tbOps) extendClaim(key, ttl string) tbStep {
	return o.cmd(Command{Op: OpExtendClaim, Claim: []byte(key), TTL: tbDur(ttl)})
}
func (o tbOps) claimReleased(seq uint64) tbStep {
	return o.cmd(Command{Op: OpClaimReleased, ID: id(seq)})
}

// proven attaches a claim of cust's units of sku under key, expiring at
// the offset exp ("settled" = 0), with its proof.
func (s tbStep) proven(cust, sku string, units int64, key, exp string) tbStep {
	var at int64
	if exp != "settled" {
		at = tbAbs(exp)
	}
	s.cmd.Claim, s.cmd.ClaimExpiry = []byte(key), at
	s.cmd.Proof = tbProof(cust, sku, units, key, at)
	return s
}

// claimRes checks a claim op's result: units, expiry ("settled" = 0) and
// the proof over them.
func (s tbStep) claimRes(cust, sku string, units int64, key, exp string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		var at int64
		if exp != "settled" {
			at = tbAbs(exp)
		}
		if r.Qty != units || r.ExpiresAt != at || r.PickupCode != tbProof(cust, sku, units, key, at) {
			return fmt.Sprintf("claim result qty=%d expires=%d proof=%x; want qty=%d expires=%s", r.Qty, r.ExpiresAt, r.PickupCode, units, exp)
		}
		return ""
	})
}

func (s tbStep) qtyIs(n int64) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Qty != n {
			return fmt.Sprintf("qty %d, want %d", r.Qty, n)
		}
		return ""
	})
}

// releases checks the item shard's pending claim releases: "id:customer:key ...".
func (s tbStep) releases(want string) tbStep {
	return s.chk(func(e *Engine, _ Result) string {
		got := ""
		for i, r := range e.ClaimReleases(100) {
			if i > 0 {
				got += " "
			}
			got += fmt.Sprintf("%d:%s:%s", SeqOfID(r.ID), r.Customer, r.Key)
		}
		return tbDiff("claim releases", got, want)
	})
}

// namesClaim checks a claim_required refusal of confirm or extend: it
// names the claim and the reservation's customer and SKU.
func (s tbStep) namesClaim(cust, sku, key string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Reservation == nil || r.Reservation.Customer != cust || r.Reservation.SKU != sku || r.Reservation.Claim != key {
			return fmt.Sprintf("claim_required names %+v; want %s %s %s", r.Reservation, cust, sku, key)
		}
		return ""
	})
}

func tbClaimTable() []tbCase {
	R := do.reserve
	far, near := tbFar, tbNear
	c := func(name string, steps ...tbStep) tbCase { return tcc(name, tbClaimCfg, steps...) }
	return []tbCase{
		// ---- claim (customer shard) ----
		c("claim: takes units of the limit, expires after the default hold and the margin",
			do.claim(near, "L", 2, 2, "k1").claimRes(near, "L", 2, "k1", "10m2s").events("claimed L/ "+near+" qty=2").due("10m2s")),
		c("claim: over the limit, with the proof of the refusal", do.claim(near, "L", 2, 2, "k1"),
			do.claim(near, "L", 1, 2, "k2").is(CodeLimitExceeded).events().chk(func(_ *Engine, r Result) string {
				if r.PickupCode != tbProof(near, "L", 1, "k2", -int64(CodeLimitExceeded)) {
					return "no proof of the refusal"
				}
				return ""
			})),
		c("claim: the customer's own holds in its shard count", R("L", "S1", near, 1), do.claim(near, "L", 2, 2, "k1").is(CodeLimitExceeded),
			do.claim(near, "L", 1, 2, "k2").claimRes(near, "L", 1, "k2", "10m2s")),
		c("claim: other SKUs and customers are apart", do.claim(near, "L", 2, 2, "k1"), do.claim(near, "X", 2, 2, "k2"),
			do.claim(far, "L", 2, 2, "k3").claimRes(far, "L", 2, "k3", "10m2s")),
		c("claim: a retry with the same key counts once", do.claim(near, "L", 1, 2, "k1").ttl("5m"),
			do.claim(near, "L", 1, 2, "k1").ttl("5m").at("1m").claimRes(near, "L", 1, "k1", "5m").events(),
			do.claim(near, "L", 1, 2, "k2").claimRes(near, "L", 1, "k2", "11m2s")),
		c("claim: the same key for another claim", do.claim(near, "L", 1, 2, "k1"), do.claim(near, "L", 2, 2, "k1").is(CodeKeyConflict),
			do.claim(far, "L", 1, 2, "k1").is(CodeKeyConflict), do.claim(near, "A", 1, 2, "k1").is(CodeKeyConflict)),
		c("claim: a blocked customer", do.claim("bad", "L", 1, 2, "k1").is(CodeBlocked)),
		c("claim: no key, no units, no limit, a TTL over the longest hold", do.claim(near, "L", 1, 2, "").is(CodeBadRequest),
			do.claim(near, "L", 0, 2, "k").is(CodeBadRequest), do.claim(near, "L", 1, 0, "k").is(CodeBadRequest),
			do.claim(near, "L", 1, 2, "k").ttl("30m3s").is(CodeBadRequest), do.claim("", "L", 1, 2, "k").is(CodeBadRequest),
			do.claim(near, "L", 1, 2, "k").ttl("30m2s").claimRes(near, "L", 1, "k", "30m2s")),
		c("claim: expires on its own and frees the units", do.claim(near, "L", 2, 2, "k1").ttl("1m"),
			do.expire().at("1m").events("claim_ended L/ "+near+" qty=2").due("none"),
			do.claim(near, "L", 2, 2, "k2").claimRes(near, "L", 2, "k2", "11m2s")),
		c("reserve: claims count in the customer's shard", do.claim(near, "L", 2, 2, "k1"), R("L", "S1", near, 1).is(CodeLimitExceeded),
			do.releaseClaim("k1"), R("L", "S1", near, 2).res("held id=1 qty=2 expires=10m")),

		// ---- release_claim ----
		c("release_claim: frees the units", do.claim(near, "L", 2, 2, "k1"),
			do.releaseClaim("k1").qtyIs(2).events("claim_ended L/ "+near+" qty=2"), do.claim(near, "L", 2, 2, "k2"),
			do.expire().at("10m2s").events("claim_ended L/ "+near+" qty=2")), // k2 ends; k1's entry is stale
		c("release_claim: an unknown key is done", do.releaseClaim("nope").res("ok").qtyIs(0).events()),
		c("release_claim: no key", do.releaseClaim("").is(CodeBadRequest)),

		// ---- settle_claim ----
		c("settle_claim: the units count without expiry", do.claim(near, "L", 2, 2, "k1"),
			do.settle("k1", 0).claimRes(near, "L", 2, "k1", "settled").events("claim_settled L/ "+near+" qty=2"),
			do.expire().at("1d").events(), do.claim(near, "L", 1, 2, "k2").is(CodeLimitExceeded),
			do.settle("k1", 0).claimRes(near, "L", 2, "k1", "settled").events()),
		c("settle_claim: fewer units free the rest", do.claim(near, "L", 2, 2, "k1"),
			do.settle("k1", 1).claimRes(near, "L", 1, "k1", "settled").events("claim_settled L/ "+near+" qty=1", "claim_ended L/ "+near+" qty=1"),
			do.claim(near, "L", 1, 2, "k2"), do.claim(near, "L", 1, 2, "k3").is(CodeLimitExceeded)),
		c("settle_claim: an expired or unknown claim", do.claim(near, "L", 2, 2, "k1").ttl("1m"), do.settle("k1", 0).at("1m").is(CodeNotFound)),
		c("settle_claim: more units than claimed, a negative qty, no key", do.claim(near, "L", 1, 2, "k1"), do.settle("k1", 2).is(CodeBadRequest),
			do.settle("k1", -1).is(CodeBadRequest), do.settle("", 0).is(CodeBadRequest)),

		// ---- extend_claim ----
		c("extend_claim: moves the expiry", do.claim(near, "L", 2, 2, "k1").ttl("1m"),
			do.extendClaim("k1", "5m").claimRes(near, "L", 2, "k1", "5m").events("claim_moved L/ "+near+" qty=2"),
			do.expire().at("1m").events(), do.claim(near, "L", 1, 2, "k2").is(CodeLimitExceeded),
			do.expire().at("5m").events("claim_ended L/ "+near+" qty=2")),
		c("extend_claim: never earlier, never past the longest hold from its creation", do.claim(near, "L", 1, 2, "k1"),
			do.extendClaim("k1", "1m").claimRes(near, "L", 1, "k1", "10m2s").events(),
			do.extendClaim("k1", "10m").at("9m").claimRes(near, "L", 1, "k1", "19m"),
			do.extendClaim("k1", "30m").at("18m").claimRes(near, "L", 1, "k1", "30m2s")),
		c("extend_claim: settled, unknown, no TTL", do.claim(near, "L", 1, 2, "k1"), do.extendClaim("k1", "0").is(CodeBadRequest),
			do.settle("k1", 0), do.extendClaim("k1", "5m").is(CodeWrongState), do.extendClaim("k2", "5m").is(CodeNotFound)),

		// ---- the item's shard ----
		c("reserve: a limited item of a customer of another shard needs a claim", R("L", "S1", far, 1).is(CodeClaimRequired).qtyIs(2).events(),
			do.getItem("L", "S1").item("stock=10 available=10 limit=2")),
		c("reserve: an unlimited item needs no claim", R("A", "S1", far, 1).res("held id=1 qty=1 expires=10m")),
		tc("reserve: a single shard needs no claim", R("L", "S1", far, 2).res("held id=1 qty=2 expires=10m")),
		c("reserve: an item without a limit needs no claim", do.setLimit("L", 0), R("L", "S1", far, 3).res("held id=1 qty=3 expires=10m")),
		c("reserve: with a claim, held until the margin before the claim's expiry",
			R("L", "S1", far, 2).proven(far, "L", 2, "k1", "5m").res("held id=1 qty=2 expires=4m58s").events("reserved id=1 L/S1 "+far+" qty=2 held"),
			do.getRes(1).chk(func(_ *Engine, r Result) string { return tbDiff("claim", r.Reservation.Claim, "k1") })),
		c("reserve: with a claim, the hold's own TTL when shorter", R("L", "S1", far, 2).ttl("1m").proven(far, "L", 2, "k1", "5m").res("held id=1 qty=2 expires=1m")),
		c("reserve: a proof for other units, another customer, a settled claim, or none",
			R("L", "S1", far, 2).proven(far, "L", 1, "k1", "5m").is(CodeBadRequest),
			R("L", "S1", far, 1).proven(near, "L", 1, "k1", "5m").is(CodeBadRequest),
			R("L", "S1", far, 1).proven(far, "L", 1, "k1", "settled").is(CodeBadRequest),
			R("L", "S1", far, 1).withCmd(func(c *Command) { c.Claim, c.ClaimExpiry = []byte("k1"), tbAbs("5m") }).is(CodeBadRequest),
			do.getItem("L", "S1").item("stock=10 available=10 limit=2")),
		c("reserve: a refused claim is the answer, kept for the key",
			R("L", "S1", far, 1).key("r1").withCmd(func(c *Command) {
				c.Claim, c.ClaimExpiry = []byte("k1"), -int64(CodeLimitExceeded)
				c.Proof = tbProof(far, "L", 1, "k1", c.ClaimExpiry)
			}).is(CodeLimitExceeded),
			R("L", "S1", far, 1).key("r1").is(CodeLimitExceeded).events(),
			R("L", "S1", far, 1).withCmd(func(c *Command) { // a proof for a code a claim never gives
				c.Claim, c.ClaimExpiry = []byte("k2"), -int64(CodeSoldOut)
				c.Proof = tbProof(far, "L", 1, "k2", c.ClaimExpiry)
			}).is(CodeBadRequest)),
		c("reserve: a claim that ends within the margin", R("L", "S1", far, 1).proven(far, "L", 1, "k1", "2s").is(CodeExpired)),
		c("reserve: claim_required is not kept for the key", R("L", "S1", far, 1).key("r1").is(CodeClaimRequired),
			R("L", "S1", far, 1).key("r1").proven(far, "L", 1, "k1", "5m").res("held id=1 qty=1 expires=4m58s"),
			R("L", "S1", far, 1).key("r1").proven(far, "L", 1, "k1", "5m").res("held id=1 qty=1 expires=4m58s").events()),
		c("confirm: a claimed hold needs its settled claim", R("L", "S1", far, 2).proven(far, "L", 2, "k1", "5m"),
			do.confirm(1, 0).is(CodeClaimRequired).namesClaim(far, "L", "k1"),
			do.confirm(1, 0).proven(far, "L", 2, "k1", "5m").is(CodeBadRequest),
			do.confirm(1, 0).proven(far, "L", 1, "k1", "settled").is(CodeBadRequest),
			do.confirm(1, 0).proven(far, "L", 2, "k1", "settled").res("confirmed id=1 qty=2 pickup-by=7d code=ok").
				events("confirmed id=1 L/S1 "+far+" qty=2 confirmed code=ok")),
		c("confirm: fewer units with a claim settled for them", R("L", "S1", far, 2).proven(far, "L", 2, "k1", "5m"),
			do.confirm(1, 1).proven(far, "L", 1, "k1", "settled").res("confirmed id=1 qty=1 pickup-by=7d code=ok")),
		c("confirm, extend: a claim on a hold without one", R("L", "S1", near, 1), do.confirm(1, 0).proven(near, "L", 1, "k1", "settled").is(CodeBadRequest),
			do.extend(1, "5m").proven(near, "L", 1, "k1", "20m").is(CodeBadRequest)),
		c("extend: a claimed hold follows its extended claim", R("L", "S1", far, 1).proven(far, "L", 1, "k1", "5m"),
			do.extend(1, "20m").is(CodeClaimRequired).namesClaim(far, "L", "k1"),
			do.extend(1, "20m").proven(far, "L", 1, "k1", "10m").res("held id=1 qty=1 expires=9m58s").events("extended id=1 L/S1 "+far+" qty=1 held"),
			do.extend(1, "5m").proven(far, "L", 1, "k1", "30m").res("held id=1 qty=1 expires=9m58s"),
			do.extend(1, "20m").proven(far, "L", 2, "k1", "30m").is(CodeBadRequest)),
		c("cancel: queues the release of the claim", R("L", "S1", far, 1).proven(far, "L", 1, "k1", "5m"),
			do.cancel(1).res("cancelled id=1 qty=1").releases("1:"+far+":k1"),
			do.claimReleased(1).releases(""), do.claimReleased(1).releases("")),
		c("expiry and no-show queue the release of the claim", R("L", "S1", far, 1).proven(far, "L", 1, "k1", "5m"),
			R("L", "S2", far, 1).proven(far, "L", 1, "k2", "5m"), do.confirm(2, 0).proven(far, "L", 1, "k2", "settled"),
			do.expire().at("4m58s").releases("1:"+far+":k1"), do.expire().at("8d").releases("1:"+far+":k1 2:"+far+":k2"),
			do.claimReleased(2).releases("1:"+far+":k1")),
		c("return queues the release of the claim", R("L", "S1", far, 1).proven(far, "L", 1, "k1", "5m"),
			do.confirm(1, 0).proven(far, "L", 1, "k1", "settled"), do.pickup(1, "S1", tbPin(1)), do.ret(1, true).releases("1:"+far+":k1")),
		c("linked: a failed group takes back its queued release", R("L", "S1", far, 1).proven(far, "L", 1, "k1", "5m"),
			do.cancel(1).linked().is(CodeLinkFailed), R("Z", "S1", far, 5).is(CodeSoldOut).releases(""), do.getRes(1).res("held id=1 qty=1 expires=4m58s")),
		c("claim_released: no id", do.claimReleased(0).rawID(0).is(CodeBadRequest)),
		tbClaimChainCases()[0],
		c("claims survive a snapshot", do.claim(near, "L", 1, 2, "k1"), R("L", "S1", far, 1).proven(far, "L", 1, "k2", "5m"), do.cancel(1),
			do.expire().chk(tbSnapshotRoundTrip)),
	}
}

// tbSnapshotRoundTrip restores a snapshot of the engine and compares the
// restored engine's snapshot and claim reads with the original's.
func tbSnapshotRoundTrip(e *Engine, _ Result) string {
	a := tbSnapBytes(e)
	r, err := Restore(e.Config(), bytes.NewReader(a))
	if err != nil {
		return "restore: " + err.Error()
	}
	if b := tbSnapBytes(r); string(a) != string(b) {
		return "the restored engine's snapshot differs"
	}
	if fmt.Sprint(r.ClaimReleases(10)) != fmt.Sprint(e.ClaimReleases(10)) || r.NextDue() != e.NextDue() {
		return "the restored engine's claims differ"
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

// tbClaimChainCases: a linked group refused claim_required keeps no key,
// so that it can come again with its claims.
func tbClaimChainCases() []tbCase {
	R := do.reserve
	far := tbFar
	return []tbCase{
		tcc("linked: a group refused claim_required keeps no key", tbClaimCfg,
			R("A", "S1", far, 1).key("g1").linked().is(CodeLinkFailed), R("L", "S1", far, 1).key("g2").is(CodeClaimRequired).qtyIs(2),
			R("A", "S1", far, 1).key("g1").linked().res("held id=1 qty=1 expires=10m"),
			R("L", "S1", far, 1).key("g2").proven(far, "L", 1, "k1", "5m").res("held id=2 qty=1 expires=4m58s")),
	}
}
