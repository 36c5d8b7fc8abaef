package bench

// Shows how thin cmd/invbench is meant to be: flags from RegisterFlags, a
// Target (here the tests' fake; there the client adapter), Run, Print. The
// example runs a small flash-hot and checks the one figure that does not
// depend on timing.

import (
	"context"
	"flag"
	"fmt"
	"io"
)

func ExampleRun() {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("invbench", flag.ExitOnError)
	cfg.RegisterFlags(fs)
	// cmd/invbench registers the adapter's flags (address, token) here too.
	fs.Parse([]string{"-workload", "flash-hot", "-scale", "1000", "-conns", "2", "-inflight", "4", "-quiet"})

	var target Target = newFake() // cmd/invbench: the adapter over the client
	rep, err := Run(context.Background(), cfg, target)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep.Print(io.Discard) // cmd/invbench: os.Stdout
	fmt.Println(rep.Reserved, rep.Invariant)
	// Output: 100 ok
}
