//go:build !failpoints

// Proves that a build without the failpoints tag ignores everything: an
// armed spec in the environment is not read, and every site runs on.
package failpoint

import "testing"

func TestOffBuildIgnoresSpecs(t *testing.T) {
	t.Setenv(EnvSpec, "raft/before-reply=error;fsm/apply=crash")
	if Enabled {
		t.Fatal("Enabled without the failpoints tag")
	}
	if err := Setup(nil); err != nil {
		t.Fatal(err)
	}
	Hit(FSMApply)
	if err := Err(RaftBeforeReply); err != nil {
		t.Errorf("Err: %v", err)
	}
}
