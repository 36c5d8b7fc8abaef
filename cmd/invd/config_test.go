// The config file parser and the pickup secret: keys land in the right
// fields, flags win over the file, unknown keys and bad values are refused
// with their line, and a generated secret is stored 0600 and kept across
// starts.
package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/server"
)

func TestParseConfig(t *testing.T) {
	c := defaultConfig()
	err := parseConfig(&c, strings.NewReader(`
# group commit
batch_max_delay = 500us   # a comment after a value
batch_max_commands = 2048
snapshot_threshold = 64
hold_ttl = 5m
rate_per_second = 2.5
local_reads = true
pickup_secret = "00112233445566778899aabbccddeeff"
log_level = warn
node_id = 3
read_mode = log
replicas = 5
join = true
max_reply_buffer_bytes = 134217728
disk_reserve_bytes = 2147483648
disk_check_interval = 250ms
accept_data_loss = true
claim_window = 3s
cancel_wait = 500ms
copy_wait = 7s
sweep_interval = 250ms
`), "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	if c.Node.BatchMaxDelay != 500*time.Microsecond || c.Node.BatchMaxCommands != 2048 ||
		c.Node.SnapshotThreshold != 64 || c.Engine.DefaultHoldTTL != 5*time.Minute ||
		c.Engine.RatePerSecond != 2.5 || !c.Server.LocalReads || c.Server.NodeID != 3 ||
		c.PickupSecretHex != "00112233445566778899aabbccddeeff" || c.LogLevel.String() != "WARN" ||
		c.Server.ReadMode != server.ReadLog || c.Node.Replicas != 5 || !c.Join ||
		c.Server.MaxReplyBufferBytes != 128<<20 || c.Server.ClaimWindow != 3*time.Second ||
		c.Server.CancelWait != 500*time.Millisecond || c.Server.CopyWait != 7*time.Second || c.Server.SweepInterval != 250*time.Millisecond ||
		c.Node.DiskReserveBytes != 2<<30 || c.Node.DiskCheckInterval != 250*time.Millisecond || !c.AcceptDataLoss {
		t.Fatalf("parsed: %+v", c)
	}
	for _, bad := range []string{"nope = 1", "batch_max_delay = soon", "shards", "node_id = 0", "hold_ttl = -1s",
		"read_mode = sometimes", "join = maybe", "replicas = three",
		"max_reply_buffer_bytes = 0", "max_reply_buffer_bytes = -1", "max_reply_buffer_bytes = 1GiB",
		"disk_reserve_bytes = -2", "disk_reserve_bytes = 1GiB", "disk_check_interval = -1s", "accept_data_loss = sometimes",
		"claim_window = -1s", "cancel_wait = soon", "copy_wait = -1s"} {
		c := defaultConfig()
		if err := parseConfig(&c, strings.NewReader(bad), "bad.conf"); err == nil || !strings.Contains(err.Error(), "bad.conf:1") {
			t.Errorf("%q: error %v, want one naming bad.conf:1", bad, err)
		}
	}
}

func TestParseConnectionLimits(t *testing.T) {
	c := defaultConfig()
	if err := parseConfig(&c, strings.NewReader("max_unauthenticated_connections = 1\nmax_connections_per_address = 7\n"), "a.conf"); err != nil {
		t.Fatal(err)
	}
	if c.Server.MaxUnauthenticated != 1 || c.Server.MaxConnsPerAddress != 7 {
		t.Fatalf("parsed %d %d", c.Server.MaxUnauthenticated, c.Server.MaxConnsPerAddress)
	}
	c = defaultConfig()
	if err := parseConfig(&c, strings.NewReader("max_connections_per_address = 0\n"), "b.conf"); err != nil {
		t.Fatal(err)
	}
	if c.Server.MaxConnsPerAddress >= 0 {
		t.Fatalf("max_connections_per_address = 0 gave %d, want the server's no bound (negative)", c.Server.MaxConnsPerAddress)
	}
	for _, bad := range []string{"max_unauthenticated_connections = 0", "max_unauthenticated_connections = -3",
		"max_unauthenticated_connections = many", "max_connections_per_address = -1", "max_connections_per_address = 1.5"} {
		c := defaultConfig()
		err := parseConfig(&c, strings.NewReader(bad), "bad.conf")
		if err == nil || !strings.Contains(err.Error(), "bad.conf:1") {
			t.Errorf("%q: error %v, want one naming bad.conf:1", bad, err)
		}
		if c.Server.MaxUnauthenticated != 0 || c.Server.MaxConnsPerAddress != 0 {
			t.Errorf("%q changed the config: %d %d", bad, c.Server.MaxUnauthenticated, c.Server.MaxConnsPerAddress)
		}
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invd.conf")
	if err := os.WriteFile(path, []byte("shards = 8\nlisten = 127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := parseArgs([]string{"--config", path, "--shards", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Shards != 2 || c.Listen != "127.0.0.1:1" || c.Data != "inv-data" {
		t.Fatalf("shards %d listen %s data %s", c.Shards, c.Listen, c.Data)
	}
}

func TestPickupSecretKept(t *testing.T) {
	dir := t.TempDir()
	a, err := pickupSecret(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, secretFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", st, err)
	}
	b, err := pickupSecret(dir, "")
	if err != nil || string(a) != string(b) || len(a) != secretBytes {
		t.Fatalf("second start read a different secret (%v)", err)
	}
	if _, err := pickupSecret(dir, "abcd"); err == nil {
		t.Fatal("a 2-byte configured secret accepted")
	}
}

// The log format comes from log_format or --log-format (the flag wins);
// anything but text or json is refused, naming what is wanted.
func TestLogFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invd.conf")
	if err := os.WriteFile(path, []byte("log_format = json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := parseArgs([]string{"--config", path}); err != nil || c.LogFormat != "json" {
		t.Fatalf("log_format = json: %q %v", c.LogFormat, err)
	}
	if c, err := parseArgs([]string{"--config", path, "--log-format", "text"}); err != nil || c.LogFormat != "text" {
		t.Fatalf("--log-format text over the file: %q %v", c.LogFormat, err)
	}
	if _, err := parseArgs([]string{"--log-format", "xml"}); err == nil || !strings.Contains(err.Error(), "want text or json") {
		t.Fatalf("--log-format xml: %v", err)
	}
	if err := os.WriteFile(path, []byte("log_format = yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseArgs([]string{"--config", path}); err == nil || !strings.Contains(err.Error(), "want text or json") {
		t.Fatalf("log_format = yaml: %v", err)
	}
}

// TestParseMemoryKeys: the memory bounds beyond the engine's own reach the
// node's options, at 1 (the smallest) and above; 0, negatives and units
// are refused with the line named, leaving nothing changed.
func TestParseMemoryKeys(t *testing.T) {
	c := defaultConfig()
	err := parseConfig(&c, strings.NewReader("log_cache_entries = 1\nstore_cache_bytes = 8388608\nstore_memtable_bytes = 4194304\n"), "mem.conf")
	if err != nil {
		t.Fatal(err)
	}
	if c.Node.LogCacheEntries != 1 || c.Node.Store.CacheBytes != 8<<20 || c.Node.Store.MemTableBytes != 4<<20 {
		t.Fatalf("parsed: %+v", c.Node)
	}
	for _, bad := range []string{"log_cache_entries = 0", "log_cache_entries = -1", "store_cache_bytes = 0",
		"store_cache_bytes = -5", "store_cache_bytes = 8MiB", "store_memtable_bytes = 0", "store_memtable_bytes = -1"} {
		c := defaultConfig()
		before := c.Node
		if err := parseConfig(&c, strings.NewReader(bad), "bad.conf"); err == nil || !strings.Contains(err.Error(), "bad.conf:1") {
			t.Errorf("%q: error %v, want one naming bad.conf:1", bad, err)
		}
		if c.Node.LogCacheEntries != before.LogCacheEntries || c.Node.Store != before.Store {
			t.Errorf("%q changed the options: %+v", bad, c.Node)
		}
	}
}

// TestParsePagesBookIdle: a duration above 0 or "always" (-1 for the
// server); 0, negatives and other words are refused with the line named,
// leaving the setting as it was.
func TestParsePagesBookIdle(t *testing.T) {
	for in, want := range map[string]time.Duration{"1ms": time.Millisecond, "30m": 30 * time.Minute, "always": -1} {
		c := defaultConfig()
		if err := parseConfig(&c, strings.NewReader("pages_book_idle = "+in+"\n"), "p.conf"); err != nil || c.Server.PagesBookIdle != want {
			t.Errorf("pages_book_idle = %s: %v %v, want %v", in, c.Server.PagesBookIdle, err, want)
		}
	}
	for _, bad := range []string{"0", "0s", "-1m", "never", "Always", ""} {
		c := defaultConfig()
		before := c.Server.PagesBookIdle
		if err := parseConfig(&c, strings.NewReader("pages_book_idle = "+bad), "bad.conf"); err == nil || !strings.Contains(err.Error(), "bad.conf:1") {
			t.Errorf("%q: error %v, want one naming bad.conf:1", bad, err)
		}
		if c.Server.PagesBookIdle != before {
			t.Errorf("%q changed the setting to %v", bad, c.Server.PagesBookIdle)
		}
	}
}

// TestParseMarkAndWaitlistKeys: the marks' thresholds and the waitlist's
// hold TTL are taken at each edge of their range and refused past it, with
// an error naming the line, leaving the engine's config as it was;
// waitlist_hold_ttl may equal max_hold but not pass it, in either order.
func TestParseMarkAndWaitlistKeys(t *testing.T) {
	good := "mark_loyal_pickups = 1000\nmark_print_customers = 16\nmark_velocity_reserves = 64\n" +
		"mark_print_window = 1h\nmark_velocity_window = 1m\nmark_max_prints = 67108864\nwaitlist_hold_ttl = 30m\n"
	c := defaultConfig()
	if err := parseConfig(&c, strings.NewReader(good), "marks.conf"); err != nil {
		t.Fatal(err)
	}
	m := c.Engine.Marks
	if m.LoyalPickups != 1000 || m.PrintCustomers != engine.MaxPrintCustomers || m.VelocityReserves != engine.MaxVelocityReserves ||
		m.PrintWindow != time.Hour || m.VelocityWindow != time.Minute || m.MaxPrints != 1<<26 || c.Engine.WaitlistHoldTTL != 30*time.Minute {
		t.Fatalf("parsed: %+v, waitlist hold %v", m, c.Engine.WaitlistHoldTTL)
	}
	low := "mark_loyal_pickups = 1\nmark_print_customers = 2\nmark_velocity_reserves = 2\nmark_max_prints = 1\nwaitlist_hold_ttl = 1ns\n"
	if c := defaultConfig(); parseConfig(&c, strings.NewReader(low), "low.conf") != nil || c.Engine.Marks.PrintCustomers != 2 {
		t.Fatalf("the low edges refused: %+v", c.Engine.Marks)
	}
	for _, bad := range []string{"mark_loyal_pickups = 0", "mark_loyal_pickups = 1001",
		"mark_print_customers = 1", "mark_print_customers = 17", "mark_velocity_reserves = 1", "mark_velocity_reserves = 65",
		"mark_max_prints = 0", "mark_max_prints = 67108865", "mark_print_window = 0s", "mark_velocity_window = -1m",
		"waitlist_hold_ttl = 0s", "waitlist_hold_ttl = 30m1ns", "max_hold = 1h\nwaitlist_hold_ttl = 1h1ns",
		"waitlist_hold_ttl = 1h\nmax_hold = 59m"} {
		c := defaultConfig()
		before := c.Engine
		err := parseConfig(&c, strings.NewReader(bad), "bad.conf")
		if err == nil || !strings.Contains(err.Error(), "bad.conf") {
			t.Errorf("%q: error %v, want one naming bad.conf", bad, err)
		}
		if !strings.Contains(bad, "\n") && c.Engine.Marks != before.Marks {
			t.Errorf("%q changed the marks' config: %+v", bad, c.Engine.Marks)
		}
	}
}

// TestParseSnapshotSettings: snapshots_at_once takes a count above 0,
// snapshot_log_ratio a number above 0 or off (the fixed threshold alone);
// anything else names the line.
func TestParseSnapshotSettings(t *testing.T) {
	for in, want := range map[string]float64{"snapshot_log_ratio = 2.5": 2.5, "snapshot_log_ratio = off": -1, "snapshot_log_ratio = 1": 1} {
		c := defaultConfig()
		if err := parseConfig(&c, strings.NewReader(in), "a.conf"); err != nil || c.Node.SnapshotLogRatio != want {
			t.Errorf("%q: ratio %v (%v), want %v", in, c.Node.SnapshotLogRatio, err, want)
		}
	}
	for in, want := range map[string]float64{"snapshot_replay_ratio = 0.5": 0.5, "snapshot_replay_ratio = off": -1, "snapshot_replay_ratio = 3": 3} {
		c := defaultConfig()
		if err := parseConfig(&c, strings.NewReader(in), "a.conf"); err != nil || c.Node.SnapshotReplayRatio != want || c.Node.SnapshotLogRatio != 0 {
			t.Errorf("%q: replay ratio %v, log ratio %v (%v), want %v and the log ratio's default", in,
				c.Node.SnapshotReplayRatio, c.Node.SnapshotLogRatio, err, want)
		}
	}
	c := defaultConfig()
	if err := parseConfig(&c, strings.NewReader("snapshots_at_once = 3"), "a.conf"); err != nil || c.Node.SnapshotsAtOnce != 3 {
		t.Errorf("snapshots_at_once = 3: %d (%v)", c.Node.SnapshotsAtOnce, err)
	}
	for _, bad := range []string{"snapshot_log_ratio = 0", "snapshot_log_ratio = -1", "snapshot_log_ratio = NaN",
		"snapshot_log_ratio = +Inf", "snapshot_log_ratio = lots", "snapshots_at_once = 0", "snapshots_at_once = -2",
		"snapshot_replay_ratio = 0", "snapshot_replay_ratio = -0.5", "snapshot_replay_ratio = Inf", "snapshot_replay_ratio = never"} {
		c := defaultConfig()
		if err := parseConfig(&c, strings.NewReader(bad), "bad.conf"); err == nil || !strings.Contains(err.Error(), "bad.conf:1") {
			t.Errorf("%q: error %v, want one naming bad.conf:1", bad, err)
		}
	}
}
