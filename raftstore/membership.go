package raftstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Membership of one shard group (docs/adr/0046). Every change runs on the
// shard's leader; elsewhere it fails with *NotLeaderError naming the leader.

// ErrMembership marks a membership change refused because of what it
// would do to the group (unknown member, the last voter ...). Nothing was
// changed.
var ErrMembership = errors.New("raftstore: membership change refused")

// Configuration returns the shard group's latest configuration (possibly
// not yet committed), as this node knows it.
func (s *Shard) Configuration() ([]raft.Server, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, s.readError(err)
	}
	return f.Configuration().Servers, nil
}

// HasMember reports whether id is in the shard group's configuration.
func (s *Shard) HasMember(id raft.ServerID) bool {
	servers, err := s.Configuration()
	if err != nil {
		return false
	}
	for _, srv := range servers {
		if srv.ID == id {
			return true
		}
	}
	return false
}

// IsMember reports whether this node is in the shard group's configuration
// (a node the placement left out holds an empty group).
func (s *Shard) IsMember() bool { return s.HasMember(s.local) }

// AddVoter adds id at addr as a voter of the group and waits until the new
// configuration is committed; it returns the configuration's raft index. A
// server already a voter at addr is not an error: index is 0. The new
// voter catches up from the leader (log or snapshot) in the background.
func (s *Shard) AddVoter(id raft.ServerID, addr raft.ServerAddress, timeout time.Duration) (uint64, error) {
	if s.raft.State() != raft.Leader {
		return 0, notLeader(s.id, s.raft)
	}
	servers, err := s.Configuration()
	if err != nil {
		return 0, err
	}
	for _, srv := range servers {
		if srv.ID == id && srv.Address == addr && srv.Suffrage == raft.Voter {
			return 0, nil
		}
	}
	f := s.raft.AddVoter(id, addr, 0, timeout)
	if err := f.Error(); err != nil {
		return 0, s.readError(err)
	}
	return f.Index(), nil
}

// RemoveServer removes id from the group and waits until the new
// configuration is committed. It refuses to remove the last voter and,
// unless force, to leave a configuration whose voters that alive reports up
// are not a majority of its voters (the group would stop). A leader asked
// to remove itself first hands the leadership to another voter and returns
// *NotLeaderError naming it, so that the caller asks the new leader.
func (s *Shard) RemoveServer(id raft.ServerID, force bool, alive func(raft.ServerID) bool, timeout time.Duration) (uint64, error) {
	if s.raft.State() != raft.Leader {
		return 0, notLeader(s.id, s.raft)
	}
	servers, err := s.Configuration()
	if err != nil {
		return 0, err
	}
	member := false
	var voters, up int
	for _, srv := range servers {
		if srv.ID == id {
			member = true
			continue
		}
		if srv.Suffrage != raft.Voter {
			continue
		}
		voters++
		if alive == nil || alive(srv.ID) {
			up++
		}
	}
	switch {
	case !member:
		return 0, nil
	case voters == 0:
		return 0, fmt.Errorf("%w: shard %d: %s is its last voter", ErrMembership, s.id, id)
	case !force && up <= voters/2:
		return 0, fmt.Errorf("%w: shard %d: without %s, %d of its %d voters are up, not a majority (force to remove anyway)",
			ErrMembership, s.id, id, up, voters)
	}
	if id == s.localID() {
		if err := s.raft.LeadershipTransfer().Error(); err != nil {
			return 0, s.readError(err)
		}
		return 0, notLeader(s.id, s.raft)
	}
	f := s.raft.RemoveServer(id, 0, timeout)
	if err := f.Error(); err != nil {
		return 0, s.readError(err)
	}
	return f.Index(), nil
}

// TransferLeadership hands the group's leadership to id (empty: to the
// most up-to-date other voter) and waits until the target has it or the
// transfer failed. Leading already at id is not an error.
func (s *Shard) TransferLeadership(id raft.ServerID) error {
	if s.raft.State() != raft.Leader {
		return notLeader(s.id, s.raft)
	}
	if id == "" {
		return s.readError(s.raft.LeadershipTransfer().Error())
	}
	if id == s.localID() {
		return nil
	}
	servers, err := s.Configuration()
	if err != nil {
		return err
	}
	for _, srv := range servers {
		if srv.ID == id {
			if srv.Suffrage != raft.Voter {
				return fmt.Errorf("%w: shard %d: %s is not a voter", ErrMembership, s.id, id)
			}
			if err := s.raft.LeadershipTransferToServer(id, srv.Address).Error(); err != nil {
				return s.readError(err)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: shard %d: %s is not a member", ErrMembership, s.id, id)
}

// localID is this node's raft id.
func (s *Shard) localID() raft.ServerID { return s.local }
