//go:build unix

package main

import (
	"fmt"
	"log/slog"
	"syscall"

	"github.com/invsys/inv/server"
)

// checkDescriptors makes sure the process may open the file descriptors its
// server configuration needs (server.DescriptorsNeeded): below that, the
// protocol port runs out while it still has room by its own limits, and
// refuses clients. A soft limit too low is raised toward the hard limit. A
// hard limit too low lowers a default max_connections to fit (scfg is
// changed, with a warning), and stops the start with what to change when
// max_connections was set explicitly or nothing sensible fits.
func checkDescriptors(scfg *server.Config, log *slog.Logger) error {
	need, err := server.DescriptorsNeeded(*scfg)
	if err != nil {
		return err
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("reading the file descriptor limit: %w", err)
	}
	soft, err := planNoFile(uint64(lim.Cur), uint64(lim.Max), need)
	if err != nil && scfg.MaxConnections == 0 {
		conns, ok := fitConnections(uint64(lim.Max), need)
		if !ok {
			return err
		}
		log.Warn("max_connections lowered to fit the file descriptor limit; raise the limit (ulimit -n, systemd LimitNOFILE=) for the default",
			"max_connections", conns, "default", need.Connections, "limit", uint64(lim.Max))
		scfg.MaxConnections = conns
		need.Connections = conns
		soft, err = planNoFile(uint64(lim.Cur), uint64(lim.Max), need)
	}
	if err != nil {
		return err
	}
	if soft == uint64(lim.Cur) {
		return nil
	}
	old := lim.Cur
	lim.Cur = soft
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising the file descriptor limit from %d to %d: %w", old, soft, err)
	}
	log.Info("raised the file descriptor limit", "from", old, "to", soft, "needed", need.Total())
	return nil
}
