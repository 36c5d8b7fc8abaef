package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/server"
)

// Tokens in the config file, one line each, kept as their SHA-256 so that a
// copy of the file does not hand out access:
//
//	token = operator   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	token = storefront 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
//	token = store      fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9 S1,S2
//
// `invd hash-token` (or `printf %s TOKEN | sha256sum`) gives the hash. On
// SIGHUP invd reads the file again and replaces its tokens (rotation);
// the other keys take effect at the next start.

// tokenKey adds one token line to the config.
func tokenKey(c *config, v string) error {
	hash, g, err := server.ParseTokenLine(v)
	if err != nil {
		return err
	}
	if c.Tokens == nil {
		c.Tokens = make(map[string]server.Grant)
	}
	if _, dup := c.Tokens[hash]; dup {
		return errors.New("the same token twice")
	}
	c.Tokens[hash] = g
	return nil
}

func floatKey(f func(c *config) *float64) setter {
	return func(c *config, v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err == nil && x < 0 {
			err = fmt.Errorf("negative %s", v)
		}
		*f(c) = x
		return err
	}
}

// clusterTokenKey sets the token the nodes of a cluster present to each
// other when one forwards a command to a shard another leads (the same
// value on every node; keep the config file private). It is accepted with
// the operator role, so that a node may run any command on any shard.
//
//	cluster_token = 3f0c…   # a long random string, e.g. openssl rand -hex 32
func clusterTokenKey(c *config, v string) error {
	if len(v) < minClusterTokenBytes || len(v) > protocol.MaxTokenBytes {
		return fmt.Errorf("cluster_token wants %d to %d bytes", minClusterTokenBytes, protocol.MaxTokenBytes)
	}
	if c.Server.ClusterToken != "" {
		return errors.New("cluster_token given twice")
	}
	hash := server.HashToken(v)
	if c.Tokens == nil {
		c.Tokens = make(map[string]server.Grant)
	}
	if _, dup := c.Tokens[hash]; dup {
		return errors.New("cluster_token is also a token line")
	}
	c.Tokens[hash] = server.Grant{Role: server.RoleOperator}
	c.Server.ClusterToken = v
	return nil
}

// minClusterTokenBytes refuses a guessable cluster token: it grants the
// operator role.
const minClusterTokenBytes = 16

// maxTokenInput bounds what hash-token reads: tokens are at most
// protocol.MaxTokenBytes; a little more shows a mistake instead of cutting.
const maxTokenInput = 4 << 10

// hashTokenUsage is invd hash-token -h.
const hashTokenUsage = `usage: invd hash-token [TOKEN]
Prints the SHA-256 of TOKEN, or of stdin's first line when there is no
argument (the token then stays out of the shell's history and the process
list), as a config file's token line wants it:
  token = ROLE SHA256 [STORES]     (docs/SECURITY.md)
A token that starts with "-" goes after "--": invd hash-token -- -T.
`

// hashToken prints the SHA-256 of the token given as the argument or, when
// there is none, of the first line of stdin (so that the token need not
// appear in the shell's history or the process list).
func hashToken(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("invd hash-token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return helpText(hashTokenUsage)
		}
		return fmt.Errorf("hash-token: %w\n%s", err, hashTokenUsage)
	}
	args = fs.Args()
	var token string
	switch len(args) {
	case 0:
		line, err := bufio.NewReader(io.LimitReader(stdin, maxTokenInput)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		token = strings.TrimRight(line, "\r\n")
	case 1:
		token = args[0]
	default:
		return errors.New(hashTokenUsage)
	}
	if token == "" {
		return errors.New("hash-token: empty token")
	}
	_, err := fmt.Fprintln(stdout, server.HashToken(token))
	return err
}

// reloadTokensOnHangup re-reads the config file's tokens on every SIGHUP
// and hands them to the server. A file that does not parse, or that would
// leave a public listener open, changes nothing.
func reloadTokensOnHangup(path string, srv *server.Server, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if path == "" {
				log.Warn("SIGHUP: no config file to reload tokens from")
				continue
			}
			c := defaultConfig()
			if err := loadConfigFile(&c, path); err != nil {
				log.Error("SIGHUP: tokens not reloaded", "error", err)
				continue
			}
			if err := srv.SetTokens(c.Tokens); err != nil {
				log.Error("SIGHUP: tokens not reloaded", "error", err)
			}
		}
	}()
}

// applyTLS loads the TLS client listener's certificate (tls_listen,
// tls_cert, tls_key: all three or none).
func applyTLS(c *config) error {
	if err := applyRaftTLS(c); err != nil {
		return err
	}
	if err := applyHTTPTLS(c); err != nil {
		return err
	}
	if c.Server.TLSListen == "" && c.TLSCert == "" && c.TLSKey == "" {
		return nil
	}
	if c.Server.TLSListen == "" || c.TLSCert == "" || c.TLSKey == "" {
		return errors.New("tls_listen, tls_cert and tls_key go together")
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	c.Server.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return nil
}

// applyHTTPTLS serves the HTTP address over TLS (http_tls_cert and
// http_tls_key: both or neither), which the console and counter pages need
// beyond loopback.
func applyHTTPTLS(c *config) error {
	if c.HTTPTLSCert == "" && c.HTTPTLSKey == "" {
		return nil
	}
	if c.HTTPTLSCert == "" || c.HTTPTLSKey == "" {
		return errors.New("http_tls_cert and http_tls_key go together")
	}
	cert, err := tls.LoadX509KeyPair(c.HTTPTLSCert, c.HTTPTLSKey)
	if err != nil {
		return fmt.Errorf("http tls: %w", err)
	}
	c.Server.HTTPTLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return nil
}

// applyRaftTLS sets up mutual TLS between nodes (raft_tls_cert,
// raft_tls_key, raft_tls_ca: all three or none). Each node presents its
// certificate and accepts only peers whose certificate the CA signed; the
// certificate must name the node's raft address (IP SAN or DNS name) and
// allow both server and client use.
func applyRaftTLS(c *config) error {
	if c.RaftTLSCert == "" && c.RaftTLSKey == "" && c.RaftTLSCA == "" {
		return nil
	}
	if c.RaftTLSCert == "" || c.RaftTLSKey == "" || c.RaftTLSCA == "" {
		return errors.New("raft_tls_cert, raft_tls_key and raft_tls_ca go together")
	}
	cert, err := tls.LoadX509KeyPair(c.RaftTLSCert, c.RaftTLSKey)
	if err != nil {
		return fmt.Errorf("raft tls: %w", err)
	}
	pem, err := os.ReadFile(c.RaftTLSCA)
	if err != nil {
		return fmt.Errorf("raft tls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("raft tls: no certificate in %s", c.RaftTLSCA)
	}
	c.Node.RaftTLS = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	return nil
}
