package invdtest

import (
	"os"
	"path/filepath"
)

// Signal sends sig to the process (SIGHUP: reload the tokens).
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Pid is the process id (tests read /proc/PID for its memory).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// ConfigPath is where Start wrote the config file; a test rewrites it and
// sends SIGHUP to rotate tokens.
func (p *Proc) ConfigPath() string { return filepath.Join(p.Opts.Data + ".conf") }
