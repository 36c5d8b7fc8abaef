package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

type clusterJSON struct {
	Version uint64      `json:"version"`
	Nodes   []nodeJSON  `json:"nodes"`
	Shards  []shardJSON `json:"shards"`
}

type nodeJSON struct {
	ID   uint32 `json:"id"`
	Addr string `json:"addr"`
}

type shardJSON struct {
	Shard    int      `json:"shard"`
	Leader   uint32   `json:"leader"` // 0: none known (an election is running)
	Replicas []uint32 `json:"replicas"`
}

// clusterStatus prints TOPOLOGY: the nodes, and each shard's leader and
// replicas. Raft indexes are on each node's /metrics
// (inv_shard_commit_index, inv_shard_applied_index).
func clusterStatus(e *env, args []string) error {
	fs := newFlags(e, "cluster status")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	t, err := cl.Topology(c)
	if err != nil {
		return err
	}
	out := clusterJSON{Version: t.Version}
	addr := map[uint32]string{}
	for _, n := range t.Nodes {
		out.Nodes = append(out.Nodes, nodeJSON{ID: n.ID, Addr: n.Addr})
		addr[n.ID] = n.Addr
	}
	for i, s := range t.Shards {
		out.Shards = append(out.Shards, shardJSON{Shard: i, Leader: s.Leader, Replicas: s.Replicas})
	}
	if e.json {
		return show(e, out, nil, nil)
	}
	fmt.Fprintf(e.stdout, "topology version %d, %d nodes, %d shards\n\n", t.Version, len(out.Nodes), len(out.Shards))
	nodeRows := make([][]string, len(out.Nodes))
	for i, n := range out.Nodes {
		nodeRows[i] = []string{num(uint64(n.ID)), n.Addr}
	}
	if err := table(e.stdout, []string{"NODE", "ADDR"}, nodeRows); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	shardRows := make([][]string, len(out.Shards))
	for i, s := range out.Shards {
		leader := "none"
		if s.Leader != 0 {
			leader = fmt.Sprintf("%d (%s)", s.Leader, addr[s.Leader])
		}
		reps := make([]string, len(s.Replicas))
		for j, r := range s.Replicas {
			reps[j] = num(uint64(r))
		}
		shardRows[i] = []string{num(s.Shard), leader, strings.Join(reps, ",")}
	}
	return table(e.stdout, []string{"SHARD", "LEADER", "REPLICAS"}, shardRows)
}

// stepJSON is one ADMIN step of a membership or leadership change.
type stepJSON struct {
	Shard   int    `json:"shard"` // -1: a node's peer table
	Node    uint32 `json:"node"`
	Index   uint64 `json:"index,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

// adminFailed is a membership or leadership change some of whose steps
// failed (listed on stdout). Refused steps (a bad request: unknown node,
// the last voter ...) exit 1, others 3.
type adminFailed struct {
	err     error
	refused bool
}

func (a adminFailed) Error() string { return a.err.Error() }

// showSteps prints the steps of a change and turns a failure into
// adminFailed.
func showSteps(e *env, steps []client.AdminStep, err error) error {
	out := make([]stepJSON, len(steps))
	for i, s := range steps {
		out[i] = stepJSON{Shard: s.Shard, Node: s.Node, Index: s.Index, Message: s.Message}
		if s.Err != nil {
			out[i].Error = s.Err.Error()
		}
	}
	if len(steps) > 0 {
		if serr := show(e, out, []string{"SHARD", "NODE", "INDEX", "RESULT"}, func() [][]string {
			rows := make([][]string, len(out))
			for i, s := range out {
				shard := "peers"
				if s.Shard >= 0 {
					shard = num(s.Shard)
				}
				res := s.Message
				if s.Error != "" {
					res = "FAILED: " + s.Error
				}
				rows[i] = []string{shard, num(uint64(s.Node)), num(s.Index), res}
			}
			return rows
		}); serr != nil {
			return serr
		}
	}
	if err == nil {
		return nil
	}
	code, _ := client.CodeOf(err)
	return adminFailed{err: err, refused: code == engine.CodeBadRequest || code == engine.CodeNotFound ||
		code == engine.CodeUnauthorized}
}

// parseNodeID reads a node id argument.
func parseNodeID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, usagef("node id %q: want a number above 0", s)
	}
	return uint32(n), nil
}

// parseShards reads a --shard list (comma separated), nil when empty.
func parseShards(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, usagef("--shard %q: want shard numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// clusterAddNode: cluster add-node ID RAFT_ADDR CLIENT_ADDR [--shard N,...]
// makes every node learn the node's addresses, then adds it as a voter of
// every shard group (or the listed ones). Start the node first with
// invd --join.
func clusterAddNode(e *env, args []string) error {
	fs := newFlags(e, "cluster add-node")
	shardList := fs.String("shard", "", "only these shards (comma separated; default every shard)")
	if err := parse(fs, args, 3); err != nil {
		return err
	}
	id, err := parseNodeID(fs.Arg(0))
	if err != nil {
		return err
	}
	for _, a := range []string{fs.Arg(1), fs.Arg(2)} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return usagef("address %q: %v", a, err)
		}
	}
	shards, err := parseShards(*shardList)
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := adminCtx()
	defer cancel()
	steps, err := cl.AddNode(c, client.NodeSpec{ID: id, RaftAddr: fs.Arg(1), ClientAddr: fs.Arg(2)}, shards...)
	return showSteps(e, steps, err)
}

// clusterRemoveNode: cluster remove-node ID [--force] [--shard N,...]
// removes the node from every shard group, then every other node forgets
// it; with --shard, from those groups only.
func clusterRemoveNode(e *env, args []string) error {
	fs := newFlags(e, "cluster remove-node")
	force := fs.Bool("force", false, "remove even if a group is left without a live majority")
	shardList := fs.String("shard", "", "only from these shards, and every node keeps it (comma separated)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	id, err := parseNodeID(fs.Arg(0))
	if err != nil {
		return err
	}
	shards, err := parseShards(*shardList)
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := adminCtx()
	defer cancel()
	steps, err := cl.RemoveNode(c, id, *force, shards...)
	return showSteps(e, steps, err)
}

// clusterTransferLeader: cluster transfer-leader --shard N[,N...] [--to ID]
// hands those shards' leadership to a node (default: any other voter);
// --from ID hands over every shard the node leads and drains it (as
// cluster drain).
func clusterTransferLeader(e *env, args []string) error {
	fs := newFlags(e, "cluster transfer-leader")
	shardList := fs.String("shard", "", "the shards to move (comma separated)")
	to := fs.Uint("to", 0, "the node to lead them (default: another voter)")
	from := fs.Uint("from", 0, "move every shard this node leads and drain it")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	shards, err := parseShards(*shardList)
	if err != nil {
		return err
	}
	switch {
	case *from == 0 && len(shards) == 0:
		return usagef("cluster transfer-leader: --shard or --from")
	case *from != 0 && len(shards) > 0:
		return usagef("cluster transfer-leader: --shard or --from, not both")
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := adminCtx()
	defer cancel()
	var steps []client.AdminStep
	if *from != 0 {
		steps, err = cl.DrainNode(c, uint32(*from), uint32(*to))
	} else {
		steps, err = cl.TransferLeader(c, uint32(*to), shards...)
	}
	return showSteps(e, steps, err)
}

// clusterDrain: cluster drain ID [--to ID] marks the node drained on every
// node (leader balancing gives it no leaderships) and hands over the
// shards it leads. It stays a replica.
func clusterDrain(e *env, args []string) error {
	fs := newFlags(e, "cluster drain")
	to := fs.Uint("to", 0, "the node to lead its shards (default: other voters)")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	id, err := parseNodeID(fs.Arg(0))
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := adminCtx()
	defer cancel()
	steps, err := cl.DrainNode(c, id, uint32(*to))
	return showSteps(e, steps, err)
}

// clusterUndrain: cluster undrain ID clears the drained mark.
func clusterUndrain(e *env, args []string) error {
	fs := newFlags(e, "cluster undrain")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	id, err := parseNodeID(fs.Arg(0))
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := adminCtx()
	defer cancel()
	steps, err := cl.UndrainNode(c, id)
	return showSteps(e, steps, err)
}

// adminCtx bounds a membership change: a configuration change per shard,
// each waiting for a commit.
func adminCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Minute)
}
