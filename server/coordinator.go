package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// The coordinator keeps a customer's per-SKU limit across shards
// (docs/adr/0050). A request runs on its shard as usual; only when the
// item's shard answers claim_required (a limited item of a customer whose
// counters live in another shard, or the confirm or extend of such a hold)
// does the node that received the request take the claim on the customer's
// shard (here or on its leader's node, forward.go), attach the claim's
// proof and run the request again:
//
//   - reserve: claim first (limit_exceeded, blocked: that is the answer),
//     then the hold, which ends before the claim; a refused hold releases
//     the claim at once;
//   - confirm: settle the claim, then confirm;
//   - extend: extend the claim, then the hold.
//
// Cancel, return, expiry and no-show need no coordinator: the item shard
// queues the release and its leader sends it (releaseClaims). A crash at any
// step leaves at most a claim without its hold, which expires, or a settled
// claim whose release is queued: never a hold without its claim.

// coordinateTimeout bounds one coordination: a claim, the command again,
// and perhaps a release, each a commit, and an election.
const coordinateTimeout = 10 * time.Second

// claimRoundsMax bounds how often one group asks for claims: once per
// command of a linked group.
const claimRoundsMax = engine.MaxLinked

// needsCoordinator reports whether a command may come back claim_required.
func needsCoordinator(op engine.Op) bool {
	return op == engine.OpReserve || op == engine.OpConfirm || op == engine.OpExtend
}

type outcome struct {
	r   engine.Result
	err error
}

// run proposes cmd on shard, here or on its leader's node, and waits.
func (s *Server) run(ctx context.Context, shard int, cmd *engine.Command) (engine.Result, error) {
	ch := make(chan outcome, 1)
	if err := s.proposeAny(shard, cmd, func(r engine.Result, err error) { ch <- outcome{r, err} }); err != nil {
		return engine.Result{}, err
	}
	select {
	case o := <-ch:
		return o.r, o.err
	case <-ctx.Done():
		return engine.Result{}, &refusal{engine.CodeTimeout, "a claim step did not finish in time"}
	}
}

// runChain runs cmds (one command, or a linked group) on shard again.
func (s *Server) runChain(ctx context.Context, shard int, cmds []engine.Command) ([]engine.Result, error) {
	if len(cmds) == 1 {
		r, err := s.run(ctx, shard, &cmds[0])
		return []engine.Result{r}, err
	}
	ch := make(chan struct {
		rs  []engine.Result
		err error
	}, 1)
	err := s.proposeGroup(shard, cmds, func(rs []engine.Result, err error) {
		ch <- struct {
			rs  []engine.Result
			err error
		}{append([]engine.Result(nil), rs...), err}
	})
	if err != nil {
		return nil, err
	}
	select {
	case o := <-ch:
		return o.rs, o.err
	case <-ctx.Done():
		return nil, &refusal{engine.CodeTimeout, "a claimed group did not finish in time"}
	}
}

// coordinate takes the claims cmds ask for (rs: their first results, one
// or more claim_required) and runs them again until no claim is missing.
// cmds are the node's own copies: their claim fields are set here.
func (s *Server) coordinate(shard int, cmds []engine.Command, rs []engine.Result) ([]engine.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), coordinateTimeout)
	defer cancel()
	var taken []heldClaim // the reserves' claims, released if the request is refused
	for round := 0; round < claimRoundsMax; round++ {
		i := claimAsked(rs)
		if i < 0 {
			if refused(rs) {
				s.releaseAll(ctx, taken)
			}
			return rs, nil
		}
		code, err := s.claimFor(ctx, &cmds[i], &rs[i])
		if err != nil {
			return nil, err // unknown: a claim taken here expires with its TTL
		}
		switch {
		case code == errRecord:
			// The reserve carries the refusal's proof now: run again, so
			// that its shard keeps the refusal for the reserve's key.
		case code != engine.OK:
			s.releaseAll(ctx, taken)
			return refuseChain(len(cmds), i, code), nil
		case cmds[i].Op == engine.OpReserve:
			taken = append(taken, heldClaim{home: s.homeShard(cmds[i].Customer), key: cmds[i].Claim})
		}
		if rs, err = s.runChain(ctx, shard, cmds); err != nil {
			return nil, err // the hold's outcome is unknown: its claim must stay
		}
	}
	s.releaseAll(ctx, taken)
	return nil, &refusal{engine.CodeInternal, "a request kept asking for claims"}
}

type heldClaim struct {
	home int
	key  []byte
}

func (s *Server) homeShard(customer []byte) int {
	return protocol.ShardOfCustomer(customer, len(s.shards))
}

func claimAsked(rs []engine.Result) int {
	for i := range rs {
		if rs[i].Code == engine.CodeClaimRequired {
			return i
		}
	}
	return -1
}

func refused(rs []engine.Result) bool {
	for i := range rs {
		if rs[i].Code != engine.OK {
			return true
		}
	}
	return false
}

// refuseChain is a group's answer when the claim of its command i was
// refused: that command's code, link_failed for the others.
func refuseChain(n, i int, code engine.Code) []engine.Result {
	rs := make([]engine.Result, n)
	for k := range rs {
		rs[k].Code = engine.CodeLinkFailed
	}
	rs[i].Code = code
	return rs
}

// errRecord is claimFor's answer when a reserve's claim was refused with a
// proof of the refusal, now attached to the reserve: run it again, and its
// shard answers the refusal and keeps it for the key.
const errRecord engine.Code = 0xffff

// claimFor takes, settles or extends the claim cmd needs on its customer's
// shard and attaches its proof to cmd. A refusal of the claim is returned
// as the code to answer (or errRecord).
func (s *Server) claimFor(ctx context.Context, cmd *engine.Command, asked *engine.Result) (engine.Code, error) {
	var home int
	var claim engine.Command
	switch cmd.Op {
	case engine.OpReserve:
		home = s.homeShard(cmd.Customer)
		claim = engine.Command{Op: engine.OpClaim, Customer: cmd.Customer, SKU: cmd.SKU, Qty: cmd.Qty,
			Limit: asked.Qty, Claim: claimKey(cmd)}
		if cmd.TTL > 0 {
			claim.TTL = cmd.TTL + engine.ClaimMargin
		}
	case engine.OpConfirm, engine.OpExtend:
		info := asked.Reservation
		if info == nil || info.Claim == "" {
			return 0, &refusal{engine.CodeInternal, "claim_required without the claim"}
		}
		home = s.homeShard([]byte(info.Customer))
		claim = engine.Command{Op: engine.OpSettleClaim, Claim: []byte(info.Claim), Qty: cmd.Qty}
		if cmd.Op == engine.OpExtend {
			claim = engine.Command{Op: engine.OpExtendClaim, Claim: []byte(info.Claim), TTL: cmd.TTL + engine.ClaimMargin}
		}
	default:
		return 0, &refusal{engine.CodeInternal, cmd.Op.String() + " asked for a claim"}
	}
	cr, err := s.run(ctx, home, &claim)
	if err != nil {
		if _, nl := notLeaderOf(err); nl {
			// The request's own shard answered; only the customer's shard
			// is between leaders. NOT_LEADER would name the wrong shard.
			return 0, &refusal{engine.CodeUnavailable, "the customer's shard has no leader: " + err.Error()}
		}
		return 0, err
	}
	switch {
	case cr.Code == engine.CodeNotFound:
		return engine.CodeExpired, nil // the claim ended, and so did (or will, at once) its hold
	case cr.Code != engine.OK && cmd.Op == engine.OpReserve && cr.PickupCode != 0:
		cmd.Claim, cmd.ClaimExpiry, cmd.Proof = claim.Claim, -int64(cr.Code), cr.PickupCode
		return errRecord, nil
	case cr.Code != engine.OK:
		return cr.Code, nil
	}
	cmd.Claim, cmd.ClaimExpiry, cmd.Proof = claim.Claim, cr.ExpiresAt, cr.PickupCode
	return engine.OK, nil
}

// releaseAll gives back the claims of a refused request, best effort: one
// that stays expires with its TTL.
func (s *Server) releaseAll(ctx context.Context, taken []heldClaim) {
	for _, h := range taken {
		r, err := s.run(ctx, h.home, &engine.Command{Op: engine.OpReleaseClaim, Claim: h.key})
		if err != nil || r.Code != engine.OK {
			s.log.Info("a claim of a refused request stays until it expires", "error", err, "code", r.Code.String())
		}
	}
}

// claimKey names the claim of a reserve: with an idempotency key, a hash
// of the whole request, so that a retry finds its claim again and the same
// key sent for another item or customer is another claim; without one, a
// random key.
func claimKey(cmd *engine.Command) []byte {
	if len(cmd.Key) == 0 {
		var b [16]byte
		_, _ = rand.Read(b[:])
		return []byte("r" + hex.EncodeToString(b[:]))
	}
	h := sha256.New()
	for _, f := range [][]byte{cmd.Customer, cmd.SKU, cmd.Store, cmd.Key} {
		h.Write([]byte{byte(len(f))})
		h.Write(f)
	}
	var n [24]byte
	binary.BigEndian.PutUint64(n[0:], uint64(cmd.Qty))
	binary.BigEndian.PutUint64(n[8:], uint64(cmd.Window))
	binary.BigEndian.PutUint64(n[16:], uint64(cmd.TTL))
	h.Write(n[:])
	return []byte("k" + hex.EncodeToString(h.Sum(nil)[:24]))
}

// cloneCommands copies cmds and the bytes they point to into one buffer,
// so that they outlive the connection's read buffer.
func cloneCommands(cmds []engine.Command) []engine.Command {
	n := 0
	for i := range cmds {
		c := &cmds[i]
		n += len(c.SKU) + len(c.Store) + len(c.Customer) + len(c.Key) + len(c.Claim) + len(c.Zone)
	}
	arena := make([]byte, 0, n)
	out := make([]engine.Command, len(cmds))
	keep := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		arena = append(arena, b...)
		return arena[len(arena)-len(b) : len(arena) : len(arena)]
	}
	for i := range cmds {
		c := cmds[i]
		c.SKU, c.Store, c.Customer, c.Key, c.Claim = keep(c.SKU), keep(c.Store), keep(c.Customer), keep(c.Key), keep(c.Claim)
		c.Zone = keep(c.Zone)
		out[i] = c
	}
	return out
}
