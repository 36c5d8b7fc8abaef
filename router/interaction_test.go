// Scripted stories of the router (testdata/*.txt), told over fake shards
// that wrap real engines (env_test.go), in the manner of etcd-io/raft's
// interaction tests.
//
// What they prove: every op kind goes where the routing table says (one
// shard, every shard, no shard); reads are served per the read mode, and a
// BATCH's reads after its writes go through the log behind them; a BATCH
// is split by shard and answered in order; fan-outs merge; a limited
// reserve of a customer of another shard takes its claim and its hold in
// one round (claims.txt), and no crash of the coordinating node at any
// step, no lost proposal, nor a retry with the same key, leaves a customer
// over the limit, which every step checks; past the deadline the sweeps
// settle what a crash left (claims_crash.txt); the outbox delivers the
// releases of ended claimed holds once, through losses and duplicates, and
// a cancel's reply waits for its release (releases.txt); a cart is all or
// nothing, its limited lines' claims taken with their group and a refused
// claim undoing it (carts.txt); commands for a shard another node leads are
// forwarded, following leader hints, and a node that holds no replica of a
// shard sends its part to the nodes that do (forwarding.txt); a limited
// SKU's customer of another home joins a waitlist with a claim taken at
// its home first, a crash between the claim and the join, or before the
// anchor, left to the home's sweep, and a promotion's hold carries the
// claim (waitlist_claims.txt).
//
// How: each script starts with `env shards= nodes= [read=index|log|local] [no-shows=N]
// [group-max=]`; its commands start requests on nodes (the op's name and
// key=value fields: reserve sku= store= cust= qty= key= ..., or a `batch`
// with one command a line), and drive what raft would do: `deliver
// shard=N [n=K]` or `deliver all`, `auto on|off`, `drop shard=N`, `leader
// shard=N node=M`, `member shard=N node=M off|on`, `crash-after <op>
// node=N [n=K]`, `crash node=N`, `restart node=N`, `tick by=<duration>`,
// `shard-call node=N shard=M` (input: one command); and the router's
// background work: `outbox auto|manual` (an apply that appends outbox
// messages has its leader deliver at once, or not), `deliver-outbox
// node=N`, `retry-outbox node=N`, `sweep node=N`. Checks: `check-limits`
// (also run after every command, printing only a broken limit),
// `check-stock`, `state shard=N`, `stats node=N`, `where`. Every applied
// proposal prints its command and result; every request its answer. After
// every command each engine's CheckInvariants must hold. Run with -rewrite
// to regenerate the expected output, then read the diff.
package router

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

func TestInteractions(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var e *env
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) (out string) {
			defer func() {
				if p := recover(); p != nil {
					td.Fatalf(t, "%v", p)
				}
			}()
			if td.Cmd == "env" {
				a := tdArgs(td)
				mode := map[string]ReadMode{"": ReadIndex, "index": ReadIndex, "log": ReadLog, "local": ReadLocal}[a["read"]]
				e = newEnv(t, a.int("shards", 3), a.int("nodes", 1), mode, a.int("group-max", 0))
				if n := a.int("no-shows", 0); n > 0 {
					e.setNoShowLimit(n)
				}
				return "ok\n"
			}
			if e == nil {
				td.Fatalf(t, "the script must start with env")
			}
			return e.run(td)
		})
	})
}
