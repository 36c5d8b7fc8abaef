package main

import (
	"fmt"
	"math"

	"github.com/invsys/inv/server"
)

// planNoFile returns the soft file descriptor limit to run with, given the
// current soft and hard limits: the soft limit when it is enough, else the
// hard one (or exactly the need, when the hard limit is unlimited), else an
// error that names both numbers and the settings that move them.
func planNoFile(soft, hard uint64, need server.Descriptors) (uint64, error) {
	total := uint64(need.Total())
	switch {
	case soft >= total:
		return soft, nil
	case hard == math.MaxUint64: // RLIM_INFINITY
		return total, nil
	case hard >= total:
		return hard, nil
	}
	return 0, fmt.Errorf("the file descriptor limit (RLIMIT_NOFILE) is %d, below the %d this configuration needs "+
		"(max_connections %d + max_unauthenticated_connections %d + %d for Pebble, raft, HTTP and the event loops): "+
		"raise the limit (ulimit -n, systemd LimitNOFILE=, docker --ulimit nofile=) "+
		"or lower max_connections or max_unauthenticated_connections",
		hard, total, need.Connections, need.Unauthenticated, need.Rest)
}

// minFittedConnections is the fewest connections a default max_connections
// is lowered to when the descriptor limit is tight: below it the node
// could not serve a storefront's pools, and a refusal with what to change
// helps more than a node that turns its clients away.
const minFittedConnections = 256

// fitConnections lowers a DEFAULT max_connections (the operator did not
// set it) to what the hard descriptor limit leaves after everything else,
// so that a node on a host with a low limit starts (and says so) instead
// of refusing; ok is false when even minFittedConnections would not fit.
// An explicit max_connections is never changed: the operator asked for it.
func fitConnections(hard uint64, need server.Descriptors) (connections int, ok bool) {
	if hard == math.MaxUint64 {
		return need.Connections, true
	}
	rest := uint64(need.Unauthenticated + need.Rest)
	if hard < rest+minFittedConnections {
		return 0, false
	}
	return int(min(hard-rest, uint64(need.Connections))), true
}
