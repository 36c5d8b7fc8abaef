// Proves that the client names every code and event kind a program can
// meet: it parses the engine's declarations (engine/codes.go,
// engine/command.go) and this package's vocab.go, and fails for a code or
// kind the engine declares that vocab.go lacks, so that a new one cannot
// be added without its client name. Each alias constant must also equal
// the engine's value.
package client

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"

	"github.com/invsys/inv/engine"
)

// notForClients are declared by the engine but never reach a program:
// node-to-node codes and retired event kinds.
var notForClients = map[string]bool{
	"CodeClaimRequired": true, "CodeOutOfOrder": true,
	"EvClaimSettled": true, "EvClaimMoved": true,
}

// constsOfType returns the names of the constants of type typ declared in
// file (an explicit type on the line, as the engine writes them).
func constsOfType(t *testing.T, file, typ string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == typ {
				for _, n := range vs.Names {
					names = append(names, n.Name)
				}
			}
		}
	}
	return names
}

// declared returns every constant name vocab.go declares.
func declared(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "vocab.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.CONST {
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					out[n.Name] = true
				}
			}
		}
	}
	return out
}

func TestVocabNamesEveryCodeAndEventKind(t *testing.T) {
	have := declared(t)
	codes := constsOfType(t, "../engine/codes.go", "Code")
	kinds := constsOfType(t, "../engine/command.go", "EventKind")
	if len(codes) < 30 || len(kinds) < 20 {
		t.Fatalf("found %d codes and %d event kinds in the engine: the parse missed them", len(codes), len(kinds))
	}
	for _, name := range append(codes, kinds...) {
		want := name
		if name == "OK" {
			want = "CodeOK"
		}
		if !notForClients[name] && !have[want] {
			t.Errorf("engine declares %s; client/vocab.go has no %s", name, want)
		}
	}
	// The aliases are the engine's values, not copies that could drift.
	if CodeSoldOut != engine.CodeSoldOut || CodeDiskFull != engine.CodeDiskFull || EvHoldRefused != engine.EvHoldRefused ||
		StateReturned != engine.StateReturned || CodeOK != engine.OK {
		t.Error("a client constant differs from the engine's")
	}
}
