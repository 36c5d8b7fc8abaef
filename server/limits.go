package server

import (
	"time"

	"github.com/invsys/inv/protocol"
)

// Limits on what a client can make the server hold, each with its reason
// (the defaults of Config; an operator may lower or raise them). Every one is
// checked where the input enters, on the event loop, before anything is
// queued.
const (
	// DefaultMaxFrameBytes bounds one inbound frame, header included. The
	// protocol's default (1 MiB) holds a full BATCH of reserves; a larger
	// frame is refused with too_large and the connection closed, since the
	// stream can no longer be trusted to be at a frame boundary.
	DefaultMaxFrameBytes = protocol.DefaultMaxFrameBytes

	// DefaultMaxConnections bounds client connections that have completed
	// HELLO (admission.go): connections that never authenticate have a
	// budget of their own, so they cannot lock a client with a token out.
	// Each costs a read buffer of up to a frame and its replies in flight;
	// 10,000 web tier connections at ~100 KiB each stay around 1 GiB.
	DefaultMaxConnections = 10_000

	// DefaultMaxUnauthenticated bounds connections that have not completed
	// HELLO yet. A client says HELLO as soon as it connects, so it spends
	// about one round trip here: even the whole fleet reconnecting at once
	// (10,000 clients in a second) holds a few hundred at a time. When the
	// budget is full the oldest pre-HELLO connection is closed to make
	// room, so to push out a client whose HELLO is on its way an attacker
	// must open this many connections within that client's round trip
	// (about a million a second at 1 ms). Each costs a descriptor and a
	// small struct, so silent sockets hold at most this many.
	DefaultMaxUnauthenticated = 1024

	// DefaultMaxConnsPerAddress bounds the connections (with or without
	// HELLO) from one remote IP address. The web tier may reach invd through
	// a few NAT addresses: 10,000 connections behind three addresses are
	// 3,334 each, and this leaves a fifth more for an uneven spread. Behind
	// fewer addresses raise it (or turn it off); with every client on its
	// own address lower it to the pool size of one client. An IPv6 client
	// may hold many addresses: the bound then limits one of them only.
	DefaultMaxConnsPerAddress = 4096

	// DefaultMaxInFlight bounds the requests (frames) one connection may
	// have outstanding; past it a request is answered busy at once. 4096
	// covers the pipelines of the client library (64 × 16 in the reference
	// workloads per process) many times over, and bounds the pending work
	// one connection can queue to 4096 frames × MaxBatchOps commands.
	DefaultMaxInFlight = 4096

	// MaxBatchOps bounds the sub-ops of one BATCH: the protocol's limit, so
	// a client that respects HELLO's limits is never refused.
	MaxBatchOps = protocol.MaxBatchOps

	// DefaultMaxOutboundBytes bounds replies waiting in one connection's
	// outbound buffer for a peer that does not read them. Past it the
	// connection is closed as a slow consumer (as nats-server does): the
	// alternative is unbounded memory for one bad client. The reply budget
	// stops reading such a connection first (at a sixteenth of
	// MaxReplyBufferBytes, replySharesMin), so this cut is for replies
	// already admitted when it stopped; it never exceeds
	// MaxReplyBufferBytes, and left unset it is the smaller of this and the
	// node's budget.
	DefaultMaxOutboundBytes = 64 << 20

	// DefaultMaxReplyBufferBytes bounds what the whole node holds for its
	// clients' replies (replybudget.go, docs/adr/0037): encoded replies not
	// yet taken by the kernel, a reservation for every large read in
	// flight, and requests left unread while a connection is paused. From
	// half of it, a connection holding more than its share (this divided
	// by the connections holding anything) is no longer read until it
	// drains; past all of it, only connections holding nothing are read.
	// 256 MiB is a sixteenth of a host with 4 GiB of memory: with Go's
	// heap growing to twice its live size and results built before they
	// are encoded, slow readers cost at most about a GiB of resident
	// memory, while the budget still holds 256 replies of a full frame, or
	// 4,096 large reads at their least reservation, at once. A larger host
	// may raise it (docs/OPERATIONS.md).
	DefaultMaxReplyBufferBytes = 256 << 20

	// replySharesMin: a connection never holds more than
	// MaxReplyBufferBytes / 16 (16 MiB by default: 256 large replies in
	// flight, far past a client library's pipeline) before it is paused,
	// even on an idle node. Reservations admitted cannot be taken back, so
	// without it the first connections of an attack would take the whole
	// budget before the shares apply, and leave later clients nothing.
	replySharesMin = 16

	// replyShareFromDivisor: from MaxReplyBufferBytes / 2 on, connections
	// over their share wait. Replies already admitted cannot be taken
	// back, so the shares must start before the budget is spent: the
	// first connections keep what they took while later ones take their
	// shares, and together they stay within the budget.
	replyShareFromDivisor = 2

	// largeReadReserveMinBytes is the least reserved for a large read in
	// flight (list_items, list_reservations, stores_with_stock) before the
	// node has sent a reply of that op: the reply of a stores_with_stock
	// over 4,000 stores. After the first, the reservation is the largest
	// reply of the op the node has sent, up to the client's frame limit
	// (replybudget.go): an estimate that only grows, so that a client
	// cannot lower it with small reads before it asks for large ones.
	largeReadReserveMinBytes = 64 << 10

	// replyAccountStepBytes is how far a connection's gathered replies may
	// grow before they are added to the node's total: the small replies of
	// the hot path (a reserve's is ~40 bytes) then cost no shared atomic,
	// and each connection's count is short by less than this until its
	// next flush, which counts everything.
	replyAccountStepBytes = 4 << 10

	// MaxSubscriptionsPerConn bounds change-feed subscriptions on one
	// connection: a consumer follows a few shards, each subscription costs
	// a goroutine.
	MaxSubscriptionsPerConn = 64

	// feedReadMax bounds the events a subscription copies and encodes per
	// round, so one busy shard cannot make one reply burst unbounded.
	feedReadMax = 512

	// DefaultHelloTimeout bounds how long a connection may stay without
	// HELLO (nats-server's AUTH_TIMEOUT): an idle socket that never says
	// who it is only holds a file descriptor and a place in
	// MaxUnauthenticated. It must cover a client on a poor link: a lost
	// HELLO segment is sent again after about a second, and the TLS port
	// runs its handshake under the same deadline. The ticker checks it
	// every tickInterval, so a silent socket goes within 5.1 s.
	DefaultHelloTimeout = 5 * time.Second

	// DefaultReadTimeout bounds how long a frame may take to arrive once its
	// first bytes have: a whole frame (1 MiB at most) crosses any link a
	// client uses in well under a second. A peer that sends half a frame and
	// stops (or trickles it) is cut, so it cannot pin a read buffer.
	DefaultReadTimeout = 10 * time.Second

	// DefaultWriteTimeout bounds how long replies may wait in a connection's
	// outbound buffer without the peer taking any of them: a client that
	// never reads is cut after this long even below MaxOutboundBytes.
	DefaultWriteTimeout = 10 * time.Second

	// tickInterval is how often the event loops' ticker sweeps connections
	// (HELLO timeouts) and refreshes sampled metrics.
	tickInterval = 100 * time.Millisecond

	// DefaultCompressMinBytes is the reply payload size from which a
	// connection that negotiated compression gets it compressed. Below a
	// few KiB (every domain reply but large reads) compression costs more
	// CPU than the bytes it saves on loopback or a LAN.
	DefaultCompressMinBytes = 4 << 10

	// DefaultDrainTimeout bounds a graceful shutdown's wait for requests in
	// flight: a proposal commits in milliseconds; after this long something
	// is stuck and the remaining clients learn the outcome by retrying.
	DefaultDrainTimeout = 10 * time.Second

	// maxErrorMessageBytes keeps error messages well inside the protocol's
	// bound; a message is one sentence for a human.
	maxErrorMessageBytes = 200
)

// The network edge: file descriptors, the accept loop (listener.go), and
// the log lines of refusals (edgelog.go).
const (
	// DescriptorHeadroom is the file descriptors the process needs besides
	// its client connections (DescriptorsNeeded adds two per event loop
	// for gnet's pollers): Pebble's table cache (its MaxOpenFiles, 1,000 by
	// default) and its WAL, manifest and lock files; and 256 for the raft
	// listener and its peers' connections, snapshot files, the HTTP
	// server's scrapes and probes, TLS handshakes under way, the protocol
	// listener and its reserve descriptor, and stdio.
	DescriptorHeadroom = 1000 + 32 + 256

	// acceptRetryMin and acceptRetryMax bound the wait after a failed
	// accept before the next (doubling from the first to the second): a
	// shortage of descriptors or memory lasts until something closes, and
	// retrying at once would spin a core; 200 ms keeps the port's recovery
	// well under a client's connect timeout.
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = 200 * time.Millisecond

	// acceptFailWindow is how long /readyz reports a failed accept: while
	// the shortage lasts the accept loop fails again at least every
	// acceptRetryMax, so the window only smooths the end of it, and a
	// probe sees a few seconds of refusals rather than one instant.
	acceptFailWindow = 2 * time.Second

	// loopStallWindow is how long the ticker may go without running before
	// /readyz and /healthz report the event loops stopped: gnet ends the
	// ticker when an event loop exits; a ticker merely late (GC, a starved
	// CPU) is late by milliseconds, never by 50 ticks.
	loopStallWindow = 5 * time.Second

	// edgeWarnPerSecond and edgeWarnBurst bound the Warn lines of each kind
	// of refusal at the edge (refused frames, refused or evicted
	// connections, failed accepts): an attacker chooses how many refusals
	// there are, not how many log lines. Metrics count every one.
	edgeWarnPerSecond = 1.0
	edgeWarnBurst     = 10
)

// Pickup attempts: the engine locks a reservation after a few wrong codes,
// but an attacker who tries one code on each of many reservations (or codes
// alone, which fan out to every shard) is never locked out. These token
// buckets bound guessing per connection and per store; past them a pickup
// is answered rate_limited without reaching the engine. A 12-digit code at
// DefaultPickupRatePerStore takes millennia to hit by chance.
const (
	// DefaultPickupRatePerConn is the sustained pickup attempts per second
	// of one connection: a terminal scans one customer at a time, a few a
	// minute; 2 per second leaves room for retries after a bad scan.
	DefaultPickupRatePerConn = 2.0
	// DefaultPickupBurstPerConn lets a terminal catch up after a pause.
	DefaultPickupBurstPerConn = 20

	// DefaultPickupRatePerStore is the sustained pickup attempts per second
	// at one store over all its terminals: a large store's opening rush is
	// a few collections per second.
	DefaultPickupRatePerStore = 20.0
	// DefaultPickupBurstPerStore covers every terminal of a store at once.
	DefaultPickupBurstPerStore = 100

	// maxPickupStores bounds the per-store buckets kept: past it they are
	// all dropped (and start full again). Store tokens are bound to their
	// stores, so only an operator could name that many stores.
	maxPickupStores = 1 << 16
)
