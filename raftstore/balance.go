package raftstore

import (
	"log/slog"
	"time"

	"github.com/hashicorp/raft"
)

// Leader balancing (docs/adr/0045). Each shard has a preferred leader:
// shard i prefers members[i % len(members)], so that with every node up
// each leads shards/nodes of them. A node that leads a shard it is not the
// preferred leader of hands the leadership over (raft's
// LeadershipTransferToServer, which first brings the target up to date)
// once the preferred node answers. Nodes that die lose their shards to
// elections; when they return, the balancers of the others give them back.
// One transfer per tick per node keeps a returning node from taking many
// elections at once.

// BalanceOptions configure Node.BalanceLeaders.
type BalanceOptions struct {
	// Members is every node's raft id, in the same order on every node.
	Members []raft.ServerID
	// MembersFunc, if set, is asked for the members at every check instead
	// (a cluster whose membership changes at run time). Nodes it leaves out
	// (drained ones) are never given leaderships.
	MembersFunc func() []raft.ServerID
	// Alive reports whether a node is up and serving (e.g. its client port
	// accepts connections). nil: always.
	Alive func(raft.ServerID) bool
	// Interval between checks (default 1s); Backoff after a failed transfer
	// of a shard before it is tried again (default 10s).
	Interval, Backoff time.Duration
	Logger            *slog.Logger
}

// PreferredLeader is the node that should lead shard when every node is up.
func PreferredLeader(members []raft.ServerID, shard uint16) raft.ServerID {
	if len(members) == 0 {
		return ""
	}
	return members[int(shard)%len(members)]
}

// BalanceLeaders runs the balancer until stop is closed. It returns at once
// for fewer than two members.
func (n *Node) BalanceLeaders(o BalanceOptions, stop <-chan struct{}) {
	if o.MembersFunc == nil && len(o.Members) < 2 {
		return
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	retryAt := make([]time.Time, len(n.shards))
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		n.balanceOnce(&o, retryAt)
	}
}

// balanceOnce transfers at most one shard this node leads to its
// preferred leader. It reports whether it tried.
func (n *Node) balanceOnce(o *BalanceOptions, retryAt []time.Time) bool {
	now := time.Now()
	members := o.Members
	if o.MembersFunc != nil {
		members = o.MembersFunc()
	}
	for i, s := range n.shards {
		if !s.IsLeader() || now.Before(retryAt[i]) {
			continue
		}
		want := PreferredLeader(n.votersAmong(s, members), uint16(i))
		if want == "" {
			continue
		}
		if want == n.id {
			continue
		}
		addr, ok := n.memberAddr(s, want)
		if !ok || (o.Alive != nil && !o.Alive(want)) {
			continue
		}
		err := s.raft.LeadershipTransferToServer(want, addr).Error()
		if err != nil {
			retryAt[i] = time.Now().Add(o.Backoff)
			o.Logger.Info("leader balance: transfer failed", "shard", i, "to", want, "error", err)
		} else {
			o.Logger.Info("leader balance: transferred", "shard", i, "to", want)
		}
		return true
	}
	return false
}

// votersAmong returns the members that are voters of s, in members' order.
func (n *Node) votersAmong(s *Shard, members []raft.ServerID) []raft.ServerID {
	servers, err := s.Configuration()
	if err != nil {
		return nil
	}
	out := make([]raft.ServerID, 0, len(members))
	for _, m := range members {
		for _, srv := range servers {
			if srv.ID == m && srv.Suffrage == raft.Voter {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// memberAddr finds id's raft address in s's configuration.
func (n *Node) memberAddr(s *Shard, id raft.ServerID) (raft.ServerAddress, bool) {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return "", false
	}
	for _, srv := range f.Configuration().Servers {
		if srv.ID == id && srv.Suffrage == raft.Voter {
			return srv.Address, true
		}
	}
	return "", false
}

// LeaderCounts returns, for each raft id, how many of this node's shards it
// leads as far as this node knows.
func (n *Node) LeaderCounts() map[raft.ServerID]int {
	m := make(map[raft.ServerID]int)
	for _, s := range n.shards {
		if _, id := s.Leader(); id != "" {
			m[id]++
		}
	}
	return m
}
