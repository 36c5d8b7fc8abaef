// Scenario tests of rules that span shards (docs/adr/0070): stories of
// three shards told as datadriven files in testdata/claims/, the way a
// coordinator, its sweeps and its deliverer drive them.
//
// What they prove: each step of a story (a claim on the customer's home, a
// claimed reserve on the item's shard, a resolve, a release, a sweep, an
// outbox delivery lost, repeated or out of order, a trim) gives exactly the
// replies and reads written under it, every shard satisfies
// CheckInvariants after every step, and each shard's final state survives
// Snapshot and Restore byte for byte.
//
// Commands (times as in scenario_test.go: at=10s, at=+2s; a deadline is
// dl=+3s from the step's time, or dl=3s from the story's start):
//
//	set-limit sku= limit=                 (every shard)
//	put-item shard= sku= store= stock=
//	reserve shard= sku= store= cust= qty= [key=] [claim= dl=]
//	claim shard= cust= sku= qty= limit= claim= item-shard= dl=
//	resolve shard= claim= [code=]         anchor|release-claim shard= claim= [dl=]
//	confirm|cancel shard= id=             expire                (every shard)
//	get-claim shard= claim=               claim-hold shard= claim=
//	outbox shard=                         deliver from= to= [lose-first] [twice] [no-trim]
//	sweep shard=                          (its home sweep, then its item sweep)
//	home cust=                            (which shard is the customer's home)
package engine

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

const scShards = 3

type scCluster struct {
	e  [scShards]*Engine
	at time.Duration
}

func newSCCluster() *scCluster {
	c := &scCluster{}
	for i := range c.e {
		c.e[i] = New(Config{ShardID: uint16(i), Shards: scShards, PickupSecret: tbSecret})
	}
	return c
}

func TestClaimScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/claims", func(t *testing.T, path string) {
		c := newSCCluster()
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			out, err := c.run(td)
			if err != nil {
				td.Fatalf(t, "%v", err)
			}
			for i, e := range c.e {
				if err := e.CheckInvariants(); err != nil {
					td.Fatalf(t, "shard %d: invariants broken after this step: %v", i, err)
				}
			}
			return out
		})
		for i, e := range c.e {
			a := tbSnapBytes(e)
			r, err := Restore(e.Config(), bytes.NewReader(a))
			if err != nil || !bytes.Equal(tbSnapBytes(r), a) {
				t.Fatalf("shard %d: the restored state differs (%v)", i, err)
			}
		}
	})
}

func (c *scCluster) now() int64 { return tbT0 + int64(c.at) }

// apply runs one command on a shard at the story's time.
func (c *scCluster) apply(sh int, cmd Command) Result {
	res, _ := c.e[sh].Apply(c.now(), []Command{cmd})
	return res[0]
}

func (c *scCluster) run(td *datadriven.TestData) (string, error) {
	a := tdArgs(td)
	s := &scenario{at: c.at}
	if err := s.advance(a); err != nil {
		return "", err
	}
	c.at = s.at
	sh64, _ := a.int("shard", 0)
	sh := int(sh64)
	if sh < 0 || sh >= scShards {
		return "", fmt.Errorf("shard=%d", sh)
	}
	switch td.Cmd {
	case "home":
		return fmt.Sprintf("shard %d\n", CustomerShard([]byte(a["cust"]), scShards)), nil
	case "expire":
		var out strings.Builder
		for i := range c.e {
			_, evs := c.e[i].Apply(c.now(), []Command{{Op: OpExpire}})
			for _, ev := range evs {
				fmt.Fprintf(&out, "shard %d: %s\n", i, tbFmtEvent(ev))
			}
		}
		return out.String(), nil
	case "set-limit":
		// The SKU's limit on every shard, as the operator's set_limit fans out.
		n, err := a.int("limit", 0)
		for i := range c.e {
			if r := c.apply(i, Command{Op: OpSetLimit, SKU: []byte(a["sku"]), Limit: n}); r.Code != OK {
				return "", fmt.Errorf("set_limit on shard %d: %v", i, r.Code)
			}
		}
		return "ok\n", err
	case "outbox":
		return c.outbox(sh), nil
	case "deliver":
		return c.deliver(a)
	case "sweep":
		return c.sweep(sh), nil
	}
	cmd, show, err := c.command(td.Cmd, a)
	if err != nil {
		return "", err
	}
	return show(c.apply(sh, cmd)) + "\n", nil
}

// deadline reads dl= as a time of the story (+ relative to now).
func (c *scCluster) deadline(a scArgs) (int64, error) {
	v, ok := a["dl"]
	if !ok {
		return 0, nil
	}
	rel := strings.HasPrefix(v, "+")
	d, err := scArgs{"dl": strings.TrimPrefix(v, "+")}.dur("dl", 0)
	if rel {
		d += c.at
	}
	return tbT0 + int64(d), err
}

// command builds one command and the way to print its reply.
func (c *scCluster) command(name string, a scArgs) (Command, func(Result) string, error) {
	dl, err := c.deadline(a)
	num := func(k string) int64 {
		n, e := a.int(k, 0)
		if err == nil {
			err = e
		}
		return n
	}
	b := func(k string) []byte {
		if v, ok := a[k]; ok {
			return []byte(v)
		}
		return nil
	}
	id := MakeID(uint16(num("shard")), uint64(num("id")))
	show := scFmtRes
	var cmd Command
	switch name {
	case "put-item":
		cmd = Command{Op: OpPutItem, SKU: b("sku"), Store: b("store"), Stock: num("stock")}
		show = func(r Result) string { return tbFmtResult(r) }
	case "reserve":
		cmd = Command{Op: OpReserve, SKU: b("sku"), Store: b("store"), Customer: b("cust"), Qty: num("qty"), Key: b("key"),
			Claim: b("claim"), Deadline: dl}
	case "claim":
		cmd = Command{Op: OpClaim, Customer: b("cust"), SKU: b("sku"), Qty: num("qty"), Limit: num("limit"), Claim: b("claim"),
			ItemShard: uint16(num("item-shard")), Deadline: dl}
		show = tbFmtClaim
	case "resolve":
		code, ok := ParseCode(a["code"])
		if !ok {
			code = OK
		}
		cmd = Command{Op: OpResolveClaim, Claim: b("claim"), ClaimCode: code}
	case "anchor", "get-claim":
		op := map[string]Op{"anchor": OpAnchorClaim, "get-claim": OpGetClaim}[name]
		cmd, show = Command{Op: op, Claim: b("claim")}, tbFmtClaim
	case "release-claim":
		cmd, show = Command{Op: OpReleaseClaim, Claim: b("claim"), Deadline: dl}, scFmtDone
	case "claim-hold":
		cmd = Command{Op: OpGetClaimHold, Claim: b("claim")}
	case "confirm", "cancel":
		cmd = Command{Op: map[string]Op{"confirm": OpConfirm, "cancel": OpCancel}[name], ID: id}
	default:
		return cmd, nil, fmt.Errorf("unknown command %q", name)
	}
	return cmd, show, err
}

// scFmtRes prints a reservation result, and the claim it names while the
// hold is provisional.
func scFmtRes(r Result) string {
	s := tbFmtResult(r)
	if r.State != 0 {
		s = strings.Replace(s, fmt.Sprintf("id=%d ", SeqOfID(r.ID)), fmt.Sprintf("id=%d@%d ", SeqOfID(r.ID), ShardOfID(r.ID)), 1)
	}
	if r.Code == CodeClaimRequired && r.Qty != 0 {
		s += fmt.Sprintf(" limit=%d", r.Qty)
	}
	if r.Reservation != nil && r.Reservation.Provisional {
		s += " provisional claim=" + r.Reservation.Claim
	}
	return s
}

// scFmtDone prints a release's result: the units it gave back.
func scFmtDone(r Result) string {
	if r.Code != OK {
		return "refused " + r.Code.String()
	}
	return fmt.Sprintf("released %d", r.Qty)
}

func (c *scCluster) outbox(sh int) string {
	var out strings.Builder
	for _, q := range c.e[sh].OutboxPending() {
		fmt.Fprintf(&out, "to shard %d, delivered %d:", q.To, q.Delivered)
		for _, m := range c.e[sh].Outbox(q.To, 100) {
			fmt.Fprintf(&out, " %d=%v(%s)", m.Seq, m.Op, m.Claim)
		}
		out.WriteString("\n")
	}
	if out.Len() == 0 {
		return "empty\n"
	}
	return out.String()
}

// deliver sends from's pending messages to `to` as one group, as faults
// say, and trims what the destination took.
func (c *scCluster) deliver(a scArgs) (string, error) {
	from, err1 := a.int("from", 0)
	to, err2 := a.int("to", 0)
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("from= to=")
	}
	var cmds []Command
	for _, m := range c.e[from].Outbox(uint16(to), 100) {
		cmds = append(cmds, m.Command(uint16(from)))
	}
	if a.has("lose-first") && len(cmds) > 0 {
		cmds = cmds[1:]
	}
	var out strings.Builder
	var upTo uint64
	for round := 0; round < 1+btoi(a.has("twice")); round++ {
		res, _ := c.e[to].Apply(c.now(), cmds)
		upTo = 0
		for i, r := range res {
			fmt.Fprintf(&out, "%d: %s\n", cmds[i].Seq, scFmtDone(r))
			if r.Code == CodeOutOfOrder {
				break
			}
			upTo = cmds[i].Seq
		}
	}
	if upTo > 0 && !a.has("no-trim") {
		r := c.apply(int(from), Command{Op: OpDelivered, ToShard: uint16(to), Seq: upTo})
		fmt.Fprintf(&out, "trimmed %d: %s\n", upTo, tbFmtResult(r))
	}
	return out.String(), nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sweep runs shard sh's two sweeps past every deadline less ClaimMargin.
func (c *scCluster) sweep(sh int) string {
	var out strings.Builder
	until := c.now() - int64(ClaimMargin)
	for _, d := range c.e[sh].ClaimsDue(until, 100) {
		hold := c.e[d.ItemShard].Read(&Command{Op: OpGetClaimHold, Claim: []byte(d.Key)})
		cmd := SweepClaim(&d, &hold)
		r := c.apply(sh, cmd)
		switch {
		case cmd.Op == OpAnchorClaim:
			fmt.Fprintf(&out, "claim %s: hold %d@%d found: %s\n", d.Key, SeqOfID(hold.ID), d.ItemShard, tbFmtClaim(r))
		case cmd.Deadline == 0:
			fmt.Fprintf(&out, "claim %s: hold %d@%d ended (%s): released %d\n", d.Key, SeqOfID(hold.ID), d.ItemShard, hold.State, r.Qty)
		default:
			fmt.Fprintf(&out, "claim %s: no hold on shard %d: released %d\n", d.Key, d.ItemShard, r.Qty)
		}
	}
	for _, h := range c.e[sh].ProvisionalDue(until, 100) {
		g := c.e[CustomerShard([]byte(h.Customer), scShards)].Read(&Command{Op: OpGetClaim, Claim: []byte(h.Claim)})
		cmd, ok := SweepHold(&h, &g)
		if !ok {
			fmt.Fprintf(&out, "hold %d@%d (%s): home says %s: nothing proposed\n", SeqOfID(h.ID), sh, h.Claim, tbFmtClaim(g))
			continue
		}
		r := c.apply(sh, cmd)
		fmt.Fprintf(&out, "hold %d@%d (%s): home says %s: %s\n", SeqOfID(h.ID), sh, h.Claim, tbFmtClaim(g), scFmtRes(r))
	}
	if out.Len() == 0 {
		return "nothing due\n"
	}
	return out.String()
}
