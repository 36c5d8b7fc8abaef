package client

import (
	"crypto/tls"
	"net"
)

// WithTLS connects over TLS, to invd's TLS port (tls_listen) instead of its
// plain gnet port. Give the seed addresses of the TLS port: a node answers
// TOPOLOGY over TLS with its own TLS address. The config's ServerName
// defaults to each dialled host.
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tlsConfig = cfg } }

func (o *options) wrapTLS(nc net.Conn, addr string) net.Conn {
	if o.tlsConfig == nil {
		return nc
	}
	cfg := o.tlsConfig
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = host
		}
	}
	return tls.Client(nc, cfg)
}
