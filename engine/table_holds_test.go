// Table cases of a claim on an item's shard (claimhold.go) and of the
// outbox's sending side (outbox.go), run by TestEngineTable with the others.
//
// What they prove: a limited reserve of a customer of another shard without
// a claim is refused claim_required carrying the limit; with a claim and
// its deadline it is a provisional hold that takes stock, skips the local
// limit, and cannot be confirmed, extended or rescheduled (claim_required
// naming the claim) until resolved; past the deadline it is refused
// expired. A resolve with OK makes the hold firm (alone or linked with its
// confirm), with a refusal ends it at once, emits hold_refused and makes
// the reserve's key answer the refusal. Cancel, expiry, no-show and return
// of a claimed reservation append release_claim to the outbox for the
// customer's home (a refused one appends nothing, a failed linked group
// takes its message back), numbered per destination, and delivered drops
// them. The sweep's reads find the active hold of a key and the
// provisional holds past a time in a fixed order.
package engine

import (
	"fmt"
	"strings"
)

// claimed attaches a claim key and its deadline (an offset) to a reserve.
func (s tbStep) claimed(key, dl string) tbStep {
	s.cmd.Claim, s.cmd.Deadline = []byte(key), tbAbs(dl)
	return s
}

func (o tbOps) resolve(key string, code Code) tbStep {
	return o.cmd(Command{Op: OpResolveClaim, Claim: []byte(key), ClaimCode: code})
}
func (o tbOps) claimHold(key string) tbStep {
	return o.cmd(Command{Op: OpGetClaimHold, Claim: []byte(key)})
}
func (o tbOps) delivered(to uint16, seq uint64) tbStep {
	return o.cmd(Command{Op: OpDelivered, ToShard: to, Seq: seq})
}

// outbox checks the undelivered messages to tbFar's home, and that no other
// destination has any: "1:k1@1 2:k2@3" (number:claim@reservation seq; a
// no-show counted at the home: "4:no_show@2").
func (s tbStep) outbox(want string) tbStep {
	return s.chk(func(e *Engine, _ Result) string {
		for _, q := range e.OutboxPending() {
			if q.To != tbHome {
				return fmt.Sprintf("messages to shard %d", q.To)
			}
		}
		var got []string
		for _, m := range e.Outbox(tbHome, 100) {
			if m.Op == OpNoShow && m.Customer == tbFar && m.At > 0 {
				got = append(got, fmt.Sprintf("%d:no_show@%d", m.Seq, SeqOfID(m.ID)))
				continue
			}
			if m.Op != OpReleaseClaim || m.Customer != tbFar || m.At == 0 {
				return fmt.Sprintf("message %+v", m)
			}
			got = append(got, fmt.Sprintf("%d:%s@%d", m.Seq, m.Claim, SeqOfID(m.ID)))
		}
		return tbDiff("outbox", strings.Join(got, " "), want)
	})
}

// provDue checks Engine.ProvisionalDue(until, max): reservation seqs in order.
func (s tbStep) provDue(until string, max int, want string) tbStep {
	return s.chk(func(e *Engine, _ Result) string {
		var got []string
		for _, h := range e.ProvisionalDue(tbAbs(until), max) {
			if h.Customer != tbFar || h.Claim == "" {
				return fmt.Sprintf("due hold %+v", h)
			}
			got = append(got, fmt.Sprint(SeqOfID(h.ID)))
		}
		return tbDiff("provisional due", strings.Join(got, " "), want)
	})
}

// claimOf checks a reservation read's claim: "k1 provisional", "k1 firm", "".
func (s tbStep) claimOf(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Reservation == nil {
			return "no reservation in the result"
		}
		got := r.Reservation.Claim
		if got != "" && r.Reservation.Provisional {
			got += " provisional"
		} else if got != "" {
			got += " firm"
		}
		return tbDiff("claim", got, want)
	})
}

func tbNoReservation(_ *Engine, r Result) string {
	if r.Reservation != nil {
		return fmt.Sprintf("names reservation %+v", *r.Reservation)
	}
	return ""
}

// namesClaim checks a claim_required refusal of a provisional hold: it
// names the claim and the reservation's customer and SKU.
func (s tbStep) namesClaim(cust, sku, key string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Reservation == nil || r.Reservation.Customer != cust || r.Reservation.SKU != sku || r.Reservation.Claim != key {
			return fmt.Sprintf("claim_required names %+v; want %s %s %s", r.Reservation, cust, sku, key)
		}
		return ""
	})
}

func tbHoldCases() []tbCase {
	R := do.reserve
	far, near := tbFar, tbNear
	c := func(name string, steps ...tbStep) tbCase { return tcc(name, tbClaimCfg, steps...) }
	return []tbCase{
		c("reserve: a limited item of a customer of another shard needs a claim",
			R("L", "S1", far, 1).is(CodeClaimRequired).qtyIs(2).events(), do.getItem("L", "S1").item("stock=10 available=10 limit=2")),
		c("reserve: claim_required is not kept for the key", R("L", "S1", far, 1).key("r1").is(CodeClaimRequired),
			R("L", "S1", far, 1).key("r1").claimed("k1", "5s").res("held id=1 qty=1 expires=10m"),
			R("L", "S1", far, 1).key("r1").res("held id=1 qty=1 expires=10m").events()),
		c("reserve: an unlimited item needs no claim", R("A", "S1", far, 1).res("held id=1 qty=1 expires=10m").chk(tbNoReservation)),
		c("reserve: a replay names the claim while the hold is provisional, not after",
			R("L", "S1", far, 1).key("r1").claimed("k1", "5s"), R("L", "S1", far, 1).key("r1").claimed("k1", "6s").claimOf("k1 provisional").events(),
			R("L", "S1", far, 1).key("r1").claimOf("k1 provisional"), // a reserve without its claim learns of it too
			do.resolve("k1", OK), R("L", "S1", far, 1).key("r1").claimed("k1", "6s").res("held id=1 qty=1 expires=10m").chk(tbNoReservation),
			R("L", "S1", far, 1).key("r2").claimed("k2", "6s").linked(), R("A", "S1", far, 1).key("r3"),
			R("L", "S1", far, 1).key("r2").claimed("k2", "6s").linked().claimOf("k2 provisional"), R("A", "S1", far, 1).key("r3").chk(tbNoReservation)),
		tc("reserve: a single shard needs no claim", R("L", "S1", far, 2).res("held id=1 qty=2 expires=10m")),
		c("reserve: with a claim, a provisional hold that skips the local limit",
			R("L", "S1", far, 2).claimed("k1", "5s").res("held id=1 qty=2 expires=10m").claimOf("k1 provisional").
				events("reserved id=1 L/S1 "+far+" qty=2 held"),
			R("L", "S2", far, 2).claimed("k2", "5s").res("held id=2 qty=2 expires=10m"),
			do.getRes(1).claimOf("k1 provisional"), do.claimHold("k1").res("held id=1 qty=2 expires=10m").claimOf("k1 provisional"),
			do.getItem("L", "S1").item("stock=10 held=2 available=8 limit=2").provDue("5s", 10, "1 2").provDue("4s", 10, "")),
		c("reserve: with a claim of an unlimited item, provisional too", R("A", "S1", far, 1).claimed("k1", "5s").res("held id=1 qty=1 expires=10m"),
			do.getRes(1).claimOf("k1 provisional")),
		c("reserve: with a claim past its deadline, or malformed", R("L", "S1", far, 1).claimed("k1", "0").is(CodeExpired),
			R("L", "S1", far, 1).claimed("k1", "1m1ns").is(CodeBadRequest), R("L", "S1", far, 1).claimed("k1", "none").is(CodeBadRequest),
			R("L", "S1", far, 1).claimed("", "5s").is(CodeBadRequest), R("L", "S1", near, 1).claimed("k1", "5s").is(CodeBadRequest),
			R("L", "S1", far, 1).claimed("k1", "5s").at("5s").is(CodeExpired), do.getItem("L", "S1").item("stock=10 available=10 limit=2"),
			R("L", "S1", far, 1).claimed("k1", "1m5s").res("held id=1 qty=1 expires=10m5s")),
		c("reserve: sold out before the claim's deadline", R("Z", "S1", far, 2).claimed("k1", "0").is(CodeSoldOut)),
		c("reserve: a claim key a kept reservation carries", R("L", "S1", far, 1).claimed("k1", "5s"),
			R("L", "S2", far, 1).claimed("k1", "5s").is(CodeKeyConflict), do.cancel(1),
			R("L", "S2", far, 1).claimed("k1", "5s").is(CodeKeyConflict), R("L", "S2", far, 1).claimed("k2", "5s").res("held id=2 qty=1 expires=10m")),
		tc("reserve: a single shard takes no claims", R("A", "S1", far, 1).claimed("k1", "5s").is(CodeBadRequest)),

		c("confirm, extend, reschedule: a provisional hold needs its claim resolved",
			R("W", "S1", far, 1).win(0).claimed("k1", "5s"), do.confirm(1, 0).is(CodeClaimRequired).namesClaim(far, "W", "k1").events(),
			do.extend(1, "20m").is(CodeClaimRequired).namesClaim(far, "W", "k1"), do.reschedule(1, 1).is(CodeClaimRequired),
			do.resolve("k1", OK).res("held id=1 qty=1 window=1h expires=10m").events(), do.reschedule(1, 2).res("held id=1 qty=1 window=2d expires=10m"),
			do.extend(1, "20m").res("held id=1 qty=1 window=2d expires=20m"), do.confirm(1, 0).res("confirmed id=1 qty=1 window=2d pickup-by=2d2h code=ok")),
		c("resolve_claim: accepted, the hold is firm", R("L", "S1", far, 1).claimed("k1", "5s"),
			do.resolve("k1", OK).res("held id=1 qty=1 expires=10m").events().provDue("1m", 10, ""),
			do.resolve("k1", OK).res("held id=1 qty=1 expires=10m"), do.getRes(1).claimOf("k1 firm"),
			do.resolve("k1", CodeLimitExceeded).is(CodeWrongState), do.confirm(1, 0).res("confirmed id=1 qty=1 pickup-by=7d code=ok")),
		c("resolve_claim: refused, the hold ends and its key answers the refusal",
			R("L", "S1", far, 2).key("r1").claimed("k1", "5s").res("held id=1 qty=2 expires=10m"),
			do.resolve("k1", CodeLimitExceeded).res("cancelled id=1 qty=2").events("hold_refused id=1 L/S1 "+far+" qty=2 cancelled").outbox(""),
			do.getItem("L", "S1").item("stock=10 available=10 limit=2"), do.getRes(1).claimOf("k1 firm").resv("id=1 L/S1 "+far+" qty=2 cancelled"),
			R("L", "S1", far, 2).key("r1").claimed("k1", "6s").is(CodeLimitExceeded).events(),
			R("L", "S1", far, 2).key("r1").is(CodeLimitExceeded), do.claimHold("k1").is(CodeNotFound),
			do.resolve("k1", CodeLimitExceeded).res("cancelled id=1 qty=2").events(), do.resolve("k1", CodeExpired).is(CodeWrongState),
			do.resolve("k1", OK).is(CodeWrongState)),
		c("resolve_claim: a hold that ended unresolved still has its key answer", R("L", "S1", far, 2).key("r1").claimed("k1", "5s"),
			do.cancel(1).outbox("1:k1@1"), R("L", "S1", far, 2).key("r1").claimed("k1", "6s").claimOf("k1 provisional"),
			do.resolve("k1", CodeExpired).res("cancelled id=1 qty=2").events().outbox("1:k1@1"), R("L", "S1", far, 2).key("r1").is(CodeExpired),
			R("L", "S2", far, 1).key("r2").claimed("k2", "5s"), do.cancel(2), do.resolve("k2", OK).res("cancelled id=2 qty=1"),
			R("L", "S2", far, 1).key("r2").claimed("k2", "6s").res("held id=2 qty=1 expires=10m").chk(tbNoReservation)),
		c("resolve_claim: blocked and expired end the hold too", R("L", "S1", far, 1).claimed("k1", "5s"), R("L", "S2", far, 1).claimed("k2", "5s"),
			do.resolve("k1", CodeBlocked).res("cancelled id=1 qty=1"), do.resolve("k2", CodeExpired).res("cancelled id=2 qty=1"),
			do.getItem("L", "S2").item("stock=10 available=10 limit=2")),
		c("resolve_claim: an unknown key is done; answers a home never gives", do.resolve("nope", OK).res("ok").events(),
			do.resolve("k1", CodeSoldOut).is(CodeBadRequest), do.resolve("", OK).is(CodeBadRequest)),
		c("linked: resolve and confirm in one entry", R("L", "S1", far, 1).claimed("k1", "5s"),
			do.resolve("k1", OK).linked().res("held id=1 qty=1 expires=10m"), do.confirm(1, 0).res("confirmed id=1 qty=1 pickup-by=7d code=ok")),
		c("linked: a failed group leaves the hold provisional", R("L", "S1", far, 1).claimed("k1", "5s"),
			do.resolve("k1", OK).linked().is(CodeLinkFailed), do.confirm(1, 5).is(CodeBadRequest), do.getRes(1).claimOf("k1 provisional")),
		c("linked: a resolve that refuses is not linkable", R("L", "S1", far, 1).claimed("k1", "5s"),
			do.resolve("k1", CodeLimitExceeded).linked().is(CodeBadRequest), do.cancel(1).is(CodeBadRequest), do.getRes(1).claimOf("k1 provisional")),

		c("cancel: a claimed hold's end sends release_claim to the customer's home", R("L", "S1", far, 1).claimed("k1", "5s"),
			R("L", "S2", far, 1).claimed("k2", "5s"), do.resolve("k2", OK), R("A", "S1", far, 1),
			do.cancel(1).res("cancelled id=1 qty=1").outbox("1:k1@1"), do.claimHold("k1").res("cancelled id=1 qty=1"),
			do.cancel(2).outbox("1:k1@1 2:k2@2"), do.cancel(3).outbox("1:k1@1 2:k2@2")),
		c("expiry, no-show and return send release_claim", R("L", "S1", far, 1).claimed("k1", "5s"), R("L", "S2", far, 1).claimed("k2", "5s"),
			do.resolve("k2", OK), do.confirm(2, 0), R("A", "S1", far, 1).claimed("k3", "5s"), do.resolve("k3", OK), do.confirm(3, 0),
			do.pickup(3, "S1", tbPin(3)), do.claimHold("k3").res("picked_up id=3 qty=1 code=ok").claimOf("k3 firm"),
			do.expire().at("10m").outbox("1:k1@1"), do.ret(3, true).outbox("1:k1@1 2:k3@3"),
			do.expire().at("8d").outbox("1:k1@1 2:k3@3 3:k2@2 4:no_show@2")),
		c("linked: a failed group takes back its release", R("L", "S1", far, 1).claimed("k1", "5s"),
			do.cancel(1).linked().is(CodeLinkFailed), R("Z", "S1", far, 5).is(CodeSoldOut).outbox(""),
			do.getRes(1).res("held id=1 qty=1 expires=10m"), do.claimHold("k1").res("held id=1 qty=1 expires=10m")),
		c("delivered: drops the messages up to a number", R("A", "S1", far, 1).claimed("k1", "5s"), R("A", "S1", far, 1).claimed("k2", "5s"),
			R("A", "S1", far, 1).claimed("k3", "5s"), do.cancel(1), do.cancel(2), do.cancel(3).outbox("1:k1@1 2:k2@2 3:k3@3"),
			do.delivered(tbHome, 2).res("ok").qtyIs(2).outbox("3:k3@3"), do.delivered(tbHome, 2).qtyIs(0), do.delivered(tbHome, 1).qtyIs(0),
			do.delivered(tbHome, 4).is(CodeBadRequest), do.delivered(tbShard, 1).is(CodeBadRequest), do.delivered(tbShards, 1).is(CodeBadRequest),
			do.delivered(tbHome, 0).is(CodeBadRequest), do.delivered(tbHome, 3).qtyIs(1).outbox(""),
			R("A", "S1", far, 1).claimed("k4", "5s"), do.cancel(4).outbox("4:k4@4")),
		tc("delivered: a single shard has no outbox", do.delivered(1, 1).is(CodeBadRequest)),
		c("get_claim_hold: the kept reservation carrying a claim, unless its claim was refused", R("L", "S1", far, 1).claimed("k1", "5s"),
			do.claimHold("k1").res("held id=1 qty=1 expires=10m").resv("id=1 L/S1 "+far+" qty=1 held expires=10m"),
			do.claimHold("k2").is(CodeNotFound), do.claimHold("").is(CodeBadRequest),
			do.cancel(1), do.claimHold("k1").res("cancelled id=1 qty=1"),
			R("L", "S1", far, 1).claimed("k3", "5s"), do.resolve("k3", CodeLimitExceeded), do.claimHold("k3").is(CodeNotFound)),
		c("provisional due: past a time, by deadline then id, at most max", R("A", "S1", far, 1).claimed("k1", "10s"),
			R("A", "S1", far, 1).claimed("k2", "3s"), R("A", "S1", far, 1).claimed("k3", "10s"),
			do.expire().provDue("10s", 10, "2 1 3").provDue("10s", 2, "2 1").provDue("9s", 10, "2"),
			do.resolve("k1", OK).provDue("1m", 10, "2 3"), do.cancel(2).at("1m").provDue("1m", 10, "3")),
	}
}
