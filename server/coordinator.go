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

// The coordinator keeps a customer's per-SKU limit across shards with the
// engine's claims (docs/adr/0070), in the sequential form this server had
// before the router package takes it over (which proposes the claim and the
// hold in one round). A request runs on its shard as usual; only when the
// item's shard answers claim_required does the node that received it act:
//
//   - reserve of a limited item of a customer of another shard: the claim
//     on the customer's home first, with a deadline (limit_exceeded,
//     blocked, expired: that is the answer), then the reserve carrying the
//     claim's key and deadline, a provisional hold, then its resolve, which
//     makes it firm; a refused hold releases the claim (as of its deadline);
//   - confirm, extend or reschedule of a provisional hold (its resolve was
//     lost): the claim's answer is read on the home and the hold resolved,
//     then the request runs again.
//
// Cancel, return, expiry and no-show need no coordinator: the item shard's
// outbox carries the release and its leader delivers it (release.go). A
// crash at any step leaves at most a claim without its hold or a
// provisional hold, which the sweeps of docs/adr/0070 settle (the router's;
// here a provisional hold ends with its TTL, its release then a no-op if
// the claim was refused): never a firm hold without its claim.

// coordinateTimeout bounds one coordination: a claim, the command again,
// and perhaps a release, each a commit, and an election.
const coordinateTimeout = 10 * time.Second

// claimWindow is the deadline a claim and its reserve carry: no shard takes
// either after it, and the sweeps wait for it (engine.MaxClaimWindow).
const claimWindow = 5 * time.Second

// claimRoundsMax bounds how often one group asks for claims: once per
// command of a linked group.
const claimRoundsMax = engine.MaxLinked

// needsCoordinator reports whether a command may come back claim_required.
func needsCoordinator(op engine.Op) bool {
	return op == engine.OpReserve || op == engine.OpConfirm || op == engine.OpExtend || op == engine.OpReschedule
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
	var taken []heldClaim // the reserves' claims: resolved if the request holds, else released
	for round := 0; round < claimRoundsMax; round++ {
		i := claimAsked(rs)
		if i < 0 {
			if refused(rs) {
				s.releaseAll(ctx, taken)
			} else {
				s.resolveAll(ctx, shard, taken, cmds, rs)
			}
			return rs, nil
		}
		code, err := s.claimFor(ctx, shard, &cmds[i], &rs[i])
		if err != nil {
			return nil, err // unknown: the sweeps settle a claim taken here
		}
		if code != engine.OK {
			s.releaseAll(ctx, taken)
			return refuseChain(len(cmds), i, code), nil
		}
		if cmds[i].Op == engine.OpReserve {
			taken = append(taken, heldClaim{home: s.homeShard(cmds[i].Customer), key: cmds[i].Claim, deadline: cmds[i].Deadline})
		}
		if rs, err = s.runChain(ctx, shard, cmds); err != nil {
			return nil, err // the hold's outcome is unknown: its claim must stay
		}
	}
	s.releaseAll(ctx, taken)
	return nil, &refusal{engine.CodeInternal, "a request kept asking for claims"}
}

type heldClaim struct {
	home     int
	key      []byte
	deadline int64
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

// claimFor takes the claim a reserve needs on its customer's home and
// attaches its key and deadline to cmd, or resolves the provisional hold a
// confirm, extend or reschedule met. A refused claim of a reserve is
// returned as the code to answer.
func (s *Server) claimFor(ctx context.Context, shard int, cmd *engine.Command, asked *engine.Result) (engine.Code, error) {
	if cmd.Op != engine.OpReserve {
		return s.resolveFor(ctx, shard, asked)
	}
	home := s.homeShard(cmd.Customer)
	claim := engine.Command{Op: engine.OpClaim, Customer: cmd.Customer, SKU: cmd.SKU, Qty: cmd.Qty,
		Limit: asked.Qty, Claim: claimKey(cmd), ItemShard: uint16(shard), Deadline: time.Now().Add(claimWindow).UnixNano()}
	cr, err := s.run(ctx, home, &claim)
	if err != nil {
		return 0, homeErr(err)
	}
	if cr.Code != engine.OK {
		return cr.Code, nil // limit_exceeded, blocked, expired: kept for the claim's key on the home
	}
	cmd.Claim, cmd.Deadline = claim.Claim, claim.Deadline
	return engine.OK, nil
}

// resolveFor resolves a provisional hold with its claim's answer on the
// customer's home; the request then runs again.
func (s *Server) resolveFor(ctx context.Context, shard int, asked *engine.Result) (engine.Code, error) {
	info := asked.Reservation
	if info == nil || info.Claim == "" {
		return 0, &refusal{engine.CodeInternal, "claim_required without the claim"}
	}
	g, err := s.run(ctx, s.homeShard([]byte(info.Customer)), &engine.Command{Op: engine.OpGetClaim, Claim: []byte(info.Claim)})
	if err != nil {
		return 0, homeErr(err)
	}
	if g.Code == engine.CodeNotFound {
		return 0, &refusal{engine.CodeUnavailable, "the hold's claim is not decided yet"}
	}
	if g.Code != engine.OK && !g.Code.Refusal() {
		return 0, &refusal{g.Code, "reading the hold's claim"}
	}
	r, err := s.run(ctx, shard, &engine.Command{Op: engine.OpResolveClaim, Claim: []byte(info.Claim), ClaimCode: g.Code})
	if err != nil {
		return 0, err
	}
	if r.Code != engine.OK && r.Code != engine.CodeWrongState { // wrong_state: resolved the other way meanwhile
		return 0, &refusal{r.Code, "resolving the hold's claim"}
	}
	return engine.OK, nil
}

// homeErr is the answer when the customer's home did not answer: the
// request's own shard did, so NOT_LEADER would name the wrong shard.
func homeErr(err error) error {
	if _, nl := notLeaderOf(err); nl {
		return &refusal{engine.CodeUnavailable, "the customer's shard has no leader: " + err.Error()}
	}
	return err
}

// resolveAll makes the provisional holds of a request that held firm, best
// effort: one whose resolve fails stays provisional until a confirm, a
// retry or the sweep resolves it. The replies do not name the claims.
func (s *Server) resolveAll(ctx context.Context, shard int, taken []heldClaim, cmds []engine.Command, rs []engine.Result) {
	for _, h := range taken {
		r, err := s.run(ctx, shard, &engine.Command{Op: engine.OpResolveClaim, Claim: h.key})
		if err != nil || r.Code != engine.OK {
			s.log.Info("a provisional hold stays unresolved", "error", err, "code", r.Code.String())
		}
	}
	for i := range rs {
		if cmds[i].Op == engine.OpReserve && len(cmds[i].Claim) > 0 {
			rs[i].Reservation = nil // the provisional hold's claim is the nodes' own
		}
	}
}

// releaseAll gives back the claims of a refused request, as of their
// deadlines, best effort: one that stays is the sweep's to release.
func (s *Server) releaseAll(ctx context.Context, taken []heldClaim) {
	for _, h := range taken {
		r, err := s.run(ctx, h.home, &engine.Command{Op: engine.OpReleaseClaim, Claim: h.key, Deadline: h.deadline})
		if err != nil || r.Code != engine.OK {
			s.log.Info("a claim of a refused request stays until the sweep", "error", err, "code", r.Code.String())
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
		n += len(c.SKU) + len(c.Store) + len(c.Customer) + len(c.Key) + len(c.Claim)
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
		out[i] = c
	}
	return out
}
