package engine

// Table cases of customers across shards (customers.go, docs/adr/0072):
// the table's engine is shard tbShard of tbShards; tbNear's home is this
// shard, tbFar's another (tbHome). They prove that block, unblock and
// set_tier run at the home only and push a customer_copy to every other
// shard (the outbox and Result.Copies name them), that a copy sets the
// block and tier a reserve checks here, and that no-shows are counted at
// the home (sent there from another shard) until the rule blocks the
// customer everywhere. Each case runs through runTableCase, which also
// checks the engine's invariants after every batch.

import (
	"fmt"
	"strings"
)

// copyMsg is the home's copy of cust's block and tier, delivered from
// shard from as its message seq.
func (o tbOps) copyMsg(cust string, from uint16, seq uint64, tier uint8, block uint8) tbStep {
	return o.cmd(Command{Op: OpCustomerCopy, Customer: []byte(cust), Tier: tier, Qty: int64(block),
		ToShard: tbShard, FromShard: from, Seq: seq})
}

// noShowMsg is a no-show of cust's reservation (seq rid of shard from) at
// the offset at, delivered from shard from as its message seq.
func (o tbOps) noShowMsg(cust string, from uint16, seq, rid uint64, at string) tbStep {
	return o.cmd(Command{Op: OpNoShow, Customer: []byte(cust), ID: MakeID(from, rid), Deadline: tbAbs(at),
		FromShard: from, Seq: seq})
}

// sentAll checks every destination's undelivered messages, by shard:
// "0:1 copy c tier=0 block=1; 1:1 no_show c@2" (shard:number kind
// customer, then the copy's tier and block, or the no-show's reservation
// seq).
func (s tbStep) sentAll(want string) tbStep {
	return s.chk(func(e *Engine, _ Result) string {
		var got []string
		for to := uint16(0); to < tbShards; to++ {
			for _, m := range e.Outbox(to, 100) {
				got = append(got, tbFmtMessage(to, m))
			}
		}
		return tbDiff("outbox", strings.Join(got, "; "), want)
	})
}

func tbFmtMessage(to uint16, m Message) string {
	switch m.Op {
	case OpCustomerCopy:
		return fmt.Sprintf("%d:%d copy %s tier=%d block=%d", to, m.Seq, m.Customer, m.Tier, m.Block)
	case OpNoShow:
		return fmt.Sprintf("%d:%d no_show %s@%d", to, m.Seq, m.Customer, SeqOfID(m.ID))
	}
	return fmt.Sprintf("%d:%d %v %s", to, m.Seq, m.Op, m.Claim)
}

// copies checks Result.Copies: "0:1 1:1 2:1" (shard:number).
func (s tbStep) copies(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		var got []string
		for _, c := range r.Copies {
			got = append(got, fmt.Sprintf("%d:%d", c.To, c.Seq))
		}
		return tbDiff("copies", strings.Join(got, " "), want)
	})
}

func tbCustomerTable() []tbCase {
	R := do.reserve
	near, far := tbNear, tbFar
	c := func(name string, steps ...tbStep) tbCase { return tcc(name, tbClaimCfg, steps...) }
	copyOf := func(cust, tb string) string { // the copies of cust to shards 0, 1, 2 (all but tbShard = 3)
		return fmt.Sprintf("0:1 copy %s %s; 1:1 copy %s %s; 2:1 copy %s %s", cust, tb, cust, tb, cust, tb)
	}
	other := (tbHome + 1) % tbShard // a shard that is neither tbFar's home nor this one
	return []tbCase{
		c("block at the home: a copy for every other shard, named in the result",
			do.block(near).cust(near+" tier=0 blocked no-shows=0 open=0").copies("0:1 1:1 2:1").sentAll(copyOf(near, "tier=0 block=1")),
			R("A", "S1", near, 1).is(CodeBlocked)),
		c("set_tier and unblock at the home push copies too, changed or not",
			do.tier(near, 2).copies("0:1 1:1 2:1"), do.unblock(near).copies("0:2 1:2 2:2").cust(near+" tier=2 no-shows=0 open=0").
				sentAll("0:1 copy "+near+" tier=2 block=0; 0:2 copy "+near+" tier=2 block=0; 1:1 copy "+near+" tier=2 block=0; "+
					"1:2 copy "+near+" tier=2 block=0; 2:1 copy "+near+" tier=2 block=0; 2:2 copy "+near+" tier=2 block=0")),
		c("block, unblock and set_tier of a customer of another home are refused and change nothing",
			do.block(far).is(CodeBadRequest).events(), do.unblock(far).is(CodeBadRequest), do.tier(far, 1).is(CodeBadRequest),
			do.getCust(far).is(CodeNotFound).sentAll(""), R("A", "S1", far, 1).res("held id=1 qty=1 expires=10m")),
		c("customer_copy: the home's block refuses the customer here, its unblock and tier serve it again",
			do.copyMsg(far, tbHome, 1, 0, BlockOperator).res("ok").events("customer "+far+" tier=0 blocked"),
			R("A", "S1", far, 1).is(CodeBlocked), do.getCust(far).cust(far+" tier=0 blocked no-shows=0 open=0"),
			do.copyMsg(far, tbHome, 2, 3, BlockNone).events("customer "+far+" tier=3"), R("A", "S1", far, 1).res("held id=1 qty=1 expires=10m"),
			do.copyMsg(far, tbHome, 2, 0, BlockNoShows).events(), do.getCust(far).cust(far+" tier=3 no-shows=0 open=1"),
			do.copyMsg(far, tbHome, 3, 3, BlockNone).events().sentAll("")),
		c("customer_copy: a copy of the no-show rule's block reads auto-blocked",
			do.copyMsg(far, tbHome, 1, 1, BlockNoShows), do.getCust(far).cust(far+" tier=1 blocked auto-blocked no-shows=0 open=0")),
		c("customer_copy: refused from a shard that is not the home, at the home, malformed, or not delivered; each message still takes its number",
			do.copyMsg(far, other, 1, 0, BlockOperator).is(CodeBadRequest), do.copyMsg(near, tbHome, 1, 0, BlockOperator).is(CodeBadRequest),
			do.copyMsg(far, tbHome, 2, MaxTier+1, BlockNone).is(CodeBadRequest), do.copyMsg(far, tbHome, 3, 0, BlockNoShows+1).is(CodeBadRequest),
			do.copyMsg("", tbHome, 4, 0, BlockOperator).is(CodeBadRequest), do.copyMsg(far, tbHome, 0, 0, BlockOperator).is(CodeBadRequest),
			do.getCust(far).is(CodeNotFound), R("A", "S1", far, 1).res("held id=1 qty=1 expires=10m"),
			do.copyMsg(far, tbHome, 5, 0, BlockOperator).res("ok"), R("A", "S1", far, 1).is(CodeBlocked)),
		c("no_show messages from other shards are counted at the home; the third blocks and pushes the copies",
			do.noShowMsg(near, 0, 1, 7, "1h").res("ok").events(), do.noShowMsg(near, 1, 1, 9, "2h").sentAll(""),
			do.getCust(near).cust(near+" tier=0 no-shows=2 open=0"), R("A", "S1", near, 1).res("held id=1 qty=1 expires=10m"),
			do.noShowMsg(near, 2, 1, 4, "3h").events("customer "+near+" tier=0 blocked").sentAll(copyOf(near, "tier=0 block=2")),
			do.getCust(near).cust(near+" tier=0 blocked auto-blocked no-shows=3 open=1"), R("A", "S1", near, 1).is(CodeBlocked),
			do.noShowMsg(near, 2, 1, 4, "3h").res("ok").events()),
		c("no-shows here and from other shards count together at the home",
			R("A", "S1", near, 1), do.confirm(1, 0), do.noShowMsg(near, 0, 1, 7, "1h"), do.noShowMsg(near, 1, 1, 9, "2h"),
			do.expire().at("8d").events("no_show id=1 A/S1 "+near+" qty=1 no_show code=ok", "customer "+near+" tier=0 blocked"),
			do.getCust(near).cust(near+" tier=0 blocked auto-blocked no-shows=3 open=0").sentAll(copyOf(near, "tier=0 block=2"))),
		c("a no-show at the home counted out of time order; one older than the window does not count",
			do.expire().at("100d"), do.noShowMsg(near, 0, 1, 7, "5d"), do.getCust(near).cust(near+" tier=0 no-shows=0 open=0"),
			do.noShowMsg(near, 1, 1, 9, "99d"), do.noShowMsg(near, 2, 1, 4, "98d"), do.getCust(near).cust(near+" tier=0 no-shows=2 open=0")),
		c("unblock at the home clears the no-show history and pushes copies",
			do.noShowMsg(near, 0, 1, 7, "1h"), do.noShowMsg(near, 1, 1, 9, "2h"), do.noShowMsg(near, 2, 1, 4, "3h"),
			do.unblock(near).copies("0:2 1:2 2:2").cust(near+" tier=0 no-shows=0 open=0"), R("A", "S1", near, 1).res("held id=1 qty=1 expires=10m"),
			do.noShowMsg(near, 0, 2, 8, "4h"), do.getCust(near).cust(near+" tier=0 no-shows=1 open=1")),
		c("a no-show of a customer of another home goes to the home and is not counted here",
			R("A", "S1", far, 1), do.confirm(1, 0), R("A", "S2", far, 1), do.confirm(2, 0), R("A", "S1", far, 1), do.confirm(3, 0),
			do.expire().at("8d").sentAll(fmt.Sprintf("%d:1 no_show %s@1; %d:2 no_show %s@2; %d:3 no_show %s@3", tbHome, far, tbHome, far, tbHome, far)),
			do.getCust(far).cust(far+" tier=0 no-shows=0 open=0"), R("A", "S1", far, 1).at("8d").res("held id=4 qty=1 expires=8d10m")),
		tcc("a no-show rule turned off sends and counts nothing", func(c *Config) { tbClaimCfg(c); c.NoShowLimit = -1 },
			R("A", "S1", far, 1), do.confirm(1, 0), do.expire().at("8d").sentAll(""),
			do.noShowMsg(near, 0, 1, 7, "1h"), do.noShowMsg(near, 1, 1, 9, "2h"), do.noShowMsg(near, 2, 1, 4, "3h"),
			do.getCust(near).is(CodeNotFound)),
		c("no_show: refused at a shard that is not the customer's home, without a reservation or a time, or not delivered",
			do.noShowMsg(far, 0, 1, 7, "1h").is(CodeBadRequest), do.noShowMsg(near, 0, 2, 0, "1h").withCmd(func(c *Command) { c.ID = 0 }).is(CodeBadRequest),
			do.noShowMsg(near, 0, 3, 7, "none").is(CodeBadRequest), do.noShowMsg(near, 0, 0, 7, "1h").is(CodeBadRequest),
			do.getCust(near).is(CodeNotFound).marks("3 0 0 0")),
	}
}
