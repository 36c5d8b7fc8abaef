// Scenario tests: stories of the shop, told as datadriven files in
// testdata/scenarios/ (flash sale, pickup windows, member share, no-shows,
// pickup lockout, carts, rescheduling, returns, retries, expiry).
//
// What they prove: a whole sequence of storefront and operator commands
// gives, step by step, exactly the replies and reads written under each
// command, the shard satisfies CheckInvariants after every step, and the
// final state of each story survives Snapshot and Restore byte for byte.
//
// How: a small interpreter turns each line into engine commands. Arguments
// are key=value; times are offsets from the start of the story (at=10m,
// at=1d2h, or at=+5m relative to the previous command; without at= a
// command runs at the previous command's time). Reservation ids are the
// shard's sequence numbers (id=1 is the first reservation). Durations print
// the same way (expires=10m, pickup-by=7d). A pickup code is given as
// code=right (the reservation's code, recomputed independently of the
// engine), code=wrong, or digits; `pickup store=S1 code-of=1` scans the code
// of reservation 1 alone, without its id. When time moves forward, what
// became due expires first, and those events print before the reply.
//
// Commands:
//
//	config hold= max-hold= pickup-period= grace= attempts= no-show-limit= no-show-period=
//	       rate= burst= key-retention= finished-retention=     (a fresh engine)
//	put-item sku= store= stock= [opens=] [closes=] [member-tier= member-units= member-until=] (limit= is refused)
//	put-window sku= store= start= end= quota=
//	put-store store= zone=      put-store-window store= start= end= capacity=
//	restock|adjust-stock sku= store= qty=|delta=
//	sale-window sku= store= [opens=] [closes=]    limit sku= n=   (the SKU's, at every store)
//	member-share sku= store= tier= units= until=
//	block|unblock cust=    set-tier cust= tier=
//	reserve sku= store= cust= qty= [window=] [ttl=] [key=]
//	confirm id= [qty=]   extend id= ttl=   cancel id=   reschedule id= window=
//	pickup [id=] store= code=|code-of=   return id= [restock]   unlock id=
//	expire                                       (prints what expired)
//	cart cust= store= [key=]                     (input: one line per SKU: "A qty=1 [window=] [key=]")
//	batch                                        (input: one command per line, "linked" chains it to the next)
//	item sku= store=   window sku= store= start=   reservation id=   customer cust=
//	reservations cust=   stores sku=   items [sku=]   store store=
//
// Every mutating command also takes key= (idempotency key). Run with
// -rewrite to regenerate the expected output (then read the diff). Store
// windows print their capacity; times stay offsets from the start of the
// story (the zone is the store's to print, not the engine's).
package engine

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

func TestEngineScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		sc := newScenario(Config{})
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			out, err := sc.run(td)
			if err != nil {
				td.Fatalf(t, "%v", err)
			}
			if err := sc.e.CheckInvariants(); err != nil {
				td.Fatalf(t, "invariants broken after this step: %v", err)
			}
			return out
		})
		// The story's final state survives a snapshot: restore gives the same bytes.
		var b1, b2 bytes.Buffer
		if err := sc.e.Snapshot(&b1); err != nil {
			t.Fatal(err)
		}
		e2, err := Restore(sc.e.Config(), bytes.NewReader(b1.Bytes()))
		if err != nil {
			t.Fatalf("restore: %v", err)
		}
		if err := e2.Snapshot(&b2); err != nil || !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Fatalf("snapshot of the restored engine differs (%v)", err)
		}
	})
}

// scenario is one story's engine and clock.
type scenario struct {
	e  *Engine
	at time.Duration // time of the last command, from the start of the story
}

func newScenario(cfg Config) *scenario {
	cfg.ShardID, cfg.PickupSecret = tbShard, tbSecret
	return &scenario{e: New(cfg)}
}

// scArgs are a command's key=value arguments; a bare word has the value "".
type scArgs map[string]string

func (a scArgs) has(k string) bool { _, ok := a[k]; return ok }

func (a scArgs) str(k string) (string, error) {
	v, ok := a[k]
	if !ok {
		return "", fmt.Errorf("missing %s=", k)
	}
	return v, nil
}

func (a scArgs) int(k string, def int64) (int64, error) {
	v, ok := a[k]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a number", k, v)
	}
	return n, nil
}

// dur parses a duration argument ("10m", "1d2h"); def if absent.
func (a scArgs) dur(k string, def time.Duration) (d time.Duration, err error) {
	v, ok := a[k]
	if !ok {
		return def, nil
	}
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("%s=%q: not a duration", k, v)
		}
	}()
	return tbDur(v), nil
}

// time parses a point in time of the story as an absolute log time; 0 if absent.
func (a scArgs) time(k string) (int64, error) {
	if !a.has(k) {
		return 0, nil
	}
	d, err := a.dur(k, 0)
	return tbT0 + int64(d), err
}

func (a scArgs) id(k string) (uint64, error) {
	n, err := a.int(k, -1)
	if err == nil && n < 0 {
		err = fmt.Errorf("missing %s=", k)
	}
	return MakeID(tbShard, uint64(n)), err
}

func parseLine(line string) (string, scArgs) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", nil
	}
	args := scArgs{}
	for _, w := range f[1:] {
		k, v, _ := strings.Cut(w, "=")
		args[k] = v
	}
	return f[0], args
}

func tdArgs(td *datadriven.TestData) scArgs {
	args := scArgs{}
	for _, a := range td.CmdArgs {
		args[a.Key] = strings.Join(a.Vals, ",")
	}
	return args
}

// advance sets the story's clock from at= ("+5m" is relative).
func (s *scenario) advance(args scArgs) error {
	v, ok := args["at"]
	if !ok {
		return nil
	}
	rel := strings.HasPrefix(v, "+")
	d, err := scArgs{"at": strings.TrimPrefix(v, "+")}.dur("at", 0)
	if err != nil {
		return err
	}
	if rel {
		d += s.at
	}
	s.at = d
	return nil
}

func (s *scenario) now() int64 { return tbT0 + int64(s.at) }

// expireDue runs an empty batch if time moved forward, and prints what expired.
func (s *scenario) expireDue(out *strings.Builder) {
	if s.now() <= s.e.Now() {
		return
	}
	_, evs := s.e.Apply(s.now(), nil)
	for _, ev := range evs {
		out.WriteString(tbFmtEvent(ev) + "\n")
	}
}

func (s *scenario) run(td *datadriven.TestData) (string, error) {
	args := tdArgs(td)
	if err := s.advance(args); err != nil {
		return "", err
	}
	var out strings.Builder
	switch td.Cmd {
	case "config":
		return s.config(args)
	case "expire":
		_, evs := s.e.Apply(s.now(), []Command{{Op: OpExpire}})
		for _, ev := range evs {
			out.WriteString(tbFmtEvent(ev) + "\n")
		}
		if len(evs) == 0 {
			return "nothing due\n", nil
		}
		return out.String(), nil
	case "cart", "batch":
		s.expireDue(&out)
		err := s.multi(td.Cmd, args, td.Input, &out)
		return out.String(), err
	}
	if r, ok, err := s.read(td.Cmd, args); ok || err != nil {
		return r, err
	}
	c, show, err := s.command(td.Cmd, args)
	if err != nil {
		return "", err
	}
	s.expireDue(&out)
	res, _ := s.e.Apply(s.now(), []Command{c})
	out.WriteString(show(res[0]) + "\n")
	return out.String(), nil
}

func (s *scenario) config(a scArgs) (string, error) {
	var cfg Config
	var err error
	set := func(p *time.Duration, k string) {
		if err == nil {
			*p, err = a.dur(k, 0)
		}
	}
	set(&cfg.DefaultHoldTTL, "hold")
	set(&cfg.MaxHold, "max-hold")
	set(&cfg.PickupPeriod, "pickup-period")
	set(&cfg.PickupGrace, "grace")
	set(&cfg.NoShowPeriod, "no-show-period")
	set(&cfg.IdempotencyRetention, "key-retention")
	set(&cfg.FinishedRetention, "finished-retention")
	for _, x := range []struct {
		p *int
		k string
	}{{&cfg.MaxPickupAttempts, "attempts"}, {&cfg.NoShowLimit, "no-show-limit"}, {&cfg.RateBurst, "burst"}} {
		n, e := a.int(x.k, 0)
		if e != nil {
			err = e
		}
		*x.p = int(n)
	}
	if v, ok := a["rate"]; ok {
		cfg.RatePerSecond, err = strconv.ParseFloat(v, 64)
	}
	if err != nil {
		return "", err
	}
	*s = *newScenario(cfg)
	c := s.e.Config()
	return fmt.Sprintf("ok hold=%s max-hold=%s pickup-period=%s attempts=%d no-show-limit=%d/%s\n",
		tbFmtDur(c.DefaultHoldTTL), tbFmtDur(c.MaxHold), tbFmtDur(c.PickupPeriod), c.MaxPickupAttempts,
		c.NoShowLimit, tbFmtDur(c.NoShowPeriod)), nil
}

// command builds a mutating command and the way to print its reply.
func (s *scenario) command(name string, a scArgs) (Command, func(Result) string, error) {
	var c Command
	var err error
	str := func(k string) []byte {
		v, e := a.str(k)
		if err == nil {
			err = e
		}
		return []byte(v)
	}
	num := func(k string, def int64) int64 {
		n, e := a.int(k, def)
		if err == nil {
			err = e
		}
		return n
	}
	when := func(k string) int64 {
		t, e := a.time(k)
		if err == nil {
			err = e
		}
		return t
	}
	ident := func() uint64 {
		v, e := a.id("id")
		if err == nil {
			err = e
		}
		return v
	}
	item := func() { c.SKU, c.Store = str("sku"), str("store") }
	show := tbFmtResult
	showItem := func(r Result) string {
		if r.Code != OK {
			return tbFmtResult(r)
		}
		return "ok " + tbFmtItem(scItemLine(r.Item))
	}
	showCust := func(r Result) string {
		if r.Code != OK {
			return tbFmtResult(r)
		}
		return "ok " + tbFmtCustomer(*r.Customer)
	}
	switch name {
	case "reserve":
		c = Command{Op: OpReserve, Customer: str("cust"), Qty: num("qty", 0), Window: when("window")}
		item()
		c.TTL, err = a.dur("ttl", 0)
	case "confirm":
		c = Command{Op: OpConfirm, ID: ident(), Qty: num("qty", 0)}
	case "extend":
		c = Command{Op: OpExtend, ID: ident()}
		c.TTL, err = a.dur("ttl", 0)
	case "cancel":
		c = Command{Op: OpCancel, ID: ident()}
	case "pickup":
		c = Command{Op: OpPickup, Store: str("store")}
		if a.has("code-of") {
			var n int64
			n, err = a.int("code-of", 0)
			c.PickupCode = tbPin(uint64(n))
			break
		}
		c.ID = ident()
		switch v := a["code"]; v {
		case "right":
			c.PickupCode = tbPin(SeqOfID(c.ID))
		case "wrong":
			c.PickupCode = (tbPin(SeqOfID(c.ID)) + 1) % 1_000_000_000_000
		default:
			c.PickupCode = uint64(num("code", 0))
		}
	case "reschedule":
		c = Command{Op: OpReschedule, ID: ident(), Window: when("window")}
	case "return":
		c = Command{Op: OpReturn, ID: ident(), Restock: a.has("restock")}
	case "unlock":
		c = Command{Op: OpUnlock, ID: ident()}
	case "put-item":
		c = Command{Op: OpPutItem, Stock: num("stock", 0), Limit: num("limit", 0), OpensAt: when("opens"), ClosesAt: when("closes"),
			MemberTier: uint8(num("member-tier", 0)), MemberUnits: num("member-units", 0), MemberCutoff: when("member-until")}
		item()
		show = showItem
	case "put-window":
		c = Command{Op: OpPutWindow, Window: when("start"), WindowEnd: when("end"), Quota: num("quota", 0)}
		item()
		show = func(r Result) string {
			if r.Code != OK {
				return tbFmtResult(r)
			}
			return "ok window " + tbFmtWindow(*r.WindowInfo)
		}
	case "restock":
		c = Command{Op: OpRestock, Qty: num("qty", 0)}
		item()
		show = showItem
	case "adjust-stock":
		c = Command{Op: OpAdjustStock, Qty: num("delta", 0)}
		item()
		show = showItem
	case "sale-window":
		c = Command{Op: OpSetSaleWindow, OpensAt: when("opens"), ClosesAt: when("closes")}
		item()
		show = showItem
	case "limit":
		c = Command{Op: OpSetLimit, SKU: str("sku"), Limit: num("n", 0)}
		show = func(r Result) string {
			if r.Code != OK {
				return tbFmtResult(r)
			}
			return fmt.Sprintf("ok limit=%d", r.Qty)
		}
	case "put-store":
		c = Command{Op: OpPutStore, Store: str("store"), Zone: []byte(a["zone"])}
		show = scShowStore
	case "put-store-window":
		c = Command{Op: OpPutStoreWindow, Store: str("store"), Window: when("start"), WindowEnd: when("end"), Quota: num("capacity", 0)}
		show = scShowStore
	case "member-share":
		c = Command{Op: OpSetMemberShare, MemberTier: uint8(num("tier", 0)), MemberUnits: num("units", 0), MemberCutoff: when("until")}
		item()
		show = showItem
	case "block", "unblock", "set-tier":
		op := map[string]Op{"block": OpBlock, "unblock": OpUnblock, "set-tier": OpSetTier}[name]
		c = Command{Op: op, Customer: str("cust"), Tier: uint8(num("tier", 0))}
		show = showCust
	default:
		return c, nil, fmt.Errorf("unknown command %q", name)
	}
	if k, ok := a["key"]; ok {
		c.Key = []byte(k)
	}
	c.Linked = a.has("linked")
	return c, show, err
}

// scItemLine is the item without its windows (they print on their own lines).
func scItemLine(it *ItemInfo) ItemInfo {
	x := *it
	x.Windows = nil
	return x
}

// multi runs a cart (linked reserves of one customer at one store) or a
// batch of commands in one Apply.
func (s *scenario) multi(kind string, a scArgs, input string, out *strings.Builder) error {
	var cmds []Command
	var shows []func(Result) string
	var labels []string
	for _, line := range strings.Split(strings.TrimSpace(input), "\n") {
		name, la := parseLine(line)
		if name == "" {
			continue
		}
		label := ""
		if kind == "cart" {
			la["sku"], la["cust"], la["store"] = name, a["cust"], a["store"]
			if p, ok := a["key"]; ok && !la.has("key") {
				la["key"] = p + "-" + name
			}
			la["linked"] = ""
			label, name = la["sku"]+": ", "reserve"
		}
		c, show, err := s.command(name, la)
		if err != nil {
			return fmt.Errorf("%q: %v", line, err)
		}
		cmds, shows, labels = append(cmds, c), append(shows, show), append(labels, label)
	}
	if kind == "cart" && len(cmds) > 0 {
		cmds[len(cmds)-1].Linked = false // the cart's last line closes the group
	}
	res, _ := s.e.Apply(s.now(), cmds)
	for i, r := range res {
		out.WriteString(labels[i] + shows[i](r) + "\n")
	}
	return nil
}

// read serves the read commands; ok is false for other commands.
func (s *scenario) read(name string, a scArgs) (string, bool, error) {
	var c Command
	switch name {
	case "item":
		c = Command{Op: OpGetItem, SKU: []byte(a["sku"]), Store: []byte(a["store"])}
	case "window":
		w, err := a.time("start")
		if err != nil {
			return "", true, err
		}
		c = Command{Op: OpGetWindow, SKU: []byte(a["sku"]), Store: []byte(a["store"]), Window: w}
	case "reservation":
		idv, err := a.id("id")
		if err != nil {
			return "", true, err
		}
		c = Command{Op: OpGetReservation, ID: idv}
	case "customer":
		c = Command{Op: OpGetCustomer, Customer: []byte(a["cust"])}
	case "reservations":
		c = Command{Op: OpListReservations, Customer: []byte(a["cust"])}
	case "stores":
		c = Command{Op: OpStoresWithStock, SKU: []byte(a["sku"])}
	case "items":
		c = Command{Op: OpListItems, SKU: []byte(a["sku"])}
	case "store":
		c = Command{Op: OpGetStore, Store: []byte(a["store"])}
	default:
		return "", false, nil
	}
	var out strings.Builder
	s.expireDue(&out)
	res, _ := s.e.Apply(s.now(), []Command{c})
	r := res[0]
	if r.Code != OK {
		return out.String() + tbFmtResult(r) + "\n", true, nil
	}
	line := func(x string) { out.WriteString(x + "\n") }
	switch name {
	case "item":
		line(tbFmtItem(scItemLine(r.Item)))
		for _, w := range r.Item.Windows {
			line("window " + tbFmtWindow(w))
		}
	case "window":
		line(tbFmtWindow(*r.WindowInfo))
	case "reservation":
		line(tbFmtReservation(*r.Reservation))
	case "customer":
		line(tbFmtCustomer(*r.Customer))
	case "reservations":
		for _, x := range r.Reservations {
			line(tbFmtReservation(x))
		}
		if len(r.Reservations) == 0 {
			line("none")
		}
	case "stores":
		if len(r.Stores) == 0 {
			line("none")
		} else {
			line(tbFmtStores(r.Stores))
		}
	case "store":
		out.WriteString(scFmtStore(r.Store))
	case "items":
		for _, it := range r.Items {
			line(it.SKU + "/" + it.Store + " " + tbFmtItem(scItemLine(&it)))
		}
		if len(r.Items) == 0 {
			line("none")
		}
	}
	return out.String(), true, nil
}

// scFmtStore prints a store: its zone, then a line per window.
func scFmtStore(st *StoreInfo) string {
	var b strings.Builder
	zone := st.Zone
	if zone == "" {
		zone = "none"
	}
	fmt.Fprintf(&b, "%s zone=%s\n", st.Store, zone)
	for _, w := range st.Windows {
		fmt.Fprintf(&b, "window %s..%s capacity=%d used=%d\n", tbAt(w.Start), tbAt(w.End), w.Quota, w.Used)
	}
	return b.String()
}

func scShowStore(r Result) string {
	if r.Code != OK {
		return tbFmtResult(r)
	}
	return "ok " + strings.TrimSuffix(scFmtStore(r.Store), "\n")
}
