// The pages' exposure rule in isolation: the console and the counter may
// be served on a loopback HTTP address always, and beyond it only with
// both tokens and TLS; the refusal names what is missing and the ways out;
// and the pages modes parse as the config file gives them.
package server

import (
	"strings"
	"testing"
)

func TestCheckPagesExposure(t *testing.T) {
	none := NewTokens(nil)
	some := NewTokens(map[string]Grant{HashToken("x"): {Role: RoleOperator}})
	for _, addr := range []string{"127.0.0.1:7421", "[::1]:7421", "localhost:7421"} {
		for _, tls := range []bool{false, true} {
			if err := CheckPagesExposure(addr, none, tls); err != nil {
				t.Errorf("%s tls=%v: %v", addr, tls, err)
			}
		}
	}
	if err := CheckPagesExposure("0.0.0.0:7421", some, true); err != nil {
		t.Errorf("tokens and TLS: %v", err)
	}
	for _, c := range []struct {
		tokens  *Tokens
		tls     bool
		missing string
	}{{none, false, "tokens and TLS"}, {none, true, "without tokens:"}, {some, false, "without TLS"}} {
		err := CheckPagesExposure("10.0.0.7:7421", c.tokens, c.tls)
		if err == nil || !strings.Contains(err.Error(), c.missing) || !strings.Contains(err.Error(), "pages = off") {
			t.Errorf("tokens=%d tls=%v: %v", c.tokens.Len(), c.tls, err)
		}
	}
}

func TestPagesModeCheck(t *testing.T) {
	for _, m := range []PagesMode{"", PagesAuto, PagesOn, PagesOff} {
		if err := m.Check(); err != nil {
			t.Errorf("%q: %v", m, err)
		}
	}
	for _, m := range []PagesMode{"yes", "ON", "true"} {
		if err := m.Check(); err == nil {
			t.Errorf("%q accepted", m)
		}
	}
}
