package client

import (
	"context"
	"net"
)

// Dialer opens the client's TCP connections: a *net.Dialer, a proxy's
// dialer (golang.org/x/net/proxy.ContextDialer has this method), or a
// test's dialer that injects faults. The client still runs TLS (WithTLS)
// and HELLO over what it returns, under the dial timeout.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// WithDialer makes the client dial its nodes, subscriptions included,
// through d. The dial timeout (WithDialTimeout) bounds d's call through
// its context. nil restores the default, a net.Dialer.
func WithDialer(d Dialer) Option { return func(o *options) { o.dialer = d } }

// dial opens one TCP connection to addr through the configured dialer.
func (o *options) dial(ctx context.Context, addr string) (net.Conn, error) {
	if o.dialer == nil {
		d := net.Dialer{Timeout: o.dialTimeout, KeepAlive: tcpKeepAlive}
		return d.DialContext(ctx, "tcp", addr)
	}
	if o.dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.dialTimeout)
		defer cancel()
	}
	return o.dialer.DialContext(ctx, "tcp", addr)
}
