package router

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Idempotency keys across shards (docs/adr/0073). A key's home is
// protocol.ShardOfKey(key). A mutating request on one shard whose key is
// homed on another first registers the key at its home (register_key with
// the request's engine.Fingerprint and its own shard), then runs where it
// belongs; a refusal there (key_conflict: the key is another request's) is
// its answer and it does not run. The home's own commands are checked
// against the registrations by its engine. So the same key with other
// contents is key_conflict whichever shards two requests land on.
//
// It costs one more commit, on the home, only for a key the storefront
// chose whose home is another shard: keys the client library makes are
// homed on their request's shard. Requests that fan out to every shard
// register nothing: they store their key in every shard, the home too.

// keyHome returns the home of cmd's key when cmd runs on one shard, shard,
// and its key is homed on another: ok is false when there is nothing to
// register (a single shard, no key, a read, a key over the limit that the
// shard refuses itself).
func (r *Router) keyHome(cmd *engine.Command, shard int) (home int, ok bool) {
	if !r.mayRegister(cmd) {
		return 0, false
	}
	home = protocol.ShardOfKey(cmd.Key, len(r.shards))
	return home, home != shard
}

// mayRegister reports whether cmd's key may need registering elsewhere:
// several shards, a key within the limit, an op that changes state. It
// looks at nothing but cmd, so a BATCH's reads and keyless commands are
// passed over without being routed.
func (r *Router) mayRegister(cmd *engine.Command) bool {
	return len(r.shards) > 1 && len(cmd.Key) > 0 && len(cmd.Key) <= engine.MaxKeyBytes && cmd.Op.Mutating()
}

// leads reports whether this node leads shard.
func (r *Router) leads(shard int) bool {
	sh := r.shard(shard)
	return sh != nil && sh.IsLeader()
}

// registration is cmd's register_key, to run on its key's home; cmd runs
// on shard.
func registration(cmd *engine.Command, shard int) engine.Command {
	return engine.Command{Op: engine.OpRegisterKey, Key: cmd.Key, ID: engine.Fingerprint(cmd), ItemShard: uint16(shard)}
}

// keyHomeErr is the answer when the key's home did not answer: the
// request's own shard did not run it, so NOT_LEADER would name the wrong
// shard.
func keyHomeErr(err error) error {
	var nl *NotLeaderError
	if errors.As(err, &nl) {
		return &Refusal{engine.CodeUnavailable, "the idempotency key's shard has no leader: " + err.Error()}
	}
	return err
}

// registerThenServe registers cmd's key at home, then serves cmd on shard
// (serveShard) unless the home refused it.
func (r *Router) registerThenServe(home, shard int, cmd *engine.Command, done func(engine.Result, error)) {
	own := engine.CloneCommands([]engine.Command{*cmd}) // it outlives the caller's buffer
	reg := []engine.Command{registration(&own[0], shard)}
	r.stats.keyRegistrations.Add(1)
	r.runGroupAny(home, reg, r.clock.Now().Add(r.claimWindow), "the idempotency key's registration",
		func(rs []engine.Result, err error) {
			switch {
			case err != nil:
				done(engine.Result{}, keyHomeErr(err))
			case rs[0].Code != engine.OK:
				done(engine.Result{Code: rs[0].Code}, nil)
			default:
				r.serveShard(shard, &own[0], done)
			}
		})
}

// crossingKeys returns the entries of a BATCH whose key must be registered
// at another shard first, by home.
func (r *Router) crossingKeys(cmds []engine.Command) map[int][]int32 {
	var byHome map[int][]int32
	for i := range cmds {
		if !r.mayRegister(&cmds[i]) {
			continue
		}
		kind, shard := protocol.RouteOf(&cmds[i], len(r.shards))
		if kind != protocol.RouteShard {
			continue
		}
		if home, ok := r.keyHome(&cmds[i], shard); ok {
			if byHome == nil {
				byHome = make(map[int][]int32)
			}
			byHome[home] = append(byHome[home], int32(i))
		}
	}
	return byHome
}

// keyedBatch is a BATCH whose keys are being registered at their homes:
// once every home answered, the entries the homes refused (with the rest
// of their linked chain) are answered, and the others served as a BATCH of
// their own, in their order.
type keyedBatch struct {
	r       *Router
	cmds    []engine.Command // the router's copy
	stale   bool
	results []engine.Result
	errs    []error
	refused []bool
	pending atomic.Int32
	done    func([]engine.Result, []error)
}

// registerBatch registers the keys of byHome's entries, in groups of at
// most groupMax per home (one commit each: a BATCH may hold more keys than
// one log entry takes), then serves the batch.
func (r *Router) registerBatch(cmds []engine.Command, stale bool, byHome map[int][]int32,
	done func([]engine.Result, []error)) {
	n := len(cmds)
	k := &keyedBatch{r: r, cmds: engine.CloneCommands(cmds), stale: stale, results: make([]engine.Result, n),
		errs: make([]error, n), refused: make([]bool, n), done: done}
	groups := 1 // this call's own, ended below
	for _, idx := range byHome {
		groups += (len(idx) + r.groupMax - 1) / r.groupMax
	}
	k.pending.Store(int32(groups))
	deadline := r.clock.Now().Add(r.claimWindow)
	for home, all := range byHome {
		for from := 0; from < len(all); from += r.groupMax {
			k.register(home, all[from:min(from+r.groupMax, len(all))], deadline)
		}
	}
	k.arrive()
}

// register proposes the registrations of entries idx at home as one group.
func (k *keyedBatch) register(home int, idx []int32, deadline time.Time) {
	r := k.r
	regs := make([]engine.Command, len(idx))
	for j, i := range idx {
		_, shard := protocol.RouteOf(&k.cmds[i], len(r.shards)) // crossingKeys took only entries of one shard
		regs[j] = registration(&k.cmds[i], shard)
	}
	r.stats.keyRegistrations.Add(uint64(len(regs)))
	r.runGroupAny(home, regs, deadline, "the idempotency keys' registration", func(rs []engine.Result, err error) {
		for j, i := range idx {
			switch {
			case err != nil:
				k.errs[i], k.refused[i] = keyHomeErr(err), true
			case rs[j].Code != engine.OK:
				k.results[i], k.refused[i] = engine.Result{Code: rs[j].Code}, true
			}
		}
		k.arrive()
	})
}

func (k *keyedBatch) arrive() {
	if k.pending.Add(-1) == 0 {
		k.serve()
	}
}

// serve answers the refused entries and their chains, and serves the rest.
func (k *keyedBatch) serve() {
	var rest []engine.Command
	var at []int // rest[j] is entry at[j]
	for i := 0; i < len(k.cmds); {
		j := chainEnd(k.cmds, i)
		if k.refuseChain(i, j) {
			i = j + 1
			continue
		}
		for ; i <= j; i++ {
			rest = append(rest, k.cmds[i])
			at = append(at, i)
		}
	}
	if len(rest) == 0 {
		k.done(k.results, k.errs)
		return
	}
	k.r.serveBatch(rest, k.stale, func(rs []engine.Result, errs []error) {
		for j, i := range at {
			k.results[i], k.errs[i] = rs[j], errs[j]
		}
		k.done(k.results, k.errs)
	})
}

// chainEnd returns the last entry of the chain that starts at i (i itself
// for an entry that is not linked; the batch's end for a chain left open).
func chainEnd(cmds []engine.Command, i int) int {
	j := i
	for j < len(cmds)-1 && cmds[j].Linked {
		j++
	}
	return j
}

// refuseChain answers the chain i..j when a home refused one of its
// entries: that entry keeps its refusal (or error), the others get
// link_failed (or the same error), as the engine answers a failed chain.
func (k *keyedBatch) refuseChain(i, j int) bool {
	bad := -1
	for x := i; x <= j && bad < 0; x++ {
		if k.refused[x] {
			bad = x
		}
	}
	if bad < 0 {
		return false
	}
	for x := i; x <= j; x++ {
		switch {
		case x == bad:
		case k.errs[bad] != nil:
			k.errs[x] = k.errs[bad]
		default:
			k.results[x] = engine.Result{Code: engine.CodeLinkFailed}
		}
	}
	return true
}
