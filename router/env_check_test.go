// How the router's scripts print commands, answers and state, and the
// checks they run over every shard: no customer over a SKU's limit
// (counting the claims on the customer's shard), no item over its stock.
package router

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// fmtID prints a reservation id as s<shard>:<seq>.
func fmtID(id uint64) string { return fmt.Sprintf("s%d:%d", engine.ShardOfID(id), engine.SeqOfID(id)) }

// fmtAt prints a time of the shards as its offset from the script's start.
func fmtAt(ns int64) string {
	d := time.Duration(ns - envT0.UnixNano())
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// fmtCmd prints a command's op and the fields it carries (never a claim's
// key, which may be random: only that it carries one).
func fmtCmd(c *engine.Command) string {
	var b strings.Builder
	b.WriteString(c.Op.String())
	add := func(k string, v any) { fmt.Fprintf(&b, " %s=%v", k, v) }
	if c.SKU != nil {
		add("sku", string(c.SKU))
	}
	if c.Store != nil {
		add("store", string(c.Store))
	}
	if c.Customer != nil {
		add("cust", string(c.Customer))
	}
	if c.ID != 0 && c.Op != engine.OpRegisterKey { // register_key's id is a fingerprint: not printed
		add("id", fmtID(c.ID))
	}
	if c.Qty != 0 {
		add("qty", c.Qty)
	}
	if c.Stock != 0 {
		add("stock", c.Stock)
	}
	if c.Limit != 0 {
		add("limit", c.Limit)
	}
	if c.TTL != 0 {
		add("ttl", c.TTL)
	}
	if c.Tier != 0 {
		add("tier", c.Tier)
	}
	if c.Key != nil {
		add("key", string(c.Key))
	}
	if c.PickupCode != 0 && c.ID == 0 {
		b.WriteString(" by-code")
	}
	if c.Claim != nil {
		b.WriteString(" +claim")
	}
	if c.Deadline != 0 {
		add("dl", fmtAt(c.Deadline))
	}
	if c.Op == engine.OpClaim || c.Op == engine.OpRegisterKey {
		add("for", fmt.Sprintf("s%d", c.ItemShard))
	}
	if c.ClaimCode != engine.OK {
		add("code", c.ClaimCode)
	}
	if c.FromShard != 0 || c.Seq != 0 && c.Op != engine.OpDelivered {
		add("from", c.FromShard)
		add("seq", c.Seq)
	}
	if c.Op == engine.OpDelivered {
		add("to", c.ToShard)
		add("seq", c.Seq)
	}
	if c.Linked {
		b.WriteString(" linked")
	}
	return b.String()
}

// outcome prints a request's answer: its result, or its error.
func (e *env) outcome(op engine.Op, r *engine.Result, err error) string {
	if err != nil {
		return fmtErr(err)
	}
	if r.Code != engine.OK {
		s := "refused " + r.Code.String()
		if r.Code == engine.CodeClaimRequired && r.Reservation == nil {
			s += fmt.Sprintf(" limit=%d", r.Qty)
		}
		return s
	}
	switch op {
	case engine.OpReserve, engine.OpExtend, engine.OpConfirm, engine.OpCancel, engine.OpPickup,
		engine.OpReturn, engine.OpReschedule, engine.OpUnlock:
		s := fmt.Sprintf("%s id=%s qty=%d", r.State, fmtID(r.ID), r.Qty)
		if r.ExpiresAt != 0 {
			s += " expires=" + fmtAt(r.ExpiresAt)
		}
		return s
	case engine.OpClaim, engine.OpAnchorClaim, engine.OpGetClaim:
		if r.ExpiresAt == 0 {
			return fmt.Sprintf("accepted units=%d", r.Qty)
		}
		return fmt.Sprintf("accepted units=%d pending until %s", r.Qty, fmtAt(r.ExpiresAt))
	case engine.OpReleaseClaim:
		return fmt.Sprintf("ok released=%d", r.Qty)
	case engine.OpDelivered:
		return fmt.Sprintf("ok trimmed=%d", r.Qty)
	case engine.OpResolveClaim, engine.OpGetClaimHold:
		if r.ID == 0 && r.State != 0 {
			return fmt.Sprintf("waitlist entry qty=%d", r.Qty) // an entry in line carries the claim
		}
		if r.ID == 0 {
			return "ok (no hold)"
		}
		return fmt.Sprintf("%s id=%s qty=%d", r.State, fmtID(r.ID), r.Qty)
	case engine.OpJoinWaitlist, engine.OpLeaveWaitlist, engine.OpGetWaitlist:
		if r.Waitlist == nil {
			return "ok (no line)"
		}
		return fmt.Sprintf("line len=%d pos=%d", r.Waitlist.Length, r.Waitlist.Position)
	case engine.OpGetItem:
		return fmtItem(r.Item)
	case engine.OpGetReservation:
		i := r.Reservation
		return fmt.Sprintf("%s %s %s/%s cust=%s qty=%d claim=%s", fmtID(i.ID), i.State, i.SKU, i.Store, i.Customer,
			i.Qty, claimState(i))
	case engine.OpGetCustomer:
		c := r.Customer
		return fmt.Sprintf("customer %s tier=%d blocked=%v open=%d", c.ID, c.Tier, c.Blocked, c.Open)
	case engine.OpListReservations:
		var ids []string
		for _, i := range r.Reservations {
			ids = append(ids, fmtID(i.ID)+"/"+i.State.String())
		}
		return fmt.Sprintf("%d reservations %v", len(ids), ids)
	case engine.OpStoresWithStock:
		var ss []string
		for _, s := range r.Stores {
			ss = append(ss, fmt.Sprintf("%s:%d", s.Store, s.Available))
		}
		return fmt.Sprintf("stores %v", ss)
	case engine.OpListItems:
		var is []string
		for _, i := range r.Items {
			is = append(is, fmt.Sprintf("%s/%s", i.SKU, i.Store))
		}
		return fmt.Sprintf("%d items %v", len(is), is)
	}
	return "ok"
}

func fmtItem(i *engine.ItemInfo) string {
	s := fmt.Sprintf("item %s/%s stock=%d held=%d confirmed=%d available=%d", i.SKU, i.Store, i.Stock, i.Held,
		i.Confirmed, i.Available)
	if i.Limit > 0 {
		s += fmt.Sprintf(" limit=%d", i.Limit)
	}
	return s
}

func fmtErr(err error) string {
	var nl *NotLeaderError
	var rf *Refusal
	switch {
	case errors.As(err, &nl) && nl.Addr != "":
		return fmt.Sprintf("not_leader shard=%d leader=node-%d at %s", nl.Shard, nl.NodeID, nl.Addr)
	case errors.As(err, &nl):
		return fmt.Sprintf("not_leader shard=%d (leader unknown)", nl.Shard)
	case errors.As(err, &rf):
		return "error " + rf.Code.String() + ": " + rf.Msg
	case errors.Is(err, errDropped):
		return "unknown: " + err.Error()
	}
	return "error: " + err.Error()
}

func fmtEvent(ev *engine.Event) string {
	if ev.ID != 0 {
		return fmt.Sprintf("id=%s %s/%s cust=%s qty=%d", fmtID(ev.ID), ev.SKU, ev.Store, ev.Customer, ev.Qty)
	}
	return fmt.Sprintf("cust=%s sku=%s qty=%d", ev.Customer, ev.SKU, ev.Qty)
}

// claimState prints a reservation's claim: none, provisional or firm.
func claimState(r *engine.ReservationInfo) string {
	switch {
	case r.Claim == "":
		return "none"
	case r.Provisional:
		return "provisional"
	}
	return "resolved"
}

// where prints the shard of an item or a customer.
func (e *env) where(a envArgs) {
	n := len(e.shards)
	if c, ok := a["cust"]; ok {
		fmt.Fprintf(e.out, "customer %s: home shard %d\n", c, protocol.ShardOfCustomer([]byte(c), n))
		return
	}
	for _, st := range strings.Split(a["stores"], ",") {
		fmt.Fprintf(e.out, "%s/%s: shard %d\n", a["sku"], st, protocol.ShardOf([]byte(a["sku"]), []byte(st), n))
	}
}

// active reports whether a reservation's units count against the limit.
func active(s engine.State) bool { return s.Active() }

// checkLimits checks, for every customer and limited SKU: the units the
// customer holds, has confirmed or picked up over every shard stay within
// the limit; on the customer's own shard, its own units plus the units it
// claimed stay within the limit; and every unit held in another shard is
// covered by a claim (a claim may outlive its hold, never the reverse).
func (e *env) checkLimits() {
	if e.limitsBroken() == 0 {
		fmt.Fprintln(e.out, "limits hold")
	}
}

// limitsBroken prints every customer and SKU over its limit and returns
// how many (the scripts' every step runs it).
func (e *env) limitsBroken() int {
	bad := 0
	for _, cust := range e.customers {
		home := protocol.ShardOfCustomer([]byte(cust), len(e.shards))
		for _, sku := range slices.Sorted(mapKeys(e.limits)) {
			limit := e.limits[sku]
			if limit == 0 {
				continue
			}
			var total, away int64
			for _, s := range e.shards {
				rs := s.eng.Read(&engine.Command{Op: engine.OpListReservations, Customer: []byte(cust)})
				for _, r := range rs.Reservations {
					// A provisional hold is not the customer's until its
					// claim is resolved: it cannot be confirmed (docs/adr/0070).
					if r.SKU == sku && active(r.State) && !r.Provisional {
						total += r.Qty
						if s.id != home {
							away += r.Qty
						}
					}
				}
			}
			claimed := e.claims[envClaimKey{shard: home, cust: cust, sku: sku}]
			if total > limit || total-away+claimed > limit || away > claimed {
				bad++
				fmt.Fprintf(e.out, "limits broken: %s/%s: %d units (%d away, %d claimed), limit %d\n", cust, sku, total, away, claimed, limit)
			}
		}
	}
	return bad
}

// checkStock checks every item of every shard: never more promised than
// stocked.
func (e *env) checkStock() {
	bad := 0
	for _, s := range e.shards {
		items := s.eng.Read(&engine.Command{Op: engine.OpListItems})
		for _, i := range items.Items {
			if i.Held+i.Confirmed+i.PickedUp > i.Stock || i.Available < 0 {
				bad++
				fmt.Fprintf(e.out, "shard %d: %s\n", s.id, fmtItem(&i))
			}
		}
	}
	if bad == 0 {
		fmt.Fprintln(e.out, "stock holds")
	}
}

// state prints what matters of one shard: its leader and queue, its items,
// the reservations of the customers named so far, the claims it keeps and
// the releases it has queued.
func (e *env) state(s *envShard) {
	fmt.Fprintf(e.out, "shard %d: leader n%d, %d queued\n", s.id, s.leader, len(s.queue))
	for _, i := range s.eng.Read(&engine.Command{Op: engine.OpListItems}).Items {
		fmt.Fprintf(e.out, "  %s\n", fmtItem(&i))
	}
	for _, cust := range e.customers {
		for _, r := range s.eng.Read(&engine.Command{Op: engine.OpListReservations, Customer: []byte(cust)}).Reservations {
			fmt.Fprintf(e.out, "  %s %s %s/%s cust=%s qty=%d claim=%s\n", fmtID(r.ID), r.State, r.SKU, r.Store,
				r.Customer, r.Qty, claimState(&r))
		}
	}
	for _, k := range slices.SortedFunc(mapKeys(e.claims), func(a, b envClaimKey) int {
		return strings.Compare(a.cust+"/"+a.sku, b.cust+"/"+b.sku)
	}) {
		if k.shard == s.id && e.claims[k] != 0 {
			fmt.Fprintf(e.out, "  claims %s/%s: %d units\n", k.cust, k.sku, e.claims[k])
		}
	}
	for _, q := range s.eng.OutboxPending() {
		for _, m := range s.eng.Outbox(q.To, 64) {
			fmt.Fprintf(e.out, "  outbox to s%d: #%d %s of %s (%s)\n", q.To, m.Seq, m.Op, fmtID(m.ID), m.Customer)
		}
	}
}
