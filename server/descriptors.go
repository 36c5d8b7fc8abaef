package server

import "runtime"

// Descriptors is what a server configuration needs of the process's file
// descriptor limit (RLIMIT_NOFILE). invd checks it at start: below it,
// accepts fail with EMFILE before the port is full by its own limits, which
// the accept loop survives (listener.go) but clients see as refusals.
type Descriptors struct {
	Connections     int // MaxConnections: connections that completed HELLO
	Unauthenticated int // MaxUnauthenticated: connections that have not yet
	// Rest is DescriptorHeadroom plus two per gnet event loop (its poller
	// and its wake-up descriptor).
	Rest int
}

// Total is the limit needed.
func (d Descriptors) Total() int { return d.Connections + d.Unauthenticated + d.Rest }

// DescriptorsNeeded returns what cfg (its zero fields at their defaults)
// needs.
func DescriptorsNeeded(cfg Config) (Descriptors, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Descriptors{}, err
	}
	loops := cfg.EventLoops
	if loops <= 0 {
		loops = runtime.NumCPU() // gnet's multicore default
	}
	return Descriptors{Connections: cfg.MaxConnections, Unauthenticated: cfg.MaxUnauthenticated,
		Rest: DescriptorHeadroom + 2*loops}, nil
}
