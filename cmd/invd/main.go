// Command invd is the inv server: one node holding every shard of the
// inventory reservation engine, each shard a raft group persisted in Pebble,
// served over inv's binary protocol.
//
//	invd                                  one node, data in ./inv-data,
//	                                      protocol on 127.0.0.1:7420,
//	                                      metrics and health on 127.0.0.1:7421
//	invd --data DIR --listen ADDR --http ADDR --shards N --config FILE [--pprof] [--accept-data-loss]
//	     [--start-profile FILE]           CPU profile of the start, up to ready
//	invd --version                        the version and source revision
//
// The HTTP address serves /metrics, /healthz, /readyz, with --pprof
// /debug/pprof, an index of them at /, and the operator console and the
// store counter (/console, /counter: docs/OPERATIONS.md, docs/SECURITY.md).
//
// The config file (key = value lines, see config.go) sets the rest: group
// commit, snapshots, raft timing, the engine's rules, the server's limits.
// SIGTERM or SIGINT stops it gracefully: it stops accepting, answers what is
// in flight, then closes the raft groups and Pebble.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // stores' time zones are looked up where requests enter: a zone database even on hosts without one

	"github.com/invsys/inv/internal/buildinfo"
	"github.com/invsys/inv/internal/cli"
	"github.com/invsys/inv/internal/failpoint"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
	"github.com/invsys/inv/server"
)

// Bounds of invd's own waits.
const (
	// leaderWait bounds the wait for every shard to elect this node at
	// start: a single-node election takes about one election timeout.
	leaderWait = 60 * time.Second
	// shutdownWait bounds a graceful stop before the process gives up on
	// it: drain, then the raft groups and Pebble.
	shutdownWait = 30 * time.Second
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		var help helpText
		if errors.As(err, &help) {
			fmt.Fprint(os.Stdout, string(help))
			return
		}
		fmt.Fprintln(os.Stderr, "invd:", err)
		os.Exit(1)
	}
}

// helpText is help asked for (-h, --help): printed on stdout, exit 0.
type helpText string

func (h helpText) Error() string { return string(h) }

func run(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "hash-token" {
		return hashToken(args[1:], os.Stdin, stdout)
	}
	cfg, err := parseArgs(args)
	if err != nil {
		return err
	}
	if cfg.ShowVersion {
		fmt.Fprintln(stdout, "invd", buildinfo.Read())
		return nil
	}
	prof, err := beginStartProfile(cfg.StartProfile)
	if err != nil {
		return fmt.Errorf("--start-profile: %w", err)
	}
	defer prof.end()
	// Before anything is opened: an exposed server without tokens never starts.
	tokens := server.NewTokens(cfg.Tokens)
	if err := server.CheckExposure(cfg.Listen, tokens); err != nil {
		return err
	}
	if err := applyTLS(&cfg); err != nil {
		return err
	}
	if cfg.HTTP != "" && cfg.Server.Pages == server.PagesOn {
		// The same rule for the pages on the HTTP address (server/pages.go).
		if err := server.CheckPagesExposure(cfg.HTTP, tokens, cfg.Server.HTTPTLSConfig != nil); err != nil {
			return err
		}
	}
	level := new(slog.LevelVar)
	level.Set(cfg.LogLevel)
	log := newLogger(os.Stderr, cfg.LogFormat, level)
	slog.SetDefault(log)
	if prof != nil {
		prof.log = log
	}
	// Test builds only (-tags failpoints): arm INV_FAILPOINTS; a no-op otherwise.
	if err := failpoint.Setup(log); err != nil {
		return err
	}
	// Before anything is opened: a limit the port would run into refuses
	// the start now rather than clients later.
	if err := checkDescriptors(&cfg.Server, log); err != nil {
		return err
	}

	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		return err
	}
	secret, err := pickupSecret(cfg.Data, cfg.PickupSecretHex)
	if err != nil {
		return err
	}
	cfg.Engine.PickupSecret = secret

	opts := cfg.Node
	opts.Dir = cfg.Data
	if cfg.Server.NodeID == 0 {
		cfg.Server.NodeID = 1
	}
	// The raft id must not change across restarts (the raft listener's port
	// may: by default it is any free loopback port), or a node would not find
	// itself in its own configuration and never elect itself.
	opts.ID = server.RaftIDOf(cfg.Server.NodeID)
	peers, err := applyCluster(&cfg, &opts)
	if err != nil {
		return err
	}
	if len(peers) > 0 && tokens.Len() > 0 && cfg.Server.ClusterToken == "" {
		// Nodes forward commands to the shards other nodes lead: with tokens
		// in force they need a credential of their own (docs/SECURITY.md).
		return errors.New("a cluster with tokens needs cluster_token")
	}
	if len(peers) == 2 {
		log.Warn("a cluster of 2 nodes stops when either fails; 3 or more tolerate failures")
	}
	if cfg.FaultInjection {
		opts.Faults = raftstore.NewFaults()
		log.Warn("fault injection is on: /debug/faults can cut this node off")
	}
	if !cfg.ShardsSet {
		// A data folder keeps the shard count it was written for, so that
		// the default applies to new folders only. A damaged record is
		// OpenNode's to report.
		if n, ok, err := raftstore.RecordedShards(cfg.Data); err == nil && ok {
			cfg.Shards = n
		}
	}
	opts.Shards = cfg.Shards
	// A data folder holds the items its placement sent to each shard: it is
	// recorded there and checked (docs/adr/0071).
	opts.Placement = protocol.HashName
	opts.Engine = cfg.Engine
	opts.Logger = log
	if cfg.AcceptDataLoss {
		opts.AcceptDataLoss = true
	}
	start := time.Now()
	node, err := raftstore.OpenNode(opts)
	if err != nil {
		return withDataLossHint(err)
	}
	if cfg.Join {
		// Its groups get a leader once the cluster adds it (invctl cluster
		// add-node), which needs its client port open for the health check.
		log.Info("joining: waiting to be added to the shard groups", "shards", cfg.Shards, "data", cfg.Data)
	} else {
		if err := waitForLeaders(node, leaderWait); err != nil {
			_ = node.Close()
			return err
		}
		log.Info("shards ready", "shards", cfg.Shards, "data", cfg.Data, "took", time.Since(start).Round(time.Millisecond))
	}
	// Restoring the snapshots and replaying the logs leaves garbage several
	// times the live state (decompressed snapshot bytes, replayed entries)
	// that the collector would return to the OS only slowly: at 2M items a
	// node held 495 B an item resident for 150 B live. One collection now,
	// before serving, returns it (docs/BENCHMARKS.md, "Scale").
	debug.FreeOSMemory()

	scfg := cfg.Server
	scfg.Listen, scfg.HTTP, scfg.Logger = cfg.Listen, cfg.HTTP, log
	scfg.Tokens = tokens
	scfg.Peers = peers
	if len(peers) > 0 {
		scfg.PeersFile = filepath.Join(cfg.Data, "peers.json")
	}
	if scfg.GroupMaxCommands == 0 {
		scfg.GroupMaxCommands = opts.BatchMaxCommands
	}
	srv, err := server.New(node, scfg)
	if err != nil {
		_ = node.Close()
		return err
	}
	if err := srv.ObserveRaft(); err != nil {
		log.Warn("raft metrics unavailable", "error", err)
	}
	// Before the port opens: a SIGHUP once clients can connect must reload,
	// not end the process.
	reloadTokensOnHangup(cfg.File, srv, log)
	if err := srv.Start(); err != nil {
		_ = node.Close()
		return err
	}
	prof.endWhenCaughtUp(node, leaderWait)

	stopBalance := make(chan struct{})
	startBalancer(node, srv, log, stopBalance)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	<-ctx.Done()
	stop()
	close(stopBalance)
	stopStart := time.Now()
	log.Info("stopping", "up_to", shutdownWait)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	err = srv.Shutdown(sctx)
	// Entries in flight resolve (a few seconds at most), then each group's
	// raft stops and Pebble closes: say so, or the stop looks hung.
	log.Info("stopping: closing the raft groups and Pebble", "shards", node.NumShards())
	err = errors.Join(err, node.Close())
	log.Info("stopped", "took", time.Since(stopStart).Round(time.Millisecond))
	return err
}

// parseArgs reads the flags and the config file; flags given on the command
// line win over the file.
func parseArgs(args []string) (config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("invd", flag.ContinueOnError)
	data := fs.String("data", cfg.Data, "data folder (raft logs, snapshots, the pickup secret)")
	listen := fs.String("listen", cfg.Listen, "protocol address host:port")
	httpAddr := fs.String("http", cfg.HTTP, "metrics, health and pprof address host:port (empty: none)")
	shards := fs.Int("shards", cfg.Shards, "number of shards (fixed for the life of the data)")
	nodeID := fs.Uint("node-id", 1, "this node's id (cluster mode: its entry in --peers)")
	raftAddr := fs.String("raft", "", "raft address host:port (default: any free loopback port; cluster mode: this node's entry in --peers)")
	peersSpec := fs.String("peers", "", "cluster members id=raft-address=client-address,... (empty: one node)")
	join := fs.Bool("join", false, "join a running cluster: --peers lists its nodes; wait for invctl cluster add-node instead of bootstrapping")
	file := fs.String("config", "", "config file of key = value lines")
	pprofOn := fs.Bool("pprof", false, "serve /debug/pprof on the HTTP address")
	acceptLoss := fs.Bool("accept-data-loss", false, "start although the raft log lost entries this node acknowledged (a torn write-ahead log): serve what remains, logged and recorded")
	logFormat := fs.String("log-format", "text", "log lines as `text` (key=value) or json (one object a line); config key log_format")
	version := fs.Bool("version", false, "print the version and the source revision, and exit")
	startProf := fs.String("start-profile", "", "write a CPU profile of the start, up to ready, to `FILE` (off by default)")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, helpText(usage(fs))
		}
		return cfg, fmt.Errorf("%w (invd -h lists the flags)", err)
	}
	if *version {
		cfg.ShowVersion = true
		return cfg, nil
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (invd -h lists the flags and commands)", fs.Arg(0))
	}
	cfg.File = *file
	if *file != "" {
		if err := loadConfigFile(&cfg, *file); err != nil {
			return cfg, err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "data":
			cfg.Data = *data
		case "listen":
			cfg.Listen = *listen
		case "http":
			cfg.HTTP = *httpAddr
		case "shards":
			cfg.Shards, cfg.ShardsSet = *shards, true
		case "pprof":
			cfg.Server.Pprof = *pprofOn
		case "node-id":
			cfg.Server.NodeID = uint32(*nodeID)
		case "raft":
			cfg.Node.BindAddr = *raftAddr
		case "peers":
			cfg.PeersSpec = *peersSpec
		case "join":
			cfg.Join = *join
		case "accept-data-loss":
			cfg.AcceptDataLoss = *acceptLoss
		case "start-profile":
			cfg.StartProfile = *startProf
		}
	})
	if isSet(fs, "log-format") {
		if err := setLogFormat(&cfg, *logFormat); err != nil {
			return cfg, fmt.Errorf("--log-format: %w", err)
		}
	}
	if cfg.Shards < 1 || cfg.Shards > raftstore.MaxShards {
		return cfg, fmt.Errorf("--shards %d outside 1..%d", cfg.Shards, raftstore.MaxShards)
	}
	return cfg, nil
}

// withDataLossHint tells the operator how to start anyway when the node
// refused because its log lost what it had acknowledged.
func withDataLossHint(err error) error {
	var dle *raftstore.DataLossError
	if errors.As(err, &dle) || errors.Is(err, raftstore.ErrMarksDamaged) {
		return fmt.Errorf("%w; to start on what remains, run with --accept-data-loss "+
			"(logged, and recorded in the data folder's data-loss.log)", err)
	}
	return err
}

// isSet reports whether the command line gave the flag.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// usage is invd -h: the forms, the flags, and where the rest is set.
func usage(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString(`usage: invd [flags]                 serve: one node, or a cluster's member with --peers
       invd hash-token [TOKEN]     the SHA-256 a config file's token line wants (TOKEN, or stdin's first line)

flags:
`)
	cli.PrintFlags(&b, fs)
	b.WriteString(`
The config file (--config, key = value lines) sets the rest: raft timing,
snapshots, tokens, TLS, limits, the engine's rules, log_level, log_format.
docs/OPERATIONS.md lists its keys. SIGTERM or SIGINT stops invd gracefully.
`)
	return b.String()
}

// waitForLeaders waits until every shard this node replicates has elected
// a leader (in a cluster of one, this node), so that the protocol port
// opens only when requests can be served.
func waitForLeaders(node *raftstore.Node, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := 0; i < node.NumShards(); i++ {
		if !node.Shard(uint16(i)).IsMember() {
			continue
		}
		for {
			if addr, _ := node.Shard(uint16(i)).Leader(); addr != "" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("shard %d has no leader after %s", i, timeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}
