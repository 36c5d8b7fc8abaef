package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/invsys/inv/internal/cli"
)

// command runs one command line (its flags and arguments).
type command func(e *env, args []string) error

// commandInfo is one command of the table: its name ("noun verb" for
// two-word commands), its positional arguments, one line saying what it
// does, and the function that runs it. Help, usage errors and shell
// completion are all made from this table and each command's own flags.
type commandInfo struct {
	name    string
	args    string // "ID", "FILE.csv", "ID RAFT_ADDR CLIENT_ADDR"; "" for none
	summary string
	run     command
}

// commandTable lists the commands in the order help shows them; commands indexes it.
var (
	commandTable []commandInfo
	commands     map[string]*commandInfo
	nouns        map[string]bool // first words of two-word commands
)

func init() { // in init: the commands' help refers back to the table
	commandTable = []commandInfo{
		{"reserve", "", "hold units of an item for a customer (prints the reservation id)", reserve},
		{"cart", "", "hold several lines for one customer, all or none, at one store or several (prints each line's id)", cart},
		{"confirm", "ID", "confirm a hold once paid (prints the 12-digit pickup code)", confirm},
		{"extend", "ID", "hold until at least --ttl from now", extend},
		{"cancel", "ID", "release a hold or a confirmed order", cancel},
		{"pickup", "", "hand over an order at the counter, found by its pickup code", pickup},
		{"reschedule", "ID", "move an order to another pickup window", reschedule},
		{"return", "ID", "take back a collected order", returnCmd},
		{"stores", "", "stores where a SKU can still be sold: units available, sale not closed", stores},
		{"item put", "", "create an item or change the settings named (stock, sale window, pickup windows); --clear removes one", itemPut},
		{"item get", "", "an item's stock, holds, orders, sale window and pickup windows", itemGet},
		{"item list", "", "every item, or one SKU's at every store", itemList},
		{"item history", "", "an item's stock and settings changes, who made each and why", itemHistory},
		{"item adjust", "", "change an item's stock by a signed number of units", itemAdjust},
		{"item restock", "", "add units to an item's stock", itemRestock},
		{"item sale-window", "", "set when an item's sale opens and closes", itemSaleWindow},
		{"item limit", "", "set how many units of a SKU one customer may own, at every store", itemLimit},
		{"item member-share", "", "keep units of an item for members of a tier until a cutoff", itemMemberShare},
		{"window put", "", "create or change one pickup window of an item", windowPut},
		{"window get", "", "one pickup window of an item, its quota and use", windowGet},
		{"store put", "", "set a store's time zone and its pickup windows across every SKU", storePut},
		{"store window", "", "create or change one pickup window of a store", storeWindow},
		{"store get", "", "a store's time zone and windows", storeGet},
		{"store stock", "", "what is available of every SKU of a store, or of --sku A,B, in one read", storeStock},
		{"store day", "", "a store's pickup windows of one day, in its time zone, with the capacity left", storeDay},
		{"store import", "FILE.csv", "load stores from a CSV file (docs/CATALOG.md)", storeImport},
		{"store export", "", "write stores as CSV", storeExport},
		{"customer get", "CUSTOMER", "a customer's tier, block and no-shows", customerGet},
		{"customer block", "CUSTOMER", "refuse a customer's reserves", customerBlock},
		{"customer unblock", "CUSTOMER", "lift a customer's block", customerUnblock},
		{"customer tier", "CUSTOMER", "set a customer's member tier", customerTier},
		{"reservation get", "ID", "one reservation (pickup codes with an operator token)", reservationGet},
		{"reservation list", "", "a customer's reservations", reservationList},
		{"marks rule", "", "set the screening marks that refuse, or hold back for review, an item's reserves (docs/adr/0104, 0107)", marksRule},
		{"marks get-rule", "", "an item's mark rule", marksGetRule},
		{"marks list", "", "held and confirmed orders with screening marks, from every shard", marksList},
		{"marks release", "ID", "release a held-back order for review, so that it may be confirmed", marksRelease},
		{"reservation unlock", "ID", "let a reservation locked by wrong pickup codes be collected again", reservationUnlock},
		{"waitlist join", "", "put a customer in a sold-out item's line: a freed unit goes to the head as a hold", waitlistJoin},
		{"waitlist leave", "", "take a customer out of an item's line", waitlistLeave},
		{"waitlist show", "", "an item's line: its length, and a customer's place in it", waitlistShow},
		{"coupons issue", "", "create or change a coupon issue: a pool of serials, store-bound or chain-wide (docs/adr/0106)", couponsIssue},
		{"coupons take", "", "hand one serial of an issue to a customer", couponsTake},
		{"coupons redeem", "SERIAL", "redeem a serial at a store, once across the chain", couponsRedeem},
		{"coupons show", "SERIAL", "a serial's state: a counter's check before redeeming", couponsShow},
		{"coupons report", "", "an issue's counts and its redemptions by store (invoicing)", couponsReport},
		{"import", "FILE.csv", "load a catalog CSV: items, stock, windows, limits (docs/CATALOG.md)", importCatalog},
		{"export", "", "write the catalog as CSV", exportCatalog},
		{"tail", "", "follow the change feed of one shard or all", tail},
		{"watch", "", "follow a SKU's available count at stores as it changes (docs/adr/0108)", watch},
		{"report pickups", "", "on-time pickup and no-show rates per store and per SKU since --since, from the change feed", reportPickups},
		{"snapshot", "", "snapshot every shard of the --addr node now (operator)", snapshot},
		{"cluster status", "", "nodes, shards, leaders, replicas and raft indexes (operator)", clusterStatus},
		{"cluster add-node", "ID RAFT_ADDR CLIENT_ADDR", "add a node started with invd --join to every shard group", clusterAddNode},
		{"cluster remove-node", "ID", "remove a node from the shard groups", clusterRemoveNode},
		{"cluster transfer-leader", "", "hand shards' leadership to another node", clusterTransferLeader},
		{"cluster drain", "ID", "move a node's leaderships away and keep them away", clusterDrain},
		{"cluster undrain", "ID", "let a drained node lead again", clusterUndrain},
	}
	commands = map[string]*commandInfo{}
	nouns = map[string]bool{}
	for i := range commandTable {
		c := &commandTable[i]
		commands[c.name] = c
		if noun, _, two := strings.Cut(c.name, " "); two {
			nouns[noun] = true
		}
	}
}

// usageLine ends a usage error outside any command.
const usageLine = "usage: invctl [global flags] COMMAND [flags] [args]; invctl help lists the commands"

// usageOf ends a usage error: the command's synopsis when one was running.
func usageOf(c *commandInfo) string {
	if c == nil {
		return usageLine
	}
	return fmt.Sprintf("usage: invctl [global flags] %s [flags]; invctl %s -h lists its flags",
		strings.TrimSpace(c.name+" "+c.args), c.name)
}

// globalFlags are invctl's own flags, for help and completion.
var globalFlags *flag.FlagSet

// helpRequest is help asked for (-h, --help, invctl help): its text goes
// to stdout and invctl exits 0.
type helpRequest struct{ text string }

func (h helpRequest) Error() string { return h.text }

// verbsOf lists a noun's verbs in table order.
func verbsOf(noun string) []string {
	var out []string
	for _, c := range commandTable {
		if n, v, ok := strings.Cut(c.name, " "); ok && n == noun {
			out = append(out, v)
		}
	}
	return out
}

// listCommands writes "name args  summary" lines of the commands keep
// selects, then the extra lines (name and summary each).
func listCommands(w io.Writer, keep func(c *commandInfo) bool, extra ...string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i := range commandTable {
		c := &commandTable[i]
		if keep(c) {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(tw, "  %s\t%s\n", extra[i], extra[i+1])
	}
	tw.Flush()
}

// overview is invctl -h and invctl help: every command, then the global flags.
func overview(global *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("usage: invctl [global flags] COMMAND [flags] [args]\n\ncommands:\n")
	listCommands(&b, func(*commandInfo) bool { return true },
		"help [COMMAND]", "this list, or one command's arguments and flags",
		"completion bash|zsh", "a shell completion script: source <(invctl completion bash)")
	b.WriteString("\nglobal flags (before the command):\n")
	cli.PrintFlags(&b, global)
	b.WriteString("\ninvctl COMMAND -h (or invctl help COMMAND) describes a command's arguments and flags.\n")
	return b.String()
}

// nounHelp is invctl NOUN -h: the noun's commands.
func nounHelp(noun string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: invctl [global flags] %s VERB [flags] [args]\n\n%s commands:\n", noun, noun)
	listCommands(&b, func(c *commandInfo) bool { return strings.HasPrefix(c.name, noun+" ") })
	fmt.Fprintf(&b, "\ninvctl %s VERB -h describes one.\n", noun)
	return b.String()
}

// commandHelp is invctl COMMAND -h: its synopsis, what it does, its flags
// (required ones first, marked so).
func commandHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	c := commands[fs.Name()]
	fmt.Fprintf(&b, "usage: invctl [global flags] %s", fs.Name())
	if c != nil && c.args != "" {
		b.WriteString(" " + c.args)
	}
	b.WriteString(" [flags]\n")
	if c != nil {
		b.WriteString(c.summary + "\n")
	}
	b.WriteString("\nflags:\n")
	cli.PrintFlags(&b, fs)
	return b.String()
}

// helpCommand is invctl help [COMMAND]: a noun's help for a noun, a
// command's for a command.
func helpCommand(e *env, args []string) error {
	switch {
	case len(args) == 0:
		return helpRequest{overview(globalFlags)}
	case len(args) == 1 && nouns[args[0]]:
		return helpRequest{nounHelp(args[0])}
	}
	name := strings.Join(args, " ")
	c, ok := commands[name]
	if !ok {
		return usagef("help: unknown command %q", name)
	}
	return c.run(e, []string{"-h"})
}

// flagsOf returns a command's flag set, from a run that only asks for help
// (every command defines its flags, then parses, before anything else).
func flagsOf(c *commandInfo) *flag.FlagSet {
	e := &env{stdout: io.Discard, stderr: io.Discard}
	_ = c.run(e, []string{"-h"})
	return e.fs
}

// completion prints a completion script for bash or zsh: commands, then a
// noun's verbs, then a command's flags; files after import and store
// import.
func completion(e *env, args []string) error {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		return usagef("completion: want bash or zsh (source <(invctl completion bash))")
	}
	if args[0] == "zsh" {
		fmt.Fprint(e.stdout, "#compdef invctl\n# zsh completion for invctl: source <(invctl completion zsh)\n"+
			"autoload -U +X bashcompinit && bashcompinit\n")
	} else {
		fmt.Fprint(e.stdout, "# bash completion for invctl: source <(invctl completion bash)\n")
	}
	var first []string
	for _, c := range commandTable {
		if n, _, two := strings.Cut(c.name, " "); !two || !contains(first, n) {
			first = append(first, n)
		}
	}
	first = append(first, "help", "completion")
	var nounCases, flagCases strings.Builder
	nounList := make([]string, 0, len(nouns))
	for n := range nouns {
		nounList = append(nounList, n)
	}
	sort.Strings(nounList)
	for _, n := range nounList {
		fmt.Fprintf(&nounCases, "      %s) COMPREPLY=($(compgen -W %q -- \"$cur\"));;\n", n, strings.Join(verbsOf(n), " "))
	}
	for i := range commandTable {
		fmt.Fprintf(&flagCases, "    %q) opts=%q;;\n", commandTable[i].name, strings.Join(cli.Names(flagsOf(&commandTable[i])), " "))
	}
	fmt.Fprintf(e.stdout, completionScript, strings.Join(cli.Names(globalFlags), " "), strings.Join(first, " "),
		nounCases.String(), flagCases.String(), strings.Join(nounList, " "))
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// completionScript takes the global flags, the first words, the nouns'
// cases, the commands' flag cases and the nouns.
const completionScript = `_invctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd="" noun="" w i opts
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case "$w" in
      --addr|-addr|--token|-token|--config|-config) ((i++)); continue;;
      -*) continue;;
    esac
    if [[ -z $noun ]]; then
      noun=$w
      [[ " %[5]s " == *" $w "* ]] || { cmd=$w; break; }
    else
      cmd="$noun $w"; break
    fi
  done
  if [[ -z $noun ]]; then
    if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W %[1]q -- "$cur"))
    else COMPREPLY=($(compgen -W %[2]q -- "$cur")); fi
    return
  fi
  case "$noun" in
    help) COMPREPLY=($(compgen -W %[2]q -- "$cur")); return;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return;;
  esac
  if [[ -z $cmd ]]; then
    case "$noun" in
%[3]s    esac
    return
  fi
  case "$cmd" in
%[4]s    *) opts="";;
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _invctl invctl
`
