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
//	waitlist      waitlist join|leave|show (a sold-out item's line; docs/adr/0105)
//	              stores --sku S          (stores with units available)
//	cluster       cluster status          (nodes, shards, leaders, replicas, raft indexes of every node; operator)
//	              cluster add-node|remove-node|transfer-leader|drain|undrain (operator; docs/OPERATIONS.md)
//	snapshot      snapshot                (raft snapshot of every shard of the --addr node, now; operator)
//	feed          tail [--shard N] [--from POS] [--count N]
//	catalog       import FILE.csv, export [--out FILE] [--sku S]
//
// Global flags: --addr HOST:PORT, --token TOKEN, --config FILE, --json,
// --stale (reads: any replica answers from its applied state, which may lag),
// --version (the version and source revision).
// The address and token come from the flags, else the environment
// (INV_ADDR, INV_TOKEN), else the config file (--config, default
// ~/.config/inv/invctl.conf: "addr = host:port" and "token = ..." lines),
// else 127.0.0.1:7420 and no token.
//
// Times are RFC 3339 (2026-01-03T10:00:00Z) or Unix seconds; a store's
// windows print in the store's time zone, and store and window commands
// also read a time without an offset (2026-12-24T10:00) in it. A refusal
// prints its name (sold_out, window_full, ...) on stderr with what to do
// about it ("unknown_item: no item sku1 at store s1; create it with invctl
// item put ..."; the server's or client's message, when there is one, comes
// first as it came, and the hint on a second line), and exits 1 (so does an
// import with bad rows, after listing them); a usage error exits 2; a
// failure to reach the server or an ERROR reply prints the code's name the
// same way and exits 3.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/buildinfo"
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
	sub            subject       // what the command is about, for the hints of its refusals
	cmd            *commandInfo  // the command running
	fs             *flag.FlagSet // its flags, once defined (help, completion)
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
	version := global.Bool("version", false, "print the version and the source revision, and exit")
	global.SetOutput(io.Discard)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, overview(global))
			return 0
		}
		fmt.Fprintf(stderr, "invctl: %v\n%s\n", err, usageLine)
		return exitUsage
	}
	globalFlags = global
	if *version {
		fmt.Fprintln(stdout, "invctl", buildinfo.Read())
		return 0
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
	return exitCode(err, e)
}

// exitCode prints err the way its kind asks and returns the exit code. A
// refusal or failure prints once, as "code: text": the server's or
// client's own message as it came, and a line saying what to do about it
// (hints.go), or the hint alone when there is no message.
func exitCode(err error, e *env) int {
	var use usageError
	var bad badRowsError
	var adm adminFailed
	switch {
	case err == nil:
		return 0
	case errors.As(err, &use):
		fmt.Fprintln(e.stderr, "invctl:", use.msg)
		fmt.Fprintln(e.stderr, usageOf(e.cmd))
		return exitUsage
	case errors.As(err, &bad):
		fmt.Fprintln(e.stderr, "invctl:", bad.Error())
		return exitRefused
	case errors.As(err, &adm):
		// The steps printed above say which node and shard failed, and why.
		if code, ok := client.CodeOf(adm.err); ok && !strings.Contains(adm.err.Error(), code.String()) {
			fmt.Fprintf(e.stderr, "%s: %s\n", code, errText(adm.err, code))
		} else {
			fmt.Fprintln(e.stderr, errText(adm.err, 0))
		}
		if adm.refused {
			return exitRefused
		}
		return exitFailed
	}
	code, coded := client.CodeOf(err)
	var netErr net.Error
	switch {
	case coded:
	case errors.Is(err, client.ErrUnknownOutcome):
		code = engine.CodeTimeout
	case errors.As(err, &netErr):
		code = engine.CodeUnavailable
	default:
		fmt.Fprintln(e.stderr, "invctl:", errText(err, 0))
		return exitFailed
	}
	text, hint := errText(err, code), hintFor(code, e)
	if errors.Is(err, errNodesUnanswered) || errors.Is(err, errSnapshotFailed) {
		hint = "" // the output above says which nodes or shards, and why
	}
	switch {
	case text == "" && hint == "":
		fmt.Fprintln(e.stderr, code.String())
	case text == "":
		fmt.Fprintf(e.stderr, "%s: %s\n", code, hint)
	case hint == "":
		fmt.Fprintf(e.stderr, "%s: %s\n", code, text)
	default:
		fmt.Fprintf(e.stderr, "%s: %s\nhint: %s\n", code, text, hint)
	}
	if code.Refusal() {
		return exitRefused
	}
	return exitFailed
}

func dispatch(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("no command")
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help":
		return helpCommand(e, rest)
	case "completion":
		return completion(e, rest)
	}
	if nouns[name] {
		if len(rest) == 0 {
			return usagef("%s: which operation? %s", name, strings.Join(verbsOf(name), ", "))
		}
		if rest[0] == "-h" || rest[0] == "-help" || rest[0] == "--help" {
			return helpRequest{nounHelp(name)}
		}
		name, rest = name+" "+rest[0], rest[1:]
	}
	c, ok := commands[name]
	if !ok {
		return usagef("unknown command %q (invctl help lists them)", name)
	}
	e.cmd = c
	return c.run(e, rest)
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
