// Table cases of a waitlist entry that carries a claim (waitlist.go,
// docs/adr/0112), run by TestEngineTable with the others.
//
// What they prove: a limited SKU's customer of another home is refused
// claim_required (carrying the limit) by a plain join, and joins with a
// claim and its deadline, skipping the limit its home counted; the answer
// says whether the claim is carried (so the router anchors or releases
// it), also on a replay and on a join of a customer already in line under
// another claim. A claimed join past its deadline is expired; a bad
// deadline, a customer of this shard, or a key a kept reservation or
// another customer's entry carries is refused, changing nothing. An entry
// that leaves, expires or is dropped sends release_claim to the home
// (a leave's answer names the message); one that is promoted hands its
// claim to the hold, firm, whose end sends it. get_claim_hold answers an
// entry in line as an active hold, and not_found once it ended. Claimed
// entries survive a snapshot.
//
// How: the table's engine is shard tbShard of tbShards; L is limited to 2
// and sold out at S1 by an adjustment; tbFar's home is another shard.
package engine

import "fmt"

// claimedWl checks whether a join's answer says its claim is carried.
func (s tbStep) claimedWl(want bool) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Waitlist == nil || r.Waitlist.Claimed != want {
			return fmt.Sprintf("waitlist %+v: claimed want %v", r.Waitlist, want)
		}
		return ""
	})
}

// claimCode sets the claim's refusal a join carries.
func (s tbStep) claimCode(code Code) tbStep { s.cmd.ClaimCode = code; return s }

// sentIs checks the outbox message a result names: "to:seq", "" for none.
func (s tbStep) sentIs(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		got := ""
		if r.Sent.Seq != 0 {
			got = fmt.Sprintf("%d:%d", r.Sent.To, r.Sent.Seq)
		}
		return tbDiff("sent", got, want)
	})
}

func tbWaitClaimCases() []tbCase {
	J, R := do.join, do.reserve
	far, near := tbFar, tbNear
	c := func(name string, steps ...tbStep) tbCase { return tcc(name, tbClaimCfg, steps...) }
	soldL := do.adjust("L", "S1", -10)
	home := fmt.Sprint(tbHome)
	return []tbCase{
		c("claimed join: a plain join is claim_required with the limit; with a claim the entry skips the limit",
			soldL, J("L", "S1", far, 1).is(CodeClaimRequired).qtyIs(2).events(),
			J("L", "S1", far, 2).claimed("w1", "5s").wl("len=1 pos=1 qty=2 expires=1h").claimedWl(true).
				events("waitlist_joined L/S1 "+far+" qty=2").outbox(""),
			do.claimHold("w1").res("held id=0 qty=2 expires=1h")),
		c("claimed join: refused past its deadline, with a bad deadline, for a customer of this shard; nothing changes",
			soldL, J("L", "S1", far, 1).claimed("w1", "0s").is(CodeExpired),
			J("L", "S1", far, 1).claimed("w1", "2m").is(CodeBadRequest), J("L", "S1", far, 1).claimed("", "5s").is(CodeBadRequest),
			J("L", "S1", near, 1).claimed("w1", "5s").is(CodeBadRequest),
			do.getWait("L", "S1", far).wl("len=0").events(), do.claimHold("w1").is(CodeNotFound)),
		c("claimed join: a key another customer's entry or a kept reservation carries is a conflict",
			soldL, J("L", "S1", far, 1).claimed("w1", "5s"), J("L", "S1", tbFarN(1), 1).claimed("w1", "5s").is(CodeKeyConflict),
			R("L", "S2", far, 1).claimed("h1", "5s"), J("L", "S1", tbFarN(1), 1).claimed("h1", "5s").is(CodeKeyConflict),
			do.getWait("L", "S1", tbFarN(1)).wl("len=1")),
		c("claimed join: again, or under another claim while in line, changes nothing and carries only its own",
			soldL, J("L", "S1", far, 1).claimed("w1", "5s"), J("L", "S1", far, 1).claimed("w1", "5s").claimedWl(true).events(),
			J("L", "S1", far, 1).claimed("w2", "5s").wl("len=1 pos=1 qty=1 expires=1h").claimedWl(false).events(),
			do.claimHold("w2").is(CodeNotFound)),
		c("claimed join: a replay tells whether the claim is still carried",
			soldL, J("L", "S1", far, 1).key("j").claimed("w1", "5s").claimedWl(true),
			J("L", "S1", far, 1).key("j").claimed("w1", "6s").claimedWl(true), do.leave("L", "S1", far),
			J("L", "S1", far, 1).key("j").claimed("w1", "7s").wl("len=0").claimedWl(false)),
		c("claim refused: a join carrying the home's refusal answers it and its key keeps it; bad refusals are refused",
			soldL, J("L", "S1", far, 1).key("j").claimCode(CodeLimitExceeded).is(CodeLimitExceeded).events(),
			J("L", "S1", far, 1).key("j").claimed("w1", "5s").is(CodeLimitExceeded).events(),
			J("L", "S1", far, 1).claimCode(CodeSoldOut).is(CodeBadRequest), J("L", "S1", near, 1).claimCode(CodeBlocked).is(CodeBadRequest),
			J("L", "S1", far, 1).claimed("w2", "5s").claimCode(CodeBlocked).is(CodeBadRequest),
			do.getWait("L", "S1", far).wl("len=0")),
		c("claimed entry: leaving sends its claim's release, and the answer names it",
			soldL, J("L", "S1", far, 1).claimed("w1", "5s"),
			do.leave("L", "S1", far).sentIs(home+":1").outbox("1:w1@0").events("waitlist_left L/S1 "+far+" qty=1"),
			do.claimHold("w1").is(CodeNotFound)),
		c("claimed entry: expiring sends its claim's release",
			soldL, J("L", "S1", far, 1).claimed("w1", "5s").ttl("5m"),
			do.expire().at("5m").outbox("1:w1@0").events("waitlist_expired L/S1 "+far+" qty=1")),
		c("claimed entry: dropped at promotion (blocked meanwhile) sends its claim's release",
			do.adjust("L", "S1", -9), R("L", "S1", near, 1), J("L", "S1", far, 1).claimed("w1", "5s"),
			do.copyMsg(far, tbHome, 1, 0, BlockOperator),
			do.cancel(1).outbox("1:w1@0").events("cancelled id=1 L/S1 "+near+" qty=1 cancelled", "waitlist_dropped L/S1 "+far+" qty=1")),
		c("claimed entry: promoted, its hold carries the claim, firm, skipping the limit; the hold's end sends the release",
			do.adjust("L", "S1", -8), R("L", "S1", near, 2), J("L", "S1", far, 2).claimed("w1", "5s"),
			do.cancel(1).at("1m").outbox("").events("cancelled id=1 L/S1 "+near+" qty=2 cancelled",
				"reserved id=2 L/S1 "+far+" qty=2 held", "waitlist_promoted id=2 L/S1 "+far+" qty=2 held"),
			do.getRes(2).claimOf("w1 firm"), do.claimHold("w1").res("held id=2 qty=2 expires=11m"),
			do.confirm(2, 1).res("confirmed id=2 qty=1 pickup-by=7d1m code=ok").outbox(""),
			do.cancel(2).outbox("1:w1@2").sentIs(home+":1")),
		c("claimed entries survive a snapshot",
			soldL, J("L", "S1", far, 1).claimed("w1", "5s"), J("L", "S1", tbFarN(1), 2).claimed("w2", "5s").ttl("2h"),
			J("L", "S1", near, 1), do.expire().chk(tbSnapshotRoundTrip),
			do.leave("L", "S1", far).chk(tbSnapshotRoundTrip)),
		c("a promoted entry's hold and its claim survive a snapshot",
			do.adjust("L", "S1", -9), R("L", "S1", near, 1), J("L", "S1", far, 1).claimed("w1", "5s"),
			do.cancel(1).chk(tbSnapshotRoundTrip), do.getRes(2).claimOf("w1 firm")),
	}
}

// tbFarN is the n-th customer whose home is another shard (tbFar is the 0th).
func tbFarN(n int) string { return tbCustomerIn(false, n) }
