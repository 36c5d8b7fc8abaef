package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

type clusterJSON struct {
	Version uint64      `json:"version"`
	Nodes   []nodeJSON  `json:"nodes"`
	Shards  []shardJSON `json:"shards"`
}

// Node status values of nodeJSON.Status.
const (
	nodeOK          = "ok"          // answered STATUS
	nodeUnreachable = "unreachable" // no answer: down, refused the connection, or timed out
	nodeRefused     = "refused"     // answered STATUS with an ERROR (unauthorized ...)
)

type nodeJSON struct {
	ID       jsonID `json:"id"`
	Addr     string `json:"addr"`
	Status   string `json:"status"`          // ok, unreachable or refused
	Error    string `json:"error,omitempty"` // why not ok
	Server   string `json:"server,omitempty"`
	UptimeMs uint64 `json:"uptime_ms,omitempty"`
}

type shardJSON struct {
	Shard    int      `json:"shard"`
	Leader   jsonID   `json:"leader"` // 0: none known (an election is running)
	Replicas []jsonID `json:"replicas"`
	// Raft is each answering node's view of its replica of the shard, in
	// the order of nodes; nodes that did not answer are left out (see
	// their status in nodes).
	Raft []replicaJSON `json:"raft"`
}

type replicaJSON struct {
	Node              jsonID `json:"node"`
	State             string `json:"state"`  // leader, follower, candidate or shutdown
	Leader            jsonID `json:"leader"` // the leader this replica knows; 0: none
	Term              uint64 `json:"term"`
	LastLogIndex      uint64 `json:"last_log_index"`
	LastLogTerm       uint64 `json:"last_log_term"`
	CommitIndex       uint64 `json:"commit_index"`
	AppliedIndex      uint64 `json:"applied_index"`
	LastSnapshotIndex uint64 `json:"last_snapshot_index"`
	LastSnapshotTerm  uint64 `json:"last_snapshot_term"`
}

// errNodesUnanswered makes invctl exit 3 when some node did not answer
// STATUS (after printing what the others said).
var errNodesUnanswered = errors.New("some nodes did not answer STATUS")

// clusterStatus prints TOPOLOGY (the nodes, and each shard's leader and
// replicas), then asks every node of it for STATUS and prints each
// replica's raft state and indexes, shard by shard. A node that does not
// answer is shown as such and does not hide the others; the command then
// exits 3 after printing everything. STATUS needs an operator token.
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
	for i, s := range t.Shards {
		out.Shards = append(out.Shards, shardJSON{Shard: i, Leader: jsonID(s.Leader), Replicas: jsonIDs(s.Replicas),
			Raft: []replicaJSON{}})
	}
	statuses, errs := nodeStatuses(c, cl, t.Nodes)
	var firstErr error
	unanswered := 0
	for i, n := range t.Nodes {
		nj := nodeJSON{ID: jsonID(n.ID), Addr: n.Addr, Status: nodeOK}
		if err := errs[i]; err != nil {
			unanswered++
			if firstErr == nil {
				firstErr = err
			}
			nj.Status, nj.Error = nodeUnreachable, err.Error()
			if _, answered := client.CodeOf(err); answered {
				nj.Status = nodeRefused
			}
		} else {
			st := &statuses[i]
			nj.Server, nj.UptimeMs = st.Server, st.UptimeMs
			addReplicas(out.Shards, jsonID(n.ID), st)
		}
		out.Nodes = append(out.Nodes, nj)
	}
	if e.json {
		err = show(e, out, nil, nil)
	} else {
		err = printCluster(e, &out)
	}
	if err != nil {
		return err
	}
	if unanswered > 0 {
		return fmt.Errorf("%w: %d of %d: %w", errNodesUnanswered, unanswered, len(t.Nodes), firstErr)
	}
	return nil
}

// nodeStatuses asks every node for STATUS at once; errs[i] is node i's
// failure, else statuses[i] its answer.
func nodeStatuses(c context.Context, cl *client.Client, nodes []protocol.Node) ([]protocol.StatusReply, []error) {
	statuses := make([]protocol.StatusReply, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { statuses[i], errs[i] = cl.NodeStatus(c, n.Addr) })
	}
	wg.Wait()
	return statuses, errs
}

// addReplicas files a node's answer under each of the shards it reports.
func addReplicas(shards []shardJSON, node jsonID, st *protocol.StatusReply) {
	for _, s := range st.Shards {
		if int(s.Shard) >= len(shards) {
			continue // a node of another shard count than the topology's; TOPOLOGY wins
		}
		sh := &shards[s.Shard]
		sh.Raft = append(sh.Raft, replicaJSON{Node: node, State: s.State.String(), Leader: jsonID(s.Leader),
			Term: s.Term, LastLogIndex: s.LastLogIndex, LastLogTerm: s.LastLogTerm,
			CommitIndex: s.CommitIndex, AppliedIndex: s.AppliedIndex,
			LastSnapshotIndex: s.LastSnapshotIndex, LastSnapshotTerm: s.LastSnapshotTerm})
	}
}

// printCluster prints the three tables: nodes, placement, and replicas.
func printCluster(e *env, out *clusterJSON) error {
	fmt.Fprintf(e.stdout, "topology version %d, %d nodes, %d shards\n\n", out.Version, len(out.Nodes), len(out.Shards))
	addr := map[jsonID]string{}
	nodeRows := make([][]string, len(out.Nodes))
	for i, n := range out.Nodes {
		addr[n.ID] = n.Addr
		status, uptime := n.Status, "-"
		if n.Error != "" {
			status += ": " + n.Error
		} else {
			uptime = (time.Duration(n.UptimeMs) * time.Millisecond).Truncate(time.Second).String()
		}
		nodeRows[i] = []string{num(uint64(n.ID)), n.Addr, n.Server, uptime, status}
	}
	if err := table(e.stdout, []string{"NODE", "ADDR", "SERVER", "UPTIME", "STATUS"}, nodeRows); err != nil {
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
	if err := table(e.stdout, []string{"SHARD", "LEADER", "REPLICAS"}, shardRows); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	return table(e.stdout, []string{"SHARD", "NODE", "STATE", "LEADER", "TERM", "LAST_LOG", "COMMIT", "APPLIED",
		"SNAPSHOT"}, replicaRows(out))
}

// replicaRows is one row per shard and node of the topology, in shard
// then node order; a node that did not answer shows its status instead of
// indexes.
func replicaRows(out *clusterJSON) [][]string {
	var rows [][]string
	for _, s := range out.Shards {
		for _, n := range out.Nodes {
			row := []string{num(s.Shard), num(uint64(n.ID)), n.Status, "-", "-", "-", "-", "-", "-"}
			for _, r := range s.Raft {
				if r.Node != n.ID {
					continue
				}
				leader := "none"
				if r.Leader != 0 {
					leader = num(uint64(r.Leader))
				}
				row = []string{num(s.Shard), num(uint64(n.ID)), r.State, leader, num(r.Term), num(r.LastLogIndex),
					num(r.CommitIndex), num(r.AppliedIndex), num(r.LastSnapshotIndex)}
			}
			if n.Status == nodeOK && row[2] == nodeOK {
				row[2] = "absent" // the node answered but holds no replica of the shard
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// stepJSON is one ADMIN step of a membership or leadership change.
type stepJSON struct {
	Shard   int    `json:"shard"` // -1: a node's peer table
	Node    jsonID `json:"node"`
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
		out[i] = stepJSON{Shard: s.Shard, Node: jsonID(s.Node), Index: s.Index, Message: s.Message}
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
	n, err := strconv.ParseUint(unquote(s), 10, 32)
	if err != nil || n == 0 {
		return 0, usagef("node id %q: want a number above 0", s)
	}
	return uint32(n), nil
}

// nodeValue is a node id flag: a number, bare or in the quotes of invctl's
// JSON; 0 when not given.
type nodeValue uint32

func (v *nodeValue) String() string { return strconv.FormatUint(uint64(*v), 10) }

func (v *nodeValue) Set(s string) error {
	n, err := strconv.ParseUint(unquote(s), 10, 32)
	if err != nil {
		return fmt.Errorf("node id %q: want a number", s)
	}
	*v = nodeValue(n)
	return nil
}

// nodeFlag defines a node id flag on fs.
func nodeFlag(fs *flag.FlagSet, name, usage string) *nodeValue {
	v := new(nodeValue)
	fs.Var(v, name, usage)
	return v
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
	to := nodeFlag(fs, "to", "the node (`ID`) to lead them (default: another voter)")
	from := nodeFlag(fs, "from", "move every shard this node (`ID`) leads and drain it")
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
	to := nodeFlag(fs, "to", "the node (`ID`) to lead its shards (default: other voters)")
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
