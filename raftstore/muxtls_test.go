// Mutual TLS on the raft mux, over real loopback TCP, with a CA and node
// certificates made here: two nodes holding certificates of the cluster's
// CA connect, reach the shard they name and exchange bytes intact; a peer
// without a client certificate, one with a certificate of another CA, and
// a plaintext peer that writes a valid mux header are all refused, and
// none of them reaches a shard's Accept.
package raftstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert, key, pool}
}

// nodeConfig is a node's mutual TLS config: its certificate (server and
// client use, 127.0.0.1), the CA as RootCAs and ClientCAs.
func (ca *testCA) nodeConfig(t *testing.T, withCert bool) *tls.Config {
	t.Helper()
	cfg := &tls.Config{RootCAs: ca.pool, ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert,
		MinVersion: tls.VersionTLS12}
	if !withCert {
		return cfg
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "node"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}
	return cfg
}

func newTLSMux(t *testing.T, cfg *tls.Config) *Mux {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMux(ln, MuxOptions{HandshakeTimeout: time.Second, Logger: testLogger(t), TLS: cfg})
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestMuxMutualTLS(t *testing.T) {
	ca := newTestCA(t, "cluster")
	server := newTLSMux(t, ca.nodeConfig(t, true))
	s3 := mustLayer(t, server, 3)
	addr := raft.ServerAddress(server.Addr().String())

	client := newTLSMux(t, ca.nodeConfig(t, true))
	out, err := mustLayer(t, client, 3).Dial(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	in := acceptWithin(t, s3, 2*time.Second)
	defer in.Close()
	if _, err := out.Write([]byte("append-entries")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len("append-entries"))
	_ = in.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(in, got); err != nil || string(got) != "append-entries" {
		t.Fatalf("over mutual TLS: %q %v", got, err)
	}

	refused := func(name string, dial func() (net.Conn, error)) {
		t.Helper()
		c, err := dial()
		if err == nil {
			// TLS 1.3 clients learn of a rejected certificate at their
			// first read.
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			var b [1]byte
			if _, rerr := c.Read(b[:]); rerr == nil {
				t.Fatalf("%s: connection served", name)
			}
			c.Close()
		}
		accepted := make(chan struct{})
		go func() {
			if c, err := s3.Accept(); err == nil {
				c.Close()
				close(accepted)
			}
		}()
		select {
		case <-accepted:
			t.Fatalf("%s: reached the shard", name)
		case <-time.After(300 * time.Millisecond):
		}
	}
	refused("no client certificate", func() (net.Conn, error) {
		return mustLayer(t, newTLSMux(t, ca.nodeConfig(t, false)), 3).Dial(addr, time.Second)
	})
	refused("another CA", func() (net.Conn, error) {
		other := newTestCA(t, "intruder")
		cfg := other.nodeConfig(t, true)
		cfg.RootCAs = ca.pool // it trusts the cluster; the cluster does not trust it
		return mustLayer(t, newTLSMux(t, cfg), 3).Dial(addr, time.Second)
	})
	refused("plaintext", func() (net.Conn, error) {
		c, err := net.Dial("tcp", string(addr))
		if err == nil {
			err = writeMuxHeader(c, 3, time.Second)
		}
		return c, err
	})
}
