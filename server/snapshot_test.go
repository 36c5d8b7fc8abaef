package server

import (
	"testing"

	"github.com/invsys/inv/protocol"
)

// SNAPSHOT and STATUS are the operator's alone.
func TestSnapshotAndStatusOperatorOnly(t *testing.T) {
	for _, op := range []protocol.Op{protocol.OpSnapshot, protocol.OpStatus} {
		for _, g := range []Grant{{}, {Role: RoleStorefront}, {Role: RoleStore, Stores: []string{"S1"}}} {
			if g.allowsControl(op) {
				t.Errorf("%s may send %s", g.Role, op)
			}
		}
		if g := (Grant{Role: RoleOperator}); !g.allowsControl(op) {
			t.Errorf("the operator may not send %s", op)
		}
	}
}
