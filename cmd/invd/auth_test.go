// invd's side of access: `invd hash-token` prints the SHA-256 the config
// file wants (from an argument or stdin's first line), and token lines in
// the config file land in the token set, duplicates and bad lines refused
// with their line; hash-token -h prints help instead of hashing "-h".
package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/invsys/inv/server"
)

func TestHashToken(t *testing.T) {
	const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n" // printf %s test | sha256sum
	for _, tc := range []struct {
		args  []string
		stdin string
	}{{[]string{"test"}, ""}, {nil, "test\n"}, {nil, "test"}} {
		var out bytes.Buffer
		if err := hashToken(tc.args, strings.NewReader(tc.stdin), &out); err != nil || out.String() != sum {
			t.Fatalf("%v %q: %q %v", tc.args, tc.stdin, out.String(), err)
		}
	}
	if err := hashToken(nil, strings.NewReader("\n"), &bytes.Buffer{}); err == nil {
		t.Fatal("an empty token hashed")
	}
}

func TestConfigTokens(t *testing.T) {
	h1, h2 := server.HashToken("a"), server.HashToken("b")
	c := defaultConfig()
	err := parseConfig(&c, strings.NewReader("token = operator "+h1+"\ntoken = store "+h2+" S1,S2\n"), "t.conf")
	if err != nil || len(c.Tokens) != 2 || c.Tokens[h1].Role != server.RoleOperator || len(c.Tokens[h2].Stores) != 2 {
		t.Fatalf("%+v %v", c.Tokens, err)
	}
	for _, bad := range []string{"token = operator " + h1 + "\ntoken = storefront " + h1, "token = operator a-secret-in-clear"} {
		c := defaultConfig()
		if err := parseConfig(&c, strings.NewReader(bad), "t.conf"); err == nil || !strings.Contains(err.Error(), "t.conf:") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestConfigClusterToken(t *testing.T) {
	const tok = "a-cluster-token-of-some-length"
	c := defaultConfig()
	if err := parseConfig(&c, strings.NewReader("cluster_token = "+tok+"\n"), "t.conf"); err != nil {
		t.Fatal(err)
	}
	if c.Server.ClusterToken != tok || c.Tokens[server.HashToken(tok)].Role != server.RoleOperator {
		t.Fatalf("cluster token %q, grants %+v", c.Server.ClusterToken, c.Tokens)
	}
	for _, bad := range []string{
		"cluster_token = short",
		"cluster_token = " + tok + "\ncluster_token = " + tok + "x",
		"token = storefront " + server.HashToken(tok) + "\ncluster_token = " + tok,
	} {
		c := defaultConfig()
		if err := parseConfig(&c, strings.NewReader(bad), "t.conf"); err == nil || !strings.Contains(err.Error(), "t.conf:") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// hash-token -h is help, not a token to hash.
func TestHashTokenHelp(t *testing.T) {
	var out bytes.Buffer
	err := hashToken([]string{"-h"}, strings.NewReader(""), &out)
	var help helpText
	if !errors.As(err, &help) || !strings.Contains(string(help), "usage: invd hash-token") || out.Len() != 0 {
		t.Fatalf("hash-token -h: %v, printed %q", err, out.String())
	}
	out.Reset()
	if err := hashToken([]string{"--", "-h"}, strings.NewReader(""), &out); err != nil || len(out.String()) != 65 {
		t.Fatalf("hash-token -- -h: %v %q", err, out.String())
	}
}
