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
