package raftstore

import (
	"crypto/tls"
	"net"
	"time"
)

// Raft traffic carries every reservation, and a peer that can connect can
// append to the log. With MuxOptions.TLS set, both ends of every raft
// connection run TLS before the mux header: the accepting node verifies the
// dialer's certificate against the CA (mutual TLS, when the config asks
// for client certificates), and the dialer verifies the node it reached.

// serverTLS runs the server side of the handshake on an accepted
// connection, within the handshake timeout, and tracks the TLS connection
// in place of the raw one.
func (m *Mux) serverTLS(c net.Conn) (net.Conn, error) {
	tc := tls.Server(c, m.tls)
	_ = tc.SetDeadline(time.Now().Add(m.handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	_ = tc.SetDeadline(time.Time{})
	m.mu.Lock()
	if _, ok := m.conns[c]; ok {
		delete(m.conns, c)
		m.conns[tc] = struct{}{}
	}
	m.mu.Unlock()
	return tc, nil
}

// clientTLS runs the client side on a dialed connection; the server name
// is the dialed host unless the config names one.
func clientTLS(c net.Conn, cfg *tls.Config, address string, timeout time.Duration) (net.Conn, error) {
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		if host, _, err := net.SplitHostPort(address); err == nil {
			cfg.ServerName = host
		}
	}
	tc := tls.Client(c, cfg)
	if timeout > 0 {
		_ = tc.SetDeadline(time.Now().Add(timeout))
	}
	if err := tc.Handshake(); err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = tc.SetDeadline(time.Time{})
	return tc, nil
}
