// The TLS client listener against a real invd: a self-signed certificate
// made here, tls_listen beside the gnet port. Over TLS the same protocol
// and handlers serve: HELLO with a token, reserves (a pipeline of 200 in one
// write, every one answered), roles (a storefront's restock refused
// unauthorized, the connection kept), a wrong token refused at HELLO, a
// plaintext client on the TLS port refused, a half frame then silence cut
// by read_timeout, a client that never reads cut with memory bounded, and
// the client library (WithTLS, WithToken) reserving through the TLS port. Reservations made over TLS are read back over the
// gnet port.
package main_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t *testing.T) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "invd-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

// tlsHello dials the TLS port and says HELLO; it returns the connection and
// the code of an ERROR reply (OK when admitted).
func tlsHello(t *testing.T, addr string, pool *x509.CertPool, token string) (net.Conn, *protocol.Reader, engine.Code) {
	t.Helper()
	nc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "tls", Token: token})); err != nil {
		t.Fatal(err)
	}
	r := protocol.NewReader(nc, 0)
	f, err := r.Next()
	if err != nil {
		t.Fatalf("HELLO over TLS: %v", err)
	}
	return nc, r, wire.CodeOf(wire.ReplyError(f))
}

func TestTLSListener(t *testing.T) {
	certPath, keyPath, pool := selfSigned(t)
	tlsAddr := invdtest.FreeAddr()
	p := startInvd(t, 2, tokenConfig(storefrontToken)+
		"read_timeout = 300ms\nwrite_timeout = 500ms\nmax_outbound_bytes = 1048576\nmax_in_flight = 256\ntls_listen = "+tlsAddr+"\ntls_cert = "+certPath+"\ntls_key = "+keyPath+"\n")
	op := dialToken(t, p, operatorToken)
	want(t, op, engine.OK, putItem("T", "S1", 1000))

	nc, r, code := tlsHello(t, tlsAddr, pool, storefrontToken)
	if code != engine.CodeInternal { // CodeOf(nil): no ERROR
		t.Fatalf("HELLO over TLS: %s", code)
	}
	var frames []byte
	for i := range 200 {
		cmd := reserve("T", "S1", "tls-"+string(rune('a'+i%26))+string(rune('a'+i/26)), 1)
		frames = protocol.AppendRequest(frames, uint32(i+2), &cmd)
	}
	restock := engine.Command{Op: engine.OpRestock, SKU: []byte("T"), Store: []byte("S1"), Qty: 5}
	frames = protocol.AppendRequest(frames, 1000, &restock)
	frames = protocol.AppendPing(frames, 1001, 3, false)
	if _, err := nc.Write(frames); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for range 202 { // replies come as they are ready: the PING's first
		f, err := r.Next()
		if err != nil {
			t.Fatalf("after %d reserves over TLS: %v", len(ids), err)
		}
		if f.Op == protocol.OpPing {
			continue
		}
		if f.ReqID == 1000 {
			if c := wire.CodeOf(wire.ReplyError(f)); c != engine.CodeUnauthorized {
				t.Fatalf("storefront restock over TLS: %s", c)
			}
			continue
		}
		var res engine.Result
		if err := protocol.DecodeResult(f.Payload, &res); err != nil || res.Code != engine.OK {
			t.Fatalf("reserve over TLS: %v %s %v", err, res.Code, wire.ReplyError(f))
		}
		ids = append(ids, res.ID)
	}
	if len(ids) != 200 {
		t.Fatalf("%d of 200 pipelined reserves answered over TLS", len(ids))
	}
	for _, id := range ids[:5] {
		want(t, op, engine.OK, onID(engine.OpGetReservation, id))
	}
	if it := getItem(t, op, "T", "S1"); it.Held != 200 || it.Stock != 1000 {
		t.Fatalf("item after TLS reserves: %+v", it)
	}

	t.Run("wrong token", func(t *testing.T) {
		nc, _, code := tlsHello(t, tlsAddr, pool, "guess")
		if code != engine.CodeUnauthorized || !cutWithin(nc, 5*time.Second) {
			t.Fatalf("wrong token over TLS: %s", code)
		}
	})
	t.Run("plaintext on the TLS port", func(t *testing.T) {
		nc := rawConnAddr(t, tlsAddr)
		_, _ = nc.Write(protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Token: operatorToken}))
		if !cutWithin(nc, 5*time.Second) {
			t.Fatal("plaintext client left open on the TLS port")
		}
	})
	t.Run("half a frame then silence", func(t *testing.T) {
		nc, _, _ := tlsHello(t, tlsAddr, pool, storefrontToken)
		cmd := reserve("T", "S1", "half", 1)
		f := protocol.AppendRequest(nil, 9, &cmd)
		_, _ = nc.Write(f[:len(f)/2])
		if !cutWithin(nc, 5*time.Second) {
			t.Fatal("half a frame over TLS not cut")
		}
	})
	t.Run("a client that never reads is cut", func(t *testing.T) {
		before := procMemKiB(t, p, "VmRSS")
		// Lists of many items: large replies fill the socket buffers fast.
		var items []engine.Command
		for i := range 300 {
			items = append(items, putItem(fmt.Sprintf("L%03d", i), "S1", 1))
		}
		if _, err := op.Batch(items); err != nil {
			t.Fatal(err)
		}
		nc, _, _ := tlsHello(t, tlsAddr, pool, operatorToken)
		get := engine.Command{Op: engine.OpListItems}
		var frames []byte
		for i := range 32 {
			frames = protocol.AppendRequest(frames, uint32(i+2), &get)
		}
		cut := false
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := nc.Write(frames); err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					cut = true
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		if !cut {
			t.Fatal("a TLS client that never reads was not cut within 20 s")
		}
		grew := procMemKiB(t, p, "VmRSS") - before
		t.Logf("RSS grew by %d KiB", grew)
		if grew > 256<<10 {
			t.Fatalf("RSS grew by %d KiB for one TLS client that never reads", grew)
		}
	})
	t.Run("the client library over TLS", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cl, err := client.Dial(ctx, []string{tlsAddr}, client.WithToken(storefrontToken),
			client.WithTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for i := range 20 {
			res, err := cl.Reserve(ctx, client.ReserveRequest{SKU: "T", Store: "S1", Customer: fmt.Sprintf("lib-%d", i)})
			if err != nil || res.ID == 0 {
				t.Fatalf("reserve %d through the client library over TLS: %+v %v", i, res, err)
			}
		}
	})
	if err := op.Ping(1); err != nil || !p.Alive() {
		t.Fatalf("gnet port after the TLS cases: %v", err)
	}
}

func rawConnAddr(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}
