// Command invctl operates an inv server from a shell, on the client
// library: every operator operation and read of the domain, with
// human-readable tables by default and JSON with --json.
//
//	invctl [global flags] COMMAND [flags] [args]
//
//	items         item put|get|list|adjust|restock|sale-window|limit|member-share
//	              (item limit --sku S --limit N: the SKU's limit, at every store)
//	windows       window put|get          (an item's own windows and quotas)
//	stores        store put|window|get    (a store's time zone; its windows' capacity across every SKU)
//	              store import FILE.csv, store export [--out FILE] [--store S ...]
//	customers     customer get|block|unblock|tier
//	reservations  reservation get|list|unlock (pickup codes shown with an operator token only)
//	storefront    reserve, confirm, extend, cancel, pickup, reschedule, return
//	              stores --sku S          (stores with units available)
//	cluster       cluster status          (nodes, shards, leaders, replicas, raft indexes of every node; operator)
//	              cluster add-node|remove-node|transfer-leader|drain|undrain (operator; docs/OPERATIONS.md)
//	snapshot      snapshot                (raft snapshot of every shard of the --addr node, now; operator)
//	feed          tail [--shard N] [--from POS] [--count N]
//	catalog       import FILE.csv, export [--out FILE] [--sku S]
//
// Global flags: --addr HOST:PORT, --token TOKEN, --config FILE, --json,
// --stale (reads: any replica answers from its applied state, which may lag).
// The address and token come from the flags, else the environment
// (INV_ADDR, INV_TOKEN), else the config file (--config, default
// ~/.config/inv/invctl.conf: "addr = host:port" and "token = ..." lines),
// else 127.0.0.1:7420 and no token.
//
// Times are RFC 3339 (2026-01-03T10:00:00Z) or Unix seconds; a store's
// windows print in the store's time zone, and store and window commands
// also read a time without an offset (2026-12-24T10:00) in it. A refusal
// prints its name (sold_out, window_full, ...) on stderr, and on a second
// line what to do when the server or client says (window_required: pick a
// window), and exits 1 (so
// does an import with bad rows, after listing them); a usage error exits
// 2; a failure to reach the server or an ERROR reply prints the code's
// name and exits 3.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

// Exit codes.
const (
	exitRefused = 1
	exitUsage   = 2
	exitFailed  = 3
)

// requestTimeout bounds one request (the client retries inside it);
// commandTimeout bounds a whole command except tail and import, which run
// as long as their work.
const (
	requestTimeout = 10 * time.Second
	commandTimeout = 30 * time.Second
	dialTimeout    = 3 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// refusedError is a domain refusal: the engine said no.
type refusedError struct{ code engine.Code }

func (e refusedError) Error() string { return e.code.String() }

// usageError is a command line that cannot be run.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// env is what every command gets: where to write, how to print, and a
// client dialled on first use.
type env struct {
	stdout, stderr io.Writer
	json           bool
	stale          bool // reads may be served by any replica (client.Stale)
	addr, token    string
	cl             *client.Client
}

// client dials the server once; later calls reuse the connection.
func (e *env) client() (*client.Client, error) {
	if e.cl != nil {
		return e.cl, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	opts := []client.Option{client.WithClientName("invctl"), client.WithDialTimeout(dialTimeout),
		client.WithRequestTimeout(requestTimeout)}
	if e.token != "" {
		opts = append(opts, client.WithToken(e.token))
	}
	cl, err := client.Dial(ctx, []string{e.addr}, opts...)
	if err != nil {
		return nil, err
	}
	e.cl = cl
	return cl, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("invctl", flag.ContinueOnError)
	global.SetOutput(stderr)
	addr := global.String("addr", "", "server address host:port (env INV_ADDR)")
	token := global.String("token", "", "access token (env INV_TOKEN)")
	confPath := global.String("config", "", "config file (default ~/.config/inv/invctl.conf)")
	asJSON := global.Bool("json", false, "print JSON instead of tables")
	stale := global.Bool("stale", false, "reads: any replica may answer from its applied state (possibly behind)")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "usage: invctl [--addr HOST:PORT] [--token T] [--config FILE] [--json] [--stale] COMMAND ...; commands:",
				strings.Join(commandNames(), ", "))
			fmt.Fprintln(stdout, "invctl COMMAND -h describes a command's arguments and flags.")
			return 0
		}
		return exitUsage
	}
	e := &env{stdout: stdout, stderr: stderr, json: *asJSON, stale: *stale}
	var err error
	e.addr, e.token, err = resolveSettings(*addr, *token, *confPath, os.Getenv)
	if err == nil {
		err = dispatch(e, global.Args())
	}
	if e.cl != nil {
		e.cl.Close()
	}
	var help helpRequest
	if errors.As(err, &help) {
		fmt.Fprint(stdout, help.text)
		return 0
	}
	return exitCode(err, stderr)
}

// exitCode prints err the way its kind asks and returns the exit code.
func exitCode(err error, stderr io.Writer) int {
	var ref refusedError
	var use usageError
	var bad badRowsError
	var adm adminFailed
	if code, ok := client.CodeOf(err); ok && err != nil && code < engine.CodeUnauthorized {
		ref = refusedError{code}
	}
	switch {
	case err == nil:
		return 0
	case errors.As(err, &adm):
		fmt.Fprintln(stderr, "invctl:", adm.Error())
		if adm.refused {
			return exitRefused
		}
		return exitFailed
	case errors.As(err, &bad):
		fmt.Fprintln(stderr, "invctl:", bad.Error())
		return exitRefused
	case ref.code != 0 || errors.As(err, &ref):
		fmt.Fprintln(stderr, ref.code.String())
		var se *client.ServerError
		if errors.As(err, &se) && se.Message != "" {
			fmt.Fprintln(stderr, "invctl:", se.Message)
		}
		return exitRefused
	case errors.As(err, &use):
		fmt.Fprintln(stderr, "invctl:", use.msg)
		fmt.Fprintln(stderr, "usage: invctl [--addr HOST:PORT] [--token T] [--config FILE] [--json] COMMAND ...; commands:",
			strings.Join(commandNames(), ", "))
		return exitUsage
	default:
		code, _ := client.CodeOf(err)
		if code == 0 {
			code = engine.CodeUnavailable
		}
		fmt.Fprintf(stderr, "%s\ninvctl: %v\n", code.String(), err)
		return exitFailed
	}
}

// command runs one command line (its flags and arguments).
type command func(e *env, args []string) error

// commands by name; two-word commands are "noun verb".
var commands map[string]command

func init() {
	commands = map[string]command{
		"item put": itemPut, "item get": itemGet, "item list": itemList,
		"item adjust": itemAdjust, "item restock": itemRestock, "item sale-window": itemSaleWindow,
		"item limit": itemLimit, "item member-share": itemMemberShare,
		"window put": windowPut, "window get": windowGet,
		"store put": storePut, "store window": storeWindow, "store get": storeGet,
		"store import": storeImport, "store export": storeExport,
		"customer get": customerGet, "customer block": customerBlock, "customer unblock": customerUnblock,
		"customer tier":   customerTier,
		"reservation get": reservationGet, "reservation list": reservationList, "reservation unlock": reservationUnlock,
		"reserve": reserve, "confirm": confirm, "extend": extend, "cancel": cancel, "pickup": pickup,
		"reschedule": reschedule, "return": returnCmd,
		"stores": stores, "cluster status": clusterStatus,
		"cluster add-node": clusterAddNode, "cluster remove-node": clusterRemoveNode,
		"cluster transfer-leader": clusterTransferLeader, "cluster drain": clusterDrain,
		"cluster undrain": clusterUndrain,
		"tail":            tail, "import": importCatalog, "export": exportCatalog,
		"snapshot": snapshot,
	}
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// nouns take a verb after them.
var nouns = map[string]bool{"item": true, "window": true, "store": true, "customer": true, "reservation": true, "cluster": true}

func dispatch(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("no command")
	}
	name, rest := args[0], args[1:]
	if nouns[name] {
		if len(rest) == 0 {
			return usagef("%s: which operation?", name)
		}
		name, rest = name+" "+rest[0], rest[1:]
	}
	f, ok := commands[name]
	if !ok {
		return usagef("unknown command %q", name)
	}
	return f(e, rest)
}

// readOpts are the options of every read (--stale).
func (e *env) readOpts() []client.ReadOption {
	if e.stale {
		return []client.ReadOption{client.Stale()}
	}
	return nil
}

// ctx bounds a command that is not long-running.
func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), commandTimeout)
}
