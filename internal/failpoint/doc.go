// Package failpoint injects faults at named sites of the server (crash the
// process, sleep, return an error) for tests that prove recovery from a
// failure at exactly that site. It imports the standard library only.
//
// The machinery exists only in builds with the failpoints tag
// (go build -tags failpoints, go test -tags failpoints). In every other
// build Enabled is false and Hit, Err and Setup are empty functions that
// the compiler inlines away: the normal invd binary holds no failpoint code
// and pays nothing at the sites (docs/adr/0060-failpoints.md).
//
// # Points
//
// The sites, by name (the constants below):
//
//	raft/after-log-write           ShardStore.StoreLogs, after the synced
//	                               Pebble commit of the entries and before
//	                               raft learns they are stored (every
//	                               node: leader and followers)
//	raft/before-reply              the proposer, after the leader applied an
//	                               entry and before the requests waiting on
//	                               it are released (their replies unsent)
//	fsm/apply                      FSM.ApplyBatch, between two command
//	                               entries of one round of committed entries
//	                               (some applied, the rest not yet)
//	snapshot/persist-before-write  a snapshot's Persist, before anything is
//	                               written to raft's snapshot sink
//	snapshot/persist-before-close  Persist, with the state written and the
//	                               sink not yet closed (not yet a snapshot)
//	snapshot/persist-after-close   Persist, with the sink closed (the
//	                               snapshot is on disk; raft has not yet
//	                               compacted its log)
//	snapshot/restore-before        FSM.Restore, before the snapshot is read
//	snapshot/restore-after         FSM.Restore, with the state replaced
//
// # Syntax
//
// A spec arms one or more points, separated by semicolons:
//
//	spec     = point { ";" point }
//	point    = name "=" action [ "@" N ] [ "%" P ]
//	action   = "crash" | "sleep(" duration ")" | "error" | "error(" text ")"
//	         | "count" | "off"
//
//	crash      exit at once with status 137, as kill -9 would end the
//	           process: no deferred calls, no flush, no graceful close
//	sleep(D)   sleep D (a time.ParseDuration string: 50ms, 2s)
//	error(T)   make the site fail with an error saying T (only at sites
//	           that return an error: every point but fsm/apply,
//	           snapshot/persist-after-close and snapshot/restore-after)
//	count      do nothing but count the hits (proves a site was reached)
//	off        disarm the point
//	@N         act on the Nth hit only (counting from 1), not on the others
//	%P         act on each hit with probability P percent (0 < P <= 100)
//
// For example
//
//	INV_FAILPOINTS="raft/after-log-write=crash@3;fsm/apply=sleep(50ms)%10"
//
// crashes on the third synced log write and slows one apply in ten.
//
// # Activation
//
// invd calls Setup at start. In a tagged build Setup arms the spec in the
// environment variable INV_FAILPOINTS and, if INV_FAILPOINTS_HTTP names a
// host:port, serves there (plain HTTP, bind it to loopback):
//
//	GET /             every armed point with its hits and firings
//	GET /?set=SPEC    arm (or with "off" disarm) points, same syntax
//	GET /?clear=1     disarm every point
//
// so that a test can arm a point on one node at the moment it chooses.
package failpoint

// The points, as named at their sites and in specs.
const (
	RaftAfterLogWrite          = "raft/after-log-write"
	RaftBeforeReply            = "raft/before-reply"
	FSMApply                   = "fsm/apply"
	SnapshotPersistBeforeWrite = "snapshot/persist-before-write"
	SnapshotPersistBeforeClose = "snapshot/persist-before-close"
	SnapshotPersistAfterClose  = "snapshot/persist-after-close"
	SnapshotRestoreBefore      = "snapshot/restore-before"
	SnapshotRestoreAfter       = "snapshot/restore-after"
)

// Environment variables read by Setup in tagged builds.
const (
	EnvSpec = "INV_FAILPOINTS"
	EnvHTTP = "INV_FAILPOINTS_HTTP"
)

// CrashStatus is the exit status of a crash action: a shell's status for a
// process killed by SIGKILL.
const CrashStatus = 137
