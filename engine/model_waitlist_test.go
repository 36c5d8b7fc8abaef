// What this file is: the reference model's fair waitlist (docs/adr/0105),
// which TestModelRandom compares with the engine's (waitlist.go,
// waitlist_promote.go) result by result: join, leave, get, the entries'
// TTL, and the promotion of a line's head once a command frees units.
//
// How it stays obviously correct: a line is a plain slice per item, head
// first; a customer's lines are counted by scanning every line; expiry
// scans every entry; the items whose units a command freed are a list
// taken last first, as the engine takes them.
package engine

import "sort"

// refWait is one customer's entry in one item's line.
type refWait struct {
	id        uint64 // join order in the shard (ties of the same expiry end in it)
	cust      string
	qty       int64
	expiresAt int64
}

// refLinesOf counts the lines a customer stands in.
func (m *refModel) refLinesOf(cust string) int {
	n := 0
	for _, line := range m.lines {
		for _, w := range line {
			if w.cust == cust {
				n++
			}
		}
	}
	return n
}

func refPlace(line []refWait, cust string) int {
	for i, w := range line {
		if w.cust == cust {
			return i
		}
	}
	return -1
}

// markFreed notes units freed of an item that has a line.
func (m *refModel) markFreed(k refItemKey) {
	if len(m.lines[k]) > 0 {
		m.freed = append(m.freed, k)
	}
}

// removeWait takes the entry at i out of an item's line.
func (m *refModel) removeWait(k refItemKey, i int) refWait {
	line := m.lines[k]
	w := line[i]
	line = append(line[:i:i], line[i+1:]...)
	if len(line) == 0 {
		delete(m.lines, k)
	} else {
		m.lines[k] = line
	}
	return w
}

// waitResult is the line's length and the customer's place, with its
// entry's units and expiry.
func (m *refModel) waitResult(k refItemKey, cust string) Result {
	line := m.lines[k]
	info := WaitlistInfo{Length: int64(len(line))}
	var r Result
	if i := refPlace(line, cust); i >= 0 {
		info.Position = int64(i + 1)
		r.Qty, r.ExpiresAt = line[i].qty, line[i].expiresAt
	}
	r.Waitlist = &info
	return r
}

func (m *refModel) joinWaitlist(c *Command) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) || !refValidID(c.Customer) ||
		c.Qty <= 0 || c.Qty > MaxWaitlistQty || c.TTL < 0 || c.TTL > MaxWaitlistTTL || c.Window != 0 {
		return refBad(CodeBadRequest)
	}
	k := refItemKey{string(c.SKU), string(c.Store)}
	it := m.items[k]
	if it == nil {
		return refBad(CodeUnknownItem)
	}
	if len(it.windows) > 0 {
		return refBad(CodeWindowRequired)
	}
	cu := m.customer(string(c.Customer))
	if refPlace(m.lines[k], cu.id) >= 0 {
		return m.waitResult(k, cu.id)
	}
	kept := m.memberKept(it)
	share := int64(0)
	if it.memberTier != 0 && cu.tier >= it.memberTier {
		share = min(c.Qty, kept)
	}
	avail := it.stock - it.promised()
	short := c.Qty > avail || c.Qty-share > max(0, avail-kept)
	limit := m.limits[it.sku]
	switch {
	case cu.blocked:
		return refBad(CodeBlocked)
	case it.opensAt != 0 && m.now < it.opensAt:
		return refBad(CodeNotOpen)
	case it.closesAt != 0 && m.now >= it.closesAt:
		return refBad(CodeClosed)
	case limit > 0 && m.owned[[2]string{cu.id, it.sku}]+c.Qty > limit:
		return refBad(CodeLimitExceeded)
	case len(m.lines[k]) == 0 && !short:
		return refBad(CodeWrongState)
	case len(m.lines[k]) >= MaxWaitlistPerItem || m.refLinesOf(cu.id) >= MaxWaitlistPerCustomer:
		return refBad(CodeTooMany)
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultWaitlistTTL
	}
	m.waitSeq++
	m.joined++
	m.lines[k] = append(m.lines[k], refWait{id: m.waitSeq, cust: cu.id, qty: c.Qty, expiresAt: m.now + int64(ttl)})
	return m.waitResult(k, cu.id)
}

func (m *refModel) leaveWaitlist(c *Command) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) || !refValidID(c.Customer) {
		return refBad(CodeBadRequest)
	}
	k := refItemKey{string(c.SKU), string(c.Store)}
	if m.items[k] == nil {
		return refBad(CodeUnknownItem)
	}
	i := refPlace(m.lines[k], string(c.Customer))
	if i < 0 {
		return refBad(CodeNotFound)
	}
	w := m.removeWait(k, i)
	if i == 0 {
		m.markFreed(k)
	}
	r := m.waitResult(k, w.cust)
	r.Qty = w.qty
	return r
}

func (m *refModel) getWaitlist(c *Command) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) || len(c.Customer) > MaxIDBytes {
		return refBad(CodeBadRequest)
	}
	k := refItemKey{string(c.SKU), string(c.Store)}
	if m.items[k] == nil {
		return refBad(CodeUnknownItem)
	}
	if m.custs[string(c.Customer)] == nil {
		return Result{Waitlist: &WaitlistInfo{Length: int64(len(m.lines[k]))}}
	}
	return m.waitResult(k, string(c.Customer))
}

// waitReplay is a replayed join's or leave's answer: the stored result
// with the line as it stands now.
func (m *refModel) waitReplay(c *Command, res Result) Result {
	k := refItemKey{string(c.SKU), string(c.Store)}
	if m.items[k] == nil || m.custs[string(c.Customer)] == nil {
		return res
	}
	res.Waitlist = m.waitResult(k, string(c.Customer)).Waitlist
	return res
}

// expireWaits ends the entries whose TTL has passed, earliest first.
func (m *refModel) expireWaits() {
	type due struct {
		k refItemKey
		w refWait
	}
	var ds []due
	for k, line := range m.lines {
		for _, w := range line {
			if w.expiresAt <= m.now {
				ds = append(ds, due{k, w})
			}
		}
	}
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].w.expiresAt != ds[j].w.expiresAt {
			return ds[i].w.expiresAt < ds[j].w.expiresAt
		}
		return ds[i].w.id < ds[j].w.id
	})
	for _, d := range ds {
		i := refPlace(m.lines[d.k], d.w.cust)
		m.removeWait(d.k, i)
		if i == 0 {
			m.markFreed(d.k)
		}
	}
}

// promoteFreed promotes the heads of the lines of the items marked freed,
// the last marked first.
func (m *refModel) promoteFreed() {
	for len(m.freed) > 0 {
		k := m.freed[len(m.freed)-1]
		m.freed = m.freed[:len(m.freed)-1]
		m.promoteLine(k)
	}
}

// promoteLine turns heads into holds while the units are there: sold_out
// and not_open end the round, other refusals drop the head.
func (m *refModel) promoteLine(k refItemKey) {
	for len(m.lines[k]) > 0 {
		head := m.lines[k][0]
		if head.expiresAt <= m.now {
			m.removeWait(k, 0)
			continue
		}
		c := Command{Op: OpReserve, SKU: []byte(k.sku), Store: []byte(k.store), Customer: []byte(head.cust),
			Qty: head.qty, TTL: m.cfg.WaitlistHoldTTL}
		switch r := m.reserveFrom(&c, true); r.Code {
		case CodeSoldOut, CodeNotOpen:
			return
		case OK:
			m.promoted++
			m.removeWait(k, 0)
		default:
			m.removeWait(k, 0)
		}
	}
}
