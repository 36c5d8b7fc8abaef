package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/raftstore"
	"github.com/invsys/inv/server"
)

// config is everything invd can be told. The flags cover the common four;
// the config file (--config) covers the rest, one "key = value" per line:
//
//	# comments start with '#'; blank lines are skipped
//	batch_max_delay   = 200us   # durations as Go writes them: 200us, 10m, 24h
//	snapshot_threshold = 2048
//	local_reads       = false
//	pickup_secret     = "9f1c…"  # hex; quotes are optional
//
// Unknown keys are errors, so that a typo does not silently leave a default
// in force. configKeys below is the whole vocabulary.
type config struct {
	Data, Listen, HTTP                 string
	Shards                             int
	ShardsSet                          bool // shards given by a flag or the file; else a data folder keeps its own (run)
	LogLevel                           slog.Level
	LogFormat                          string // text (default) or json
	PickupSecretHex                    string
	File                               string                  // the config file (--config), read again on SIGHUP
	Tokens                             map[string]server.Grant // token hash → grant (auth.go)
	TLSCert, TLSKey                    string                  // PEM files of the TLS client listener (auth.go)
	HTTPTLSCert, HTTPTLSKey            string                  // PEM files of the HTTP address's TLS (auth.go)
	RaftTLSCert, RaftTLSKey, RaftTLSCA string                  // PEM files of mutual TLS between nodes (auth.go)
	PeersSpec                          string                  // cluster members, see cluster.go; empty: one node
	Join                               bool                    // a new node joining a running cluster (cluster.go)
	FaultInjection                     bool                    // the raft fault layer and /debug/faults (fault tests only)
	AcceptDataLoss                     bool                    // start although the raft log lost acknowledged entries (--accept-data-loss)
	ShowVersion                        bool                    // --version: print it and exit
	StartProfile                       string                  // --start-profile: CPU profile of the start, up to ready

	Node   raftstore.Options
	Engine engine.Config
	Server server.Config
}

func defaultConfig() config {
	return config{
		Data:   "inv-data",
		Listen: "127.0.0.1:7420",
		HTTP:   "127.0.0.1:7421",
		Shards: raftstore.DefaultShards,
	}
}

// setter parses a value into the config.
type setter func(c *config, v string) error

func intKey(f func(c *config) *int) setter {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*f(c) = n
		return nil
	}
}

func uintKey(f func(c *config) *uint64) setter {
	return func(c *config, v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return err
		}
		*f(c) = n
		return nil
	}
}

// ratioOrOffKey parses snapshot_log_ratio and snapshot_replay_ratio: a
// positive number, or "off" (-1: no such bound).
func ratioOrOffKey(f func(c *config) *float64) setter {
	return func(c *config, v string) error {
		if v == "off" {
			*f(c) = -1
			return nil
		}
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		if !(r > 0) || math.IsInf(r, 0) {
			return fmt.Errorf("%s is not a number above 0 (or off)", v)
		}
		*f(c) = r
		return nil
	}
}

func durKey(f func(c *config) *time.Duration) setter {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		if d < 0 {
			return fmt.Errorf("negative duration %s", v)
		}
		*f(c) = d
		return nil
	}
}

func strKey(f func(c *config) *string) setter {
	return func(c *config, v string) error { *f(c) = v; return nil }
}

func boolKey(f func(c *config) *bool) setter {
	return func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*f(c) = b
		return nil
	}
}

// positive refuses a value that is not a whole number above 0: the
// memory settings it guards have no meaning at 0 or below, and taking the
// default instead would hide the mistake.
func positive(set setter) setter {
	return func(c *config, v string) error {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n <= 0 {
			return fmt.Errorf("%s is not above 0", v)
		}
		return set(c, v)
	}
}

// Upper bounds of the marks' keys that the engine does not bound itself.
const (
	// maxMarkPickups: pickups that make a customer loyal; past a thousand
	// nobody would ever be, which is a typo rather than a policy.
	maxMarkPickups = 1000
	// maxMarkPrints: fingerprints a shard remembers, at about 200 bytes
	// each; 64M is ~13 GiB a shard, more than a node should give them.
	maxMarkPrints = 1 << 26
)

// rangedInt sets a whole number within [lo, hi]: a threshold outside it has
// no meaning (the engine would clamp or default it, hiding the mistake).
func rangedInt(lo, hi int, f func(c *config) *int) setter {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		if n < lo || n > hi {
			return fmt.Errorf("%d: want %d to %d", n, lo, hi)
		}
		*f(c) = n
		return nil
	}
}

// positiveDur refuses a duration of 0, which the engine would take for
// its default.
func positiveDur(set setter) setter {
	return func(c *config, v string) error {
		if d, err := time.ParseDuration(v); err == nil && d == 0 {
			return fmt.Errorf("%s is not above 0", v)
		}
		return set(c, v)
	}
}

// checkEngineKeys checks what spans keys once the file is read: a promoted
// head's hold may not outlive max_hold (the engine would cut it silently).
func checkEngineKeys(c *config, name string) error {
	maxHold := c.Engine.MaxHold
	if maxHold == 0 {
		maxHold = engine.Config{}.WithDefaults().MaxHold
	}
	if c.Engine.WaitlistHoldTTL > maxHold {
		return fmt.Errorf("%s: waitlist_hold_ttl %v is over max_hold %v", name, c.Engine.WaitlistHoldTTL, maxHold)
	}
	return nil
}

// setShards sets the shard count and notes that it was given.
func setShards(c *config, v string) error {
	c.ShardsSet = true
	return intKey(func(c *config) *int { return &c.Shards })(c, v)
}

// configKeys is the config file's vocabulary.
var configKeys = map[string]setter{
	// Where and how to serve (flags override these).
	"data":      strKey(func(c *config) *string { return &c.Data }),
	"listen":    strKey(func(c *config) *string { return &c.Listen }),
	"http":      strKey(func(c *config) *string { return &c.HTTP }),
	"shards":    setShards,
	"advertise": strKey(func(c *config) *string { return &c.Server.Advertise }),
	"node_id": func(c *config, v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		if err == nil && n == 0 {
			err = fmt.Errorf("node_id 0 means no node")
		}
		c.Server.NodeID = uint32(n)
		return err
	},
	"raft_bind": strKey(func(c *config) *string { return &c.Node.BindAddr }),
	"peers":     strKey(func(c *config) *string { return &c.PeersSpec }),
	"join":      boolKey(func(c *config) *bool { return &c.Join }),
	"replicas":  intKey(func(c *config) *int { return &c.Node.Replicas }),
	// fault_injection enables /debug/faults (partitions, delays, drops of
	// raft traffic): for fault tests, never in production.
	"fault_injection": boolKey(func(c *config) *bool { return &c.FaultInjection }),
	"log_level":       func(c *config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) },
	"log_format":      func(c *config, v string) error { return setLogFormat(c, v) },
	"event_loops":     intKey(func(c *config) *int { return &c.Server.EventLoops }),

	// Group commit (per shard).
	"batch_max_commands":    intKey(func(c *config) *int { return &c.Node.BatchMaxCommands }),
	"batch_max_bytes":       intKey(func(c *config) *int { return &c.Node.BatchMaxBytes }),
	"batch_max_delay":       durKey(func(c *config) *time.Duration { return &c.Node.BatchMaxDelay }),
	"max_in_flight_entries": intKey(func(c *config) *int { return &c.Node.MaxInFlight }),
	"queue_max_commands":    intKey(func(c *config) *int { return &c.Node.QueueMaxCommands }),
	"apply_timeout":         durKey(func(c *config) *time.Duration { return &c.Node.ApplyTimeout }),
	"expiry_check":          durKey(func(c *config) *time.Duration { return &c.Node.ExpiryCheck }),

	// Raft timing, snapshots and log truncation.
	"heartbeat_timeout":     durKey(func(c *config) *time.Duration { return &c.Node.HeartbeatTimeout }),
	"election_timeout":      durKey(func(c *config) *time.Duration { return &c.Node.ElectionTimeout }),
	"leader_lease_timeout":  durKey(func(c *config) *time.Duration { return &c.Node.LeaderLeaseTimeout }),
	"commit_timeout":        durKey(func(c *config) *time.Duration { return &c.Node.CommitTimeout }),
	"snapshot_interval":     durKey(func(c *config) *time.Duration { return &c.Node.SnapshotInterval }),
	"snapshot_threshold":    uintKey(func(c *config) *uint64 { return &c.Node.SnapshotThreshold }),
	"trailing_logs":         uintKey(func(c *config) *uint64 { return &c.Node.TrailingLogs }),
	"snapshots_retained":    intKey(func(c *config) *int { return &c.Node.SnapshotsRetained }),
	"snapshots_at_once":     positive(intKey(func(c *config) *int { return &c.Node.SnapshotsAtOnce })),
	"snapshot_log_ratio":    ratioOrOffKey(func(c *config) *float64 { return &c.Node.SnapshotLogRatio }),
	"snapshot_replay_ratio": ratioOrOffKey(func(c *config) *float64 { return &c.Node.SnapshotReplayRatio }),

	// Memory beyond the engine's own (docs/OPERATIONS.md, "Memory").
	"log_cache_entries": positive(intKey(func(c *config) *int { return &c.Node.LogCacheEntries })),
	"store_cache_bytes": positive(func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		c.Node.Store.CacheBytes = n
		return nil
	}),
	"store_memtable_bytes": positive(uintKey(func(c *config) *uint64 { return &c.Node.Store.MemTableBytes })),

	// The engine (the same on every node of a cluster).
	"hold_ttl":              durKey(func(c *config) *time.Duration { return &c.Engine.DefaultHoldTTL }),
	"max_hold":              durKey(func(c *config) *time.Duration { return &c.Engine.MaxHold }),
	"pickup_period":         durKey(func(c *config) *time.Duration { return &c.Engine.PickupPeriod }),
	"pickup_grace":          durKey(func(c *config) *time.Duration { return &c.Engine.PickupGrace }),
	"idempotency_retention": durKey(func(c *config) *time.Duration { return &c.Engine.IdempotencyRetention }),
	"finished_retention":    durKey(func(c *config) *time.Duration { return &c.Engine.FinishedRetention }),
	"max_pickup_attempts":   intKey(func(c *config) *int { return &c.Engine.MaxPickupAttempts }),
	"no_show_limit":         intKey(func(c *config) *int { return &c.Engine.NoShowLimit }),
	"no_show_period":        durKey(func(c *config) *time.Duration { return &c.Engine.NoShowPeriod }),
	"rate_per_second": func(c *config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && f < 0 {
			err = fmt.Errorf("negative rate %s", v)
		}
		c.Engine.RatePerSecond = f
		return err
	},
	"rate_burst":    intKey(func(c *config) *int { return &c.Engine.RateBurst }),
	"pickup_secret": strKey(func(c *config) *string { return &c.PickupSecretHex }),
	// A promoted waitlist head's hold (docs/adr/0105): at most max_hold,
	// checked once the file is read (checkEngineKeys).
	"waitlist_hold_ttl": positiveDur(durKey(func(c *config) *time.Duration { return &c.Engine.WaitlistHoldTTL })),

	// Screening marks' thresholds (engine.MarkConfig, docs/adr/0104).
	"mark_loyal_pickups": rangedInt(1, maxMarkPickups, func(c *config) *int { return &c.Engine.Marks.LoyalPickups }),
	"mark_print_customers": rangedInt(2, engine.MaxPrintCustomers,
		func(c *config) *int { return &c.Engine.Marks.PrintCustomers }),
	"mark_print_window": positiveDur(durKey(func(c *config) *time.Duration { return &c.Engine.Marks.PrintWindow })),
	"mark_velocity_reserves": rangedInt(2, engine.MaxVelocityReserves,
		func(c *config) *int { return &c.Engine.Marks.VelocityReserves }),
	"mark_velocity_window": positiveDur(durKey(func(c *config) *time.Duration { return &c.Engine.Marks.VelocityWindow })),
	"mark_max_prints":      rangedInt(1, maxMarkPrints, func(c *config) *int { return &c.Engine.Marks.MaxPrints }),

	// Limits across shards (docs/adr/0070).
	"claim_window":   durKey(func(c *config) *time.Duration { return &c.Server.ClaimWindow }),
	"cancel_wait":    durKey(func(c *config) *time.Duration { return &c.Server.CancelWait }),
	"copy_wait":      durKey(func(c *config) *time.Duration { return &c.Server.CopyWait }),
	"sweep_interval": durKey(func(c *config) *time.Duration { return &c.Server.SweepInterval }),

	// The protocol server's limits.
	"max_connections":    intKey(func(c *config) *int { return &c.Server.MaxConnections }),
	"max_in_flight":      intKey(func(c *config) *int { return &c.Server.MaxInFlight }),
	"max_frame_bytes":    intKey(func(c *config) *int { return &c.Server.MaxFrameBytes }),
	"max_outbound_bytes": intKey(func(c *config) *int { return &c.Server.MaxOutboundBytes }),
	// max_reply_buffer_bytes is the node-wide budget of bytes held for
	// clients' replies (server/replybudget.go); the server refuses one
	// under max_frame_bytes or max_outbound_bytes at start.
	"max_reply_buffer_bytes": func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err == nil && n <= 0 {
			err = fmt.Errorf("max_reply_buffer_bytes must be positive")
		}
		if err == nil {
			c.Server.MaxReplyBufferBytes = n
		}
		return err
	},
	"compress_min_bytes": intKey(func(c *config) *int { return &c.Server.CompressMinBytes }),
	// Connections that have not said HELLO yet: a budget of their own, the
	// oldest closed when it is full (server/admission.go).
	"max_unauthenticated_connections": func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		if n < 1 {
			return fmt.Errorf("%d: at least 1 (every client passes through it before HELLO)", n)
		}
		c.Server.MaxUnauthenticated = n
		return nil
	},
	// Connections from one remote IP address; 0 turns the bound off.
	"max_connections_per_address": func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("%d: 0 (no bound) or more", n)
		}
		if n == 0 {
			n = -1 // the server's "no bound"; its 0 means "the default"
		}
		c.Server.MaxConnsPerAddress = n
		return nil
	},
	// feed_events sized the in-memory ring SUBSCRIBE once read; the feed
	// is now durable (feed_retention, feed_max_events). Accepted and
	// ignored, so that older config files still load.
	"feed_events": func(*config, string) error { return nil },
	// The durable change feed (SUBSCRIBE): age and count bounds per shard
	// (-1 or 0s: no bound), and how often the pruner applies them.
	"feed_retention":      durKey(func(c *config) *time.Duration { return &c.Node.FeedRetention }),
	"feed_prune_interval": durKey(func(c *config) *time.Duration { return &c.Node.FeedPruneInterval }),
	"feed_max_events": func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		c.Node.FeedMaxEvents = n
		return err
	},
	// The disk reserve (docs/OPERATIONS.md "Disk space"): writes are
	// refused with disk_full while the data folder's filesystem has less
	// free (-1: no reserve), read every disk_check_interval.
	"disk_reserve_bytes": func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil && n < -1 {
			err = fmt.Errorf("%d: a size in bytes, or -1 for no reserve", n)
		}
		c.Node.DiskReserveBytes = n
		return err
	},
	"disk_check_interval": durKey(func(c *config) *time.Duration { return &c.Node.DiskCheckInterval }),
	// accept_data_loss starts a node whose raft log lost entries it had
	// acknowledged (as --accept-data-loss); leave it off but for that start.
	"accept_data_loss": boolKey(func(c *config) *bool { return &c.AcceptDataLoss }),
	// pprof serves /debug/pprof on the HTTP address (off by default).
	"pprof":       boolKey(func(c *config) *bool { return &c.Server.Pprof }),
	"local_reads": boolKey(func(c *config) *bool { return &c.Server.LocalReads }),
	"read_mode": func(c *config, v string) error {
		c.Server.ReadMode = server.ReadMode(v)
		return c.Server.ReadMode.Check()
	},
	"drain_timeout": durKey(func(c *config) *time.Duration { return &c.Server.DrainTimeout }),
	"hello_timeout": durKey(func(c *config) *time.Duration { return &c.Server.HelloTimeout }),

	"read_timeout":  durKey(func(c *config) *time.Duration { return &c.Server.ReadTimeout }),
	"write_timeout": durKey(func(c *config) *time.Duration { return &c.Server.WriteTimeout }),

	// pages serves the operator console and the store counter on the HTTP
	// address: auto (where loopback, or tokens and TLS, guard it), on (or
	// refuse to start), off. http_tls_cert and http_tls_key serve the
	// HTTP address over TLS (server/pages.go, docs/SECURITY.md).
	"pages": func(c *config, v string) error {
		c.Server.Pages = server.PagesMode(v)
		return c.Server.Pages.Check()
	},
	// pages_book_idle: how long the pages' book follows the change feeds
	// after the last request of the pages (a duration above 0), or
	// "always" (server.Config.PagesBookIdle).
	"pages_book_idle": func(c *config, v string) error {
		if v == "always" {
			c.Server.PagesBookIdle = -1
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a duration above 0 or always, not %q", v)
		}
		c.Server.PagesBookIdle = d
		return nil
	},
	"http_tls_cert": strKey(func(c *config) *string { return &c.HTTPTLSCert }),
	"http_tls_key":  strKey(func(c *config) *string { return &c.HTTPTLSKey }),

	// Access and abuse (auth.go, docs/SECURITY.md).
	"token":                  tokenKey,
	"cluster_token":          clusterTokenKey,
	"tls_listen":             strKey(func(c *config) *string { return &c.Server.TLSListen }),
	"tls_cert":               strKey(func(c *config) *string { return &c.TLSCert }),
	"tls_key":                strKey(func(c *config) *string { return &c.TLSKey }),
	"tls_advertise":          strKey(func(c *config) *string { return &c.Server.TLSAdvertise }),
	"raft_tls_cert":          strKey(func(c *config) *string { return &c.RaftTLSCert }),
	"raft_tls_key":           strKey(func(c *config) *string { return &c.RaftTLSKey }),
	"raft_tls_ca":            strKey(func(c *config) *string { return &c.RaftTLSCA }),
	"pickup_rate_per_conn":   floatKey(func(c *config) *float64 { return &c.Server.PickupRatePerConn }),
	"pickup_burst_per_conn":  intKey(func(c *config) *int { return &c.Server.PickupBurstPerConn }),
	"pickup_rate_per_store":  floatKey(func(c *config) *float64 { return &c.Server.PickupRatePerStore }),
	"pickup_burst_per_store": intKey(func(c *config) *int { return &c.Server.PickupBurstPerStore }),
}

// maxConfigBytes bounds the config file: a few dozen keys fit many times.
const maxConfigBytes = 1 << 20

// loadConfigFile applies the file at path to c.
func loadConfigFile(c *config, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return parseConfig(c, io.LimitReader(f, maxConfigBytes), path)
}

// parseConfig applies "key = value" lines to c.
func parseConfig(c *config, r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(stripComment(sc.Text()))
		if text == "" {
			continue
		}
		key, val, ok := strings.Cut(text, "=")
		if !ok {
			return fmt.Errorf("%s:%d: want key = value, got %q", name, line, text)
		}
		key = strings.TrimSpace(key)
		val = unquote(strings.TrimSpace(val))
		set, known := configKeys[key]
		if !known {
			return fmt.Errorf("%s:%d: unknown key %q", name, line, key)
		}
		if err := set(c, val); err != nil {
			return fmt.Errorf("%s:%d: %s: %v", name, line, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", name, err) // a line over bufio's 64 KiB
	}
	return checkEngineKeys(c, name)
}

// stripComment cuts a '#' comment that is not inside double quotes.
func stripComment(s string) string {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '#':
			if !quoted {
				return s[:i]
			}
		}
	}
	return s
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// decodeSecret parses a configured pickup secret.
func decodeSecret(h string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil {
		return nil, fmt.Errorf("pickup_secret: %v", err)
	}
	if len(b) < minSecretBytes {
		return nil, fmt.Errorf("pickup_secret: %d bytes, want at least %d", len(b), minSecretBytes)
	}
	return b, nil
}

// setLogFormat checks a log format name: text (slog's key=value lines) or
// json (one object a line).
func setLogFormat(c *config, v string) error {
	if v != "text" && v != "json" {
		return fmt.Errorf("log format %q: want text or json", v)
	}
	c.LogFormat = v
	return nil
}

// newLogger is invd's logger: to w, in the configured format, at level.
func newLogger(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
