package client

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/invsys/inv/protocol"
)

// Defaults of the options, each with its reason.
const (
	// DefaultDialTimeout bounds a TCP connect plus HELLO: on a LAN both take
	// well under a millisecond; a node that needs seconds is as good as down.
	DefaultDialTimeout = 2 * time.Second

	// DefaultRequestTimeout bounds one attempt's wait for its reply. A
	// commit takes milliseconds; an attempt this late is given up and
	// retried with the same idempotency key (a lost reply, a hung node).
	DefaultRequestTimeout = 5 * time.Second

	// DefaultConnsPerNode is the number of connections to each node. Every
	// connection pipelines and batches, so a few carry a whole web tier's
	// load; more than one spreads the decoding over cores and keeps a
	// single slow socket from stalling everything.
	DefaultConnsPerNode = 2

	// DefaultBatchDelay is zero: a connection's writer sends whatever has
	// queued while it was busy writing the last batch ("natural batching"),
	// so a lone call goes out at once and a crowd of calls goes out together.
	// A positive delay trades that much latency for fuller batches.
	DefaultBatchDelay = 0

	// DefaultMaxFrameBytes is the largest reply frame this client accepts:
	// big enough for the largest list replies (list_items of 4096 items with
	// their windows), bounded so a bad peer cannot make it allocate more.
	DefaultMaxFrameBytes = 16 << 20

	// DefaultTopologyRefresh is how often the client asks for the cluster
	// map without a reason; errors (not_leader, lost connections) ask at once.
	DefaultTopologyRefresh = 30 * time.Second

	// DefaultDrainTimeout bounds Close's wait for calls in flight.
	DefaultDrainTimeout = 10 * time.Second

	// DefaultClientName is sent in HELLO, for the server's logs and metrics.
	DefaultClientName = "inv-go-client/1"
)

// RetryPolicy says how often and how patiently a call is retried when its
// outcome is a failure that is not an answer: busy, not leader,
// unavailable, timeout, a lost connection, a reply that did not come. Every
// retry of a mutating call carries the call's idempotency key, so a retry
// never applies a change twice. Retries also stop when the call's context
// ends, whichever comes first.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one call, the first included;
	// 1 disables retries. Zero means DefaultRetryPolicy's.
	MaxAttempts int
	// BaseBackoff is the wait before the first retry; each later retry
	// doubles it, up to MaxBackoff. The wait is jittered ("equal jitter":
	// half fixed, half random) so that clients that failed together do not
	// retry together.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
}

// DefaultRetryPolicy rides out a leader election or a node restart (a few
// seconds in all) without making a caller wait much longer than that.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 12, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}

// Option configures a Client.
type Option func(*options)

type options struct {
	token           string
	tlsConfig       *tls.Config // nil: plain TCP (tls.go)
	clientName      string
	dialTimeout     time.Duration
	requestTimeout  time.Duration
	connsPerNode    int
	batchDelay      time.Duration
	retry           RetryPolicy
	logger          *slog.Logger
	accept          protocol.CompressionSet
	maxFrame        int
	topologyRefresh time.Duration
	drainTimeout    time.Duration
	tracer          Tracer // nil: none (trace.go)
	dialer          Dialer // nil: a net.Dialer with dialTimeout
}

func defaultOptions() options {
	return options{
		clientName:      DefaultClientName,
		dialTimeout:     DefaultDialTimeout,
		requestTimeout:  DefaultRequestTimeout,
		connsPerNode:    DefaultConnsPerNode,
		batchDelay:      DefaultBatchDelay,
		retry:           DefaultRetryPolicy,
		logger:          slog.New(slog.DiscardHandler),
		maxFrame:        DefaultMaxFrameBytes,
		topologyRefresh: DefaultTopologyRefresh,
		drainTimeout:    DefaultDrainTimeout,
	}
}

// WithToken sets the auth token sent in HELLO; its role decides which
// operations the connections may send.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithClientName sets the name sent in HELLO (at most 64 bytes), which the
// server shows in its logs and metrics.
func WithClientName(name string) Option { return func(o *options) { o.clientName = name } }

// WithDialTimeout bounds connecting to a node, HELLO included.
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithRequestTimeout bounds each attempt's wait for its reply (the call's
// context bounds the whole call, retries included). Zero means no bound
// but the context's.
func WithRequestTimeout(d time.Duration) Option { return func(o *options) { o.requestTimeout = d } }

// WithConnsPerNode sets the number of connections to each node (at least 1).
func WithConnsPerNode(n int) Option { return func(o *options) { o.connsPerNode = n } }

// WithBatchDelay makes each connection's writer wait d after the first
// queued call before sending, so that calls issued within d go out in one
// BATCH frame. Zero (the default) sends at once whatever has queued.
func WithBatchDelay(d time.Duration) Option { return func(o *options) { o.batchDelay = d } }

// WithRetry sets the retry policy; zero fields keep their defaults.
func WithRetry(p RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithLogger sets where the client logs connections, topology changes and
// retries (at Debug and Info; Warn for what an operator should see).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithCompression lets the server compress large replies (list reads) with
// c, and the client compress large requests when the server asks for it.
// Small frames are never compressed: on a LAN it costs more than it saves.
func WithCompression(c Compression) Option {
	return func(o *options) { o.accept = o.accept.With(c) }
}

// WithMaxFrameBytes sets the largest frame the client accepts from the server.
func WithMaxFrameBytes(n int) Option { return func(o *options) { o.maxFrame = n } }

// WithTopologyRefresh sets how often the cluster map is refreshed when
// nothing asks for it (zero: only when something asks).
func WithTopologyRefresh(d time.Duration) Option {
	return func(o *options) { o.topologyRefresh = d }
}

// WithDrainTimeout bounds Close's wait for calls in flight.
func WithDrainTimeout(d time.Duration) Option { return func(o *options) { o.drainTimeout = d } }

// normalize fills zero and out-of-range values with defaults.
func (o *options) normalize() {
	d := defaultOptions()
	if o.dialTimeout <= 0 {
		o.dialTimeout = d.dialTimeout
	}
	if o.requestTimeout < 0 {
		o.requestTimeout = 0
	}
	if o.connsPerNode < 1 {
		o.connsPerNode = 1
	}
	if o.connsPerNode > maxConnsPerNode {
		o.connsPerNode = maxConnsPerNode
	}
	if o.batchDelay < 0 {
		o.batchDelay = 0
	}
	if o.retry.MaxAttempts <= 0 {
		o.retry.MaxAttempts = d.retry.MaxAttempts
	}
	if o.retry.BaseBackoff <= 0 {
		o.retry.BaseBackoff = d.retry.BaseBackoff
	}
	if o.retry.MaxBackoff < o.retry.BaseBackoff {
		o.retry.MaxBackoff = max(d.retry.MaxBackoff, o.retry.BaseBackoff)
	}
	if o.logger == nil {
		o.logger = d.logger
	}
	if o.maxFrame <= 0 {
		o.maxFrame = d.maxFrame
	}
	o.maxFrame = min(max(o.maxFrame, minMaxFrameBytes), protocol.MaxFrameBytesLimit)
	if len(o.clientName) > protocol.MaxNameBytes {
		o.clientName = o.clientName[:protocol.MaxNameBytes]
	}
	if o.drainTimeout <= 0 {
		o.drainTimeout = d.drainTimeout
	}
}

// Limits of the client itself.
const (
	// maxConnsPerNode bounds WithConnsPerNode: past a handful, connections
	// only split batches into smaller ones.
	maxConnsPerNode = 64

	// minMaxFrameBytes is the least frame limit the client announces: every
	// reply of a mutating op, and a batch of them, must fit.
	minMaxFrameBytes = 64 << 10

	// maxCartLines bounds a cart: the engine runs at most MaxLinked
	// commands as one all-or-nothing group.
	maxCartLines = 64
)
