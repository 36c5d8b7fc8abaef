package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/invsys/inv/engine"
)

// A cart across shards (docs/adr/0050): a BATCH chain of reserves whose
// lines lie in more than one shard. The engine applies a chain atomically
// only within one log, so the node holds each shard's lines as a linked
// group there (claims taken as usual: coordinator.go), one shard after the
// other, and on the first refusal cancels the lines it already holds: all
// or nothing, as a one-shard cart. A crash part way, or a group whose
// outcome is unknown, leaves holds that expire with their TTL. Every line
// keeps its own idempotency key, and every refusal is kept for its line's
// key (a refused claim too, coordinator.go), so a repeated cart meets the
// same refusal and cancels again: it is answered as the first.

// cartTimeout bounds a cart across shards: a group and its claims per
// shard, and the cancels.
const cartTimeout = 2 * coordinateTimeout

// crossShardCart reports whether the closed chain cmds is a cart the node
// holds shard by shard: reserves only, in more than one shard.
func crossShardCart(cmds []engine.Command, shards int) bool {
	if shards < 2 || cmds[len(cmds)-1].Linked || len(cmds) > engine.MaxLinked {
		return false
	}
	first := route(&cmds[0], shards)
	spans := false
	for i := range cmds {
		if cmds[i].Op != engine.OpReserve {
			return false
		}
		spans = spans || route(&cmds[i], shards) != first
	}
	return spans
}

// reserveCart holds a cart across shards, all or nothing.
func (s *Server) reserveCart(cmds []engine.Command) ([]engine.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cartTimeout)
	defer cancel()
	out := make([]engine.Result, len(cmds))
	var held []int // lines held so far, cancelled if a later group is refused
	for _, g := range cartGroups(cmds, len(s.shards)) {
		chain := make([]engine.Command, len(g.lines))
		for j, i := range g.lines {
			chain[j] = cmds[i]
			chain[j].Linked = j < len(g.lines)-1
		}
		rs, err := s.runGroup(ctx, g.shard, chain)
		if err != nil {
			// The group's outcome is unknown: what is held stays, so that
			// a retry with the same keys finds every line as it is (or
			// the holds expire).
			return nil, err
		}
		if j := groupRefusal(rs); j >= 0 {
			s.cancelLines(ctx, cmds, out, held)
			refused := make([]engine.Result, len(cmds))
			for i := range refused {
				refused[i].Code = engine.CodeLinkFailed
			}
			refused[g.lines[j]].Code = rs[j].Code
			return refused, nil
		}
		for j, i := range g.lines {
			out[i] = rs[j]
			held = append(held, i)
		}
	}
	return out, nil
}

type cartGroup struct {
	shard int
	lines []int
}

// cartGroups splits a cart's lines by shard, in order of first appearance.
func cartGroups(cmds []engine.Command, shards int) []cartGroup {
	var groups []cartGroup
	for i := range cmds {
		sh := route(&cmds[i], shards)
		k := 0
		for k < len(groups) && groups[k].shard != sh {
			k++
		}
		if k == len(groups) {
			groups = append(groups, cartGroup{shard: sh})
		}
		groups[k].lines = append(groups[k].lines, i)
	}
	return groups
}

// groupRefusal returns the line of a group that was refused (the others
// say link_failed), or -1 when every line is held.
func groupRefusal(rs []engine.Result) int {
	failed := -1
	for j := range rs {
		switch rs[j].Code {
		case engine.OK:
		case engine.CodeLinkFailed:
			if failed < 0 {
				failed = j
			}
		default:
			return j
		}
	}
	return failed
}

// runGroup runs one shard's lines as a linked group where the shard's
// leader is: here (with the claims it asks for), or forwarded as a BATCH to
// the leader's node, whose own coordinator takes them.
func (s *Server) runGroup(ctx context.Context, shard int, chain []engine.Command) ([]engine.Result, error) {
	rs, err := s.runChain(ctx, shard, chain)
	var h *leaderHint
	if errors.As(err, &h) && s.fwd != nil && len(chain) > 1 {
		return s.fwd.callBatch(ctx, h.addr, chain)
	}
	if err != nil {
		return nil, err
	}
	if claimAsked(rs) >= 0 {
		return s.coordinate(shard, chain, rs)
	}
	return rs, nil
}

// cancelLines cancels the held lines of a refused cart, best effort: a
// line that stays held expires with its TTL.
func (s *Server) cancelLines(ctx context.Context, cmds []engine.Command, out []engine.Result, held []int) {
	defer s.kickRelease() // their claims' releases are queued now
	for _, i := range held {
		c := engine.Command{Op: engine.OpCancel, ID: out[i].ID, Key: cancelKey(cmds[i].Key)}
		sh := idShard(c.ID, len(s.shards))
		if sh < 0 {
			continue
		}
		r, err := s.run(ctx, sh, &c)
		if err != nil || (r.Code != engine.OK && r.Code != engine.CodeExpired && r.Code != engine.CodeWrongState) {
			s.log.Info("a line of a refused cart stays held until it expires", "reservation", out[i].ID,
				"error", err, "code", r.Code.String())
		}
	}
}

// cancelKey is the idempotency key of the cancel of a cart line with key
// lineKey (none without one).
func cancelKey(lineKey []byte) []byte {
	if len(lineKey) == 0 {
		return nil
	}
	sum := sha256.Sum256(append([]byte("inv-cart-cancel|"), lineKey...))
	return []byte("x" + hex.EncodeToString(sum[:20]))
}
