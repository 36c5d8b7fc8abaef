package server

import (
	"testing"

	"github.com/invsys/inv/protocol"
)

// SNAPSHOT is the operator's alone.
func TestSnapshotOperatorOnly(t *testing.T) {
	for _, g := range []Grant{{}, {Role: RoleStorefront}, {Role: RoleStore, Stores: []string{"S1"}}} {
		if g.allowsControl(protocol.OpSnapshot) {
			t.Errorf("%s may snapshot", g.Role)
		}
	}
	if g := (Grant{Role: RoleOperator}); !g.allowsControl(protocol.OpSnapshot) {
		t.Error("the operator may not snapshot")
	}
}
