package server

import "strings"

// The HELP text of every metric family /metrics writes: one line each, what
// docs/OPERATIONS.md says at length. TestMetricsFreshNode (cmd/invd) checks
// that every family of a fresh node's page has one.

var metricHelps = map[string]string{
	// Requests and the wire.
	"inv_build_info":                        "Always 1; its labels name the build that serves (version, revision, Go version).",
	"inv_requests_total":                    "Requests answered, by op (batch for BATCH frames) and result (ok or the refusal or error code).",
	"inv_request_duration_seconds":          "Time from a request's arrival to its reply being queued, by op.",
	"inv_batch_ops":                         "Requests per BATCH frame.",
	"inv_received_bytes_total":              "Protocol bytes read from clients.",
	"inv_sent_bytes_total":                  "Protocol bytes written to clients (replies, events).",
	"inv_connections_open":                  "Open client connections.",
	"inv_reply_buffer_bytes":                "Bytes held for clients' replies: encoded and unsent, reserved for large reads in flight, and requests left unread.",
	"inv_connections_paused":                "Connections not read because they hold too much of the reply budget.",
	"inv_slow_consumers_cut_total":          "Connections closed because their client did not take its replies, by reason.",
	"inv_connections_authenticated":         "Connections that completed HELLO.",
	"inv_connections_pre_hello":             "Connections that have not said HELLO yet.",
	"inv_connections_refused_total":         "Connections refused, by reason.",
	"inv_pre_hello_closed_total":            "Connections closed before HELLO, by reason (timeout, evicted).",
	"inv_frames_refused_total":              "Frames refused before they were served, by reason (too_large, bad_flags).",
	"inv_accept_errors_total":               "Failed accepts on the protocol port, by error.",
	"inv_protocol_accepting":                "1 while the protocol port accepts connections, 0 while accepts fail.",
	"inv_requests_in_flight":                "Requests received and not yet answered.",
	"inv_stage_duration_seconds":            "Time a write spends in one stage of the write path, by stage.",
	"inv_log_write_entries":                 "Raft entries per append to a shard's log (one synced Pebble commit each).",
	"inv_wal_syncs_total":                   "Fsyncs of Pebble's write-ahead log.",
	"inv_wal_sync_seconds_total":            "Time spent in fsyncs of Pebble's write-ahead log.",
	"inv_forwarded_total":                   "Commands and cart groups this node sent to other nodes' shards.",
	"inv_coordinations_total":               "Requests that took claims on a customer's shard.",
	"inv_carts_across_shards_total":         "Carts held shard by shard.",
	"inv_claim_releases_total":              "Claim releases delivered to customers' shards and marked done.",
	"inv_claim_releases_deferred_total":     "Release rounds of a shard cut short by a failure.",
	"inv_coordinations_stale_peek_total":    "Reserves whose read of the item was stale: claim_required came back and the claim round followed.",
	"inv_provisional_holds_settled_total":   "Confirms, extends and reschedules that met a provisional hold (its resolve lost) and settled it first.",
	"inv_outbox_delivered_total":            "Outbox messages (claim releases) delivered to their home shards and trimmed.",
	"inv_outbox_delivery_retries_total":     "Outbox deliveries cut short by a failure; the sweep timer delivers again.",
	"inv_sweep_claims_total":                "Pending claims past their deadline that the home shards' sweeps anchored or released.",
	"inv_sweep_holds_total":                 "Provisional holds past their deadline that the item shards' sweeps resolved.",
	"inv_idempotency_keys_registered_total": "Idempotency keys registered at their home shard before their request ran on another (docs/adr/0073).",
	"inv_cancel_release_waits_late_total":   "Cancels and returns answered when cancel_wait ran out, before their claim's release arrived.",
	"inv_waitlist_join_claims_total":        "Waitlist joins of a limited SKU's customer of another home, which took a claim at that home first (docs/adr/0112).",

	// Raft, per node.
	"inv_raft_dispatch_duration_seconds":  "The leader appending a round of entries to its log (the Pebble write and its fsync).",
	"inv_raft_commit_duration_seconds":    "An entry's dispatch to its commit (quorum).",
	"inv_raft_fsm_apply_duration_seconds": "The FSM applying one round of committed entries, any shard.",
	"inv_raft_commands_per_entry":         "Commands per raft entry proposed by this node's leaders over the last tick.",
	"inv_raft_entries_total":              "Raft entries proposed by this node's leaders.",
	"inv_raft_commands_total":             "Commands in the raft entries proposed by this node's leaders.",
	"inv_proposer_busy_total":             "Requests refused busy because a shard's queue was full.",
	"inv_disk_full":                       "1 while free space is below disk_reserve_bytes and writes are refused disk_full.",
	"inv_disk_free_bytes":                 "Free space of the data folder's filesystem at the last reading.",
	"inv_disk_reserve_bytes":              "Free space kept in reserve (disk_reserve_bytes).",
	"inv_disk_full_refused_total":         "Writes refused disk_full.",
	"inv_shard_vote_withheld":             "1 while the shard withholds its vote because its raft log lost entries this node acknowledged.",

	// Raft, per shard.
	"inv_shard_raft_state":                  "1 for the shard's raft state on this node, 0 for the others.",
	"inv_shard_leader":                      "1 when this node leads the shard.",
	"inv_shard_apply_duration_seconds":      "One round of committed entries through the engine and into the change feed.",
	"inv_shard_apply_batch_entries":         "Entries per apply round.",
	"inv_shard_entry_commands":              "Commands per raft entry (the group commit's batch size).",
	"inv_shard_commit_index":                "The highest index known committed.",
	"inv_shard_applied_index":               "The highest index applied to the engine.",
	"inv_shard_last_log_index":              "The newest entry in the log.",
	"inv_shard_last_snapshot_index":         "The index of the newest snapshot.",
	"inv_raft_snapshots_total":              "Snapshots of the shard taken and persisted on this node since it started.",
	"inv_raft_snapshot_failures_total":      "Snapshots begun that did not reach the snapshot store.",
	"inv_raft_snapshot_duration_seconds":    "One snapshot, from capturing the state to the end of its write.",
	"inv_raft_snapshot_capture_max_seconds": "The longest a snapshot's capture held up the shard's applies since the node started.",
	"inv_raft_snapshots_copied_total":       "Snapshots whose state was copied under the apply lock instead of rebuilt off the apply path.",
	"inv_raft_restores_total":               "Times the shard's state was restored from a snapshot.",
	"inv_raft_restore_failures_total":       "Snapshots that could not be restored.",
	"inv_raft_restore_duration_seconds":     "One restore: reading, decompressing and rebuilding the state.",
	"inv_shard_log_entries":                 "Entries in the shard's raft log.",
	"inv_shard_snapshot_threshold":          "Log entries after which the shard takes its next snapshot.",
	"inv_shard_feed_events":                 "Change-feed events kept.",
	"inv_shard_feed_oldest_index":           "The oldest position SUBSCRIBE can still serve.",

	// Business figures.
	"inv_active_holds":         "Reservations held (waiting for payment).",
	"inv_awaiting_pickup":      "Reservations confirmed (waiting to be collected).",
	"inv_reservations_total":   "Reservations that reached each outcome.",
	"inv_refusals_total":       "Requests the engine refused, by reason.",
	"inv_pickups_locked_total": "Pickups refused because the reservation is locked by wrong codes.",
	"inv_items":                "Items kept.",
	"inv_customers":            "Customers kept.",
	"inv_reservations_kept":    "Reservations kept, active and finished.",
	"inv_idempotency_keys":     "Idempotency keys kept.",

	// The process and the Go runtime (github.com/VictoriaMetrics/metrics).
	"process_cpu_seconds_total":        "CPU seconds the process used, user and system.",
	"process_cpu_seconds_user_total":   "CPU seconds the process used in user mode.",
	"process_cpu_seconds_system_total": "CPU seconds the process used in the kernel.",
	"process_resident_memory_bytes":    "Resident memory of the process.",
	"process_virtual_memory_bytes":     "Virtual memory of the process.",
	"process_open_fds":                 "Open file descriptors.",
	"process_max_fds":                  "The process's limit of open file descriptors.",
	"process_start_time_seconds":       "Start time of the process, Unix seconds.",
	"process_num_threads":              "OS threads of the process.",
	"go_goroutines":                    "Goroutines.",
	"go_threads":                       "OS threads created by the Go runtime.",
	"go_gomaxprocs":                    "GOMAXPROCS.",
	"go_gc_duration_seconds":           "Quantiles of the last GC pauses, and their sum and count since start.",
	"go_memstats_heap_inuse_bytes":     "Heap bytes in in-use spans.",
	"go_memstats_alloc_bytes_total":    "Heap bytes allocated since start.",
	"go_cgo_calls_total":               "Cgo calls made by the process.",
	"go_gc_forced_total":               "GC cycles forced by the application.",
	"go_info":                          "Always 1; the Go version.",
	"go_info_ext":                      "Always 1; the compiler and platform.",
}

// metricHelp returns the HELP text of a family: its own, or for the
// process and runtime figures the library writes without one a pointer to
// where they are described.
func metricHelp(family string) string {
	if h, ok := metricHelps[family]; ok {
		return h
	}
	if strings.HasPrefix(family, "go_") || strings.HasPrefix(family, "process_") {
		return "Process and Go runtime figure of github.com/VictoriaMetrics/metrics (WriteProcessMetrics)."
	}
	return ""
}
